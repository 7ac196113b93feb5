"""The EventSimulator and its payload editor under a hostile user: idempotency keys reused, a workflow of another
graph picked, the store changing underneath, editor text that Python's json accepts but JSON does not, a store
with many active workflows. Real stores (memory, an SQLite file); each case is what a user can type."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from contracts import ApprovalContract

import igniter_nb as ig
from igniter_nb.stores import MemoryStore, SQLStore
from tests.notebook.service_contracts import SvcLead

NOW = dt.datetime(2026, 1, 2, 9, 0, tzinfo=dt.UTC)
R1 = {"request_id": "r-1"}


@pytest.fixture(params=["memory", "sqlite"])
def store(request: Any, tmp_path: Path) -> Any:
    if request.param == "memory":
        yield MemoryStore()
        return
    with SQLStore(f"sqlite:///{tmp_path / 'sim.db'}") as opened:
        yield opened


def footprint(store: Any) -> dict[str, Any]:
    return {r.execution_id: (r.version, r.status, r.snapshot) for r in store.list()}


def outcome(sim: Any) -> str | None:
    """The error type ``deliver`` raises (None when it delivers)."""
    try:
        sim.deliver()
    except Exception as exc:
        return type(exc).__name__
    return None


# ------------------------------------------------------------------ dry run and deliver agree


@pytest.mark.parametrize(("event", "payload"), [
    ("crm_received", {"name": "B"}),  # the same key, another payload: a retry must send the same payload
    ("billing_ready", {"x": 1}),  # the same key for another event
])
def test_dry_run_refuses_a_reused_idempotency_key_as_deliver_does(store: Any, event: str, payload: Any) -> None:
    SvcLead.start(R1, store=store, now=NOW)
    sim = ig.nb.EventSimulator(SvcLead, store, now=NOW)
    sim.select(correlation=R1, event="crm_received", payload={"name": "A"}, idempotency_key="k-1").deliver()
    sim.select(correlation=R1, event=event, payload=payload, idempotency_key="k-1")
    before = footprint(store)
    preview = sim.dry_run()
    assert not preview.ok and not preview.idempotent
    assert [(e["type"], e["check"]) for e in preview.errors] == [("IdempotencyConflictError", "workflow")]
    assert footprint(store) == before
    assert outcome(sim) == "IdempotencyConflictError" == sim.last_error["type"]
    assert footprint(store) == before


def test_a_true_retry_is_still_previewed_as_idempotent(store: Any) -> None:
    SvcLead.start(R1, store=store, now=NOW)
    sim = ig.nb.EventSimulator(SvcLead, store, now=NOW)
    sim.select(correlation=R1, event="crm_received", payload={"name": "A"}, idempotency_key="k-1").deliver()
    # the same key and payload, key order and a default spelled out: the same payload once validated
    sim.select(correlation=R1, event="crm_received", payload={"tier": "smb", "name": "A"}, idempotency_key="k-1")
    preview = sim.dry_run()
    assert preview.ok and preview.idempotent
    assert outcome(sim) is None and sim.last_delivery.idempotent


def test_dry_run_of_a_late_duplicate_to_a_finished_workflow_says_what_deliver_says(store: Any) -> None:
    SvcLead.start(R1, store=store, now=NOW)
    sim = ig.nb.EventSimulator(SvcLead, store, now=NOW)
    sim.select(correlation=R1, event="crm_received", payload={"name": "A"}).deliver()
    sim.select(event="billing_ready", payload=1).deliver()
    assert sim.status == "succeeded"
    sim.select(correlation=R1, event="billing_ready", payload=1)  # delivered again, no key: a duplicate
    preview = sim.dry_run()
    assert [e["type"] for e in preview.errors] == ["DuplicateSignalError"]
    assert outcome(sim) == "DuplicateSignalError"


def test_a_blank_idempotency_key_is_refused_up_front_and_by_the_dry_run(store: Any) -> None:
    from igniter_nb.notebook.dry_run import preview_delivery

    SvcLead.start(R1, store=store, now=NOW)
    sim = ig.nb.EventSimulator(SvcLead, store, now=NOW)
    sim.select(correlation=R1, event="crm_received", payload={"name": "A"}, idempotency_key="k-1")
    with pytest.raises(ig.errors.WorkflowArgumentError, match="idempotency_key"):
        sim.select(payload={"name": "B"}, idempotency_key="   ")  # deliver_event would refuse it
    assert sim.idempotency_key == "k-1" and sim.payload == {"name": "A"}  # nothing changed
    # the server's dry-run route hands any key to preview_delivery: it says what deliver would
    preview = preview_delivery(SvcLead, store, event="crm_received", correlation=R1, payload={"name": "A"},
                               idempotency_key="   ")
    assert [(e["type"], e["check"]) for e in preview.errors] == [("WorkflowArgumentError", "workflow")]
    with pytest.raises(ig.errors.WorkflowArgumentError):
        SvcLead.deliver_event("crm_received", correlation=R1, payload={"name": "A"}, store=store,
                              idempotency_key="   ", now=NOW)


# ------------------------------------------------------------------ choosing a workflow that is not there


def test_picking_an_execution_of_another_graph_is_refused_and_changes_nothing(store: Any) -> None:
    SvcLead.start(R1, store=store, now=NOW)
    other = ApprovalContract.start({"order_id": "o-1", "order_total": 10}, store=store, now=NOW)
    sim = ig.nb.EventSimulator(SvcLead, store, now=NOW)
    chosen = (sim.execution_id, dict(sim.correlation), sim.event, sim.payload_text)
    with pytest.raises(ig.WorkflowNotFoundError, match="of graph ApprovalContract, not a SvcLead workflow"):
        sim.select(execution_id=other.execution_id)
    assert (sim.execution_id, sim.correlation, sim.event, sim.payload_text) == chosen
    # still usable: the next selection works (it raised SnapshotEncodingError for ever after)
    assert sim.select(payload={"name": "A"}).dry_run().ok
    sim.widget  # noqa: B018 - an error in the widget is a message, never a dead simulator
    sim._view._on_workflow({"new": other.execution_id})
    assert "WorkflowNotFoundError" in sim._view.message.value and sim.select().execution_id == chosen[0]


def test_a_selected_workflow_deleted_underneath_leaves_a_usable_simulator(store: Any) -> None:
    wf = SvcLead.start(R1, store=store, now=NOW)
    sim = ig.nb.EventSimulator(SvcLead, store, now=NOW)
    assert sim.execution_id == wf.execution_id
    store.delete(wf.execution_id)  # another process cleans up
    sim.select(event="crm_received", payload={"name": "A"})  # raised SnapshotNotFoundError, every time
    assert sim.execution_id is None and sim.correlation == R1
    assert [e["type"] for e in sim.dry_run().errors] == ["WorkflowNotFoundError"]


def test_a_refused_delivery_shows_the_workflow_as_the_store_has_it_now(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'moved.db'}"
    with SQLStore(url) as store, SQLStore(url) as elsewhere:
        SvcLead.start(R1, store=store, now=NOW)
        sim = ig.nb.EventSimulator(SvcLead, store, now=NOW)
        sim.widget  # noqa: B018 - the view is drawn
        sim.select(correlation=R1, event="crm_received", payload={"name": "A"})
        assert sim.dry_run().ok
        SvcLead.deliver_event("crm_received", correlation=R1, payload={"name": "B"}, store=elsewhere, now=NOW)
        sim._view._click_deliver()  # between the dry run and the click another process delivered
        assert "DuplicateSignalError" in sim._view.message.value
        # the simulator shows the store's state, not the one it read before: crm received, billing still awaited
        assert sim.awaited_events() == ["billing_ready"]
        assert str(sim.contract.execution.states["crm"].status) == "succeeded"
        assert "waiting for event crm_received" not in sim._view.graph.value


# ------------------------------------------------------------------ the payload editor reads JSON, not Python's json


@pytest.mark.parametrize(("text", "said"), [
    ('{"name": NaN}', 'line 1, column 10 (value of "name"): NaN is not JSON'),
    ('{"name": "A",\n "tier": -Infinity}', 'line 2, column 10 (value of "tier"): -Infinity is not JSON'),
    ('{"name": 1e999}', "the number 1e999 is too large for a float"),
    ('{"name": "A", "name": "B"}', 'the field "name" appears twice in payload'),
    ('{"name": ' + "9" * 5000 + "}", "a number has more digits than Python reads"),
])
def test_editor_text_json_does_not_allow_is_a_payload_error_in_the_dry_run(text: str, said: str) -> None:
    store = MemoryStore()
    SvcLead.start(R1, store=store, now=NOW)
    sim = ig.nb.EventSimulator(SvcLead, store, now=NOW).select(correlation=R1, event="crm_received", payload=text)
    with pytest.raises(ig.PayloadValidationError, match="payload is not valid JSON") as caught:
        sim.payload  # noqa: B018
    assert said in caught.value.message
    preview = sim.dry_run()  # a big number raised a bare ValueError here; NaN and repeats passed as valid
    assert [(e["type"], e["check"]) for e in preview.errors] == [("PayloadValidationError", "payload")]
    assert outcome(sim) == "PayloadValidationError" and len(store.history(sim.execution_id)) == 1


@pytest.mark.parametrize(("value", "said"), [
    ({"name": float("nan")}, "payload['name'] is nan (JSON has no NaN or Infinity)"),
    ({"name": [float("-inf")]}, "payload['name'][0] is -inf"),
    ({"name": 10 ** 5000}, "payload has a number with too many digits"),
])
def test_a_python_payload_json_cannot_hold_is_refused_by_select(value: Any, said: str) -> None:
    store = MemoryStore()
    SvcLead.start(R1, store=store, now=NOW)
    sim = ig.nb.EventSimulator(SvcLead, store, now=NOW)
    text = sim.payload_text
    with pytest.raises(ig.PayloadValidationError) as caught:
        sim.select(payload=value)  # a big int raised a bare ValueError; NaN became editor text "NaN"
    assert said in caught.value.message and sim.payload_text == text


def test_a_json_error_on_a_huge_line_shows_a_window_of_it() -> None:
    from igniter_nb.notebook.payload_editor import read_payload_text

    text = '{"name": "' + "x" * 1_000_000 + '", oops}'
    with pytest.raises(ig.PayloadValidationError) as caught:
        read_payload_text(text)
    message = caught.value.message
    assert len(message) < 600 and "line 1, column 1000014" in message  # the message held the whole megabyte
    shown, caret = message.splitlines()[1:3]
    assert shown[caret.index("^")] == "o"  # the caret still points at the spot


# ------------------------------------------------------------------ many workflows


def test_the_static_view_of_a_store_with_many_active_workflows_stays_small() -> None:
    store = MemoryStore()
    for i in range(57):
        SvcLead.start({"request_id": f"r-{i:04d}"}, store=store, now=NOW)
    sim = ig.nb.EventSimulator(SvcLead, store, now=NOW)
    html = sim.to_html()  # the text/html of its bundle
    assert html.count("request_id=r-") == 50 + 1  # 50 rows of the table, and the selected one's heading
    assert "… 7 more rows" in html  # every one was listed: 880 KB of output for 2,000 workflows
    assert len(sim.workflows()) == 57  # the object still sees them all


# ------------------------------------------------------------------ over HTTP: a payload the server cannot take


def test_dry_run_over_http_reports_a_payload_the_server_cannot_take(service: Any) -> None:
    _, store, client = service
    eid = client.execute("lead", inputs=R1)["execution_id"]
    sim = ig.nb.EventSimulator(SvcLead, client).select(correlation=R1, event="crm_received")
    for payload, said in (
        ({"name": "x" * 1_000_001}, "request body is larger than the limit"),  # 413
        ('{"name": "A", "deep": ' + "[" * 80 + "]" * 80 + "}", "nests deeper than 64 levels"),  # 400
        ('{"name": "\\ud800"}', "unpaired surrogate"),  # the client cannot send it
    ):
        preview = sim.select(payload=payload).dry_run()  # raised RemoteError (413, 400) or ValueError
        assert [(e["type"], e["check"]) for e in preview.errors] == [("PayloadValidationError", "payload")]
        assert said in preview.errors[0]["message"] and sim.last_error == preview.errors[0]
        assert preview.execution_id == eid and preview.await_node == "crm"  # the server checked the rest
        with pytest.raises((ig.server.RemoteError, ValueError)):
            sim.deliver()  # deliver raises what the client raises
    assert len(store.history(eid)) == 1


def test_an_instance_given_for_the_workflow_class_is_refused_by_name(store: Any) -> None:
    # EventSimulator(instance, store) went on: an instance answers compiled_graph() as its class does
    instance = SvcLead.start(R1, store=store, now=NOW)
    before = footprint(store)
    with pytest.raises(ig.NotAContractClassError, match=r"^EventSimulator needs a contract class \(a subclass of "
                                                        r"ig.Contract\), got an instance of SvcLead \(.*\); pass "
                                                        r"the class SvcLead itself") as info:
        ig.nb.EventSimulator(instance, store, now=NOW)
    assert isinstance(info.value, TypeError)
    assert info.value.context == {"argument": "contract", "given": "SvcLead"}
    with pytest.raises(ig.NotAContractClassError, match=r"got str 'SvcLead'$"):
        ig.nb.EventSimulator("SvcLead", store, now=NOW)
    assert footprint(store) == before
