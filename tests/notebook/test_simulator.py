"""EventSimulator driven from Python and through its ipywidgets view (no browser)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import pydantic
import pytest

import igniter_nb as ig
from igniter_nb.notebook.simulator import CSS, DeliveryPreview, example_from_schema
from igniter_nb.stores import MemoryStore

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
NOW = dt.datetime(2026, 1, 2, 9, 0, tzinfo=dt.UTC)


class CrmPayload(pydantic.BaseModel):
    name: str
    tier: Literal["smb", "enterprise"]


class Address(pydantic.BaseModel):
    city: str
    zip_code: str | None = None


class BillingPayload(pydantic.BaseModel):
    plan: str
    mrr: int
    discount: float
    trial: bool = False
    seats: list[int]
    address: Address


class SimLead(ig.Contract):
    def define(c):
        c.correlate_by("request_id", "company_id")
        c.input("request_id")
        c.input("company_id")
        c.await_event("crm_data", event="crm_webhook_received", schema=CrmPayload)
        c.await_event("billing_data", event="billing_data_fetched", schema=BillingPayload)
        c.await_event("note", event="note_added")

        @c.compute
        def lead_name(crm_data):
            return crm_data.name

        @c.aggregate
        def report(lead_name, billing_data, note):
            return {"lead": lead_name, "plan": billing_data.plan, "note": note}

        c.output("report")


REQ1 = {"request_id": "req-1", "company_id": "co-42"}
BILLING = {"plan": "pro", "mrr": 500, "discount": 0.1, "seats": [3], "address": {"city": "Kyiv"}}


@pytest.fixture
def store():
    s = MemoryStore()
    for request_id, company_id in (("req-2", "co-42"), ("req-1", "co-42"), ("req-3", "co-7")):
        SimLead.start(request_id=request_id, company_id=company_id, store=s, now=NOW)
    return s


def footprint(store):
    """Everything a write could change: each execution's versions and its latest snapshot."""
    return {r.execution_id: (len(store.history(r.execution_id)), r.version, r.status, r.snapshot)
            for r in store.list()}


def test_payload_prefill_from_the_schema():
    assert example_from_schema(CrmPayload) == {"name": "string", "tier": "smb"}
    assert example_from_schema(BillingPayload) == {
        "plan": "string", "mrr": 0, "discount": 0.0, "trial": False, "seats": [0],
        "address": {"city": "string", "zip_code": None}}
    assert example_from_schema(None) == {}
    assert example_from_schema(int) == 0
    # the placeholder example of a model with literals validates against it
    CrmPayload.model_validate(example_from_schema(CrmPayload))


def test_select_picks_an_active_workflow_and_lists_awaited_events(store):
    sim = ig.nb.EventSimulator(SimLead, store, now=NOW)
    assert [r.correlation["request_id"] for r in sim.workflows()] == ["req-1", "req-2", "req-3"]
    assert sim.correlation == REQ1 and sim.status == "waiting"  # the first active one, keys in correlate_by order
    assert sim.awaited_events() == ["crm_webhook_received", "billing_data_fetched", "note_added"]
    assert sim.event == "crm_webhook_received" and sim.payload == {"name": "string", "tier": "smb"}
    sim.select(correlation={"request_id": "req-3", "company_id": "co-7"}, event="billing_data_fetched")
    assert sim.execution_id == store.find_by_correlation("SimLead", {"request_id": "req-3", "company_id": "co-7"})
    assert sim.payload["address"] == {"city": "string", "zip_code": None}
    sim.select(event="note_added")
    assert sim.payload == {}
    sim.select(payload='{"text": "hi"}')  # editor text is kept as typed
    assert sim.payload_text == '{"text": "hi"}' and sim.payload == {"text": "hi"}


def test_dry_run_reports_match_await_and_recompute_and_writes_nothing(store):
    sim = ig.nb.EventSimulator(SimLead, store, now=NOW)
    before = footprint(store)
    preview = sim.dry_run()
    assert isinstance(preview, DeliveryPreview) and preview.ok and preview.error is None
    assert preview.execution_id == store.find_by_correlation("SimLead", REQ1)
    assert preview.await_node == "crm_data" and preview.status_before == "waiting"
    assert preview.would_recompute == ("lead_name", "report")
    assert preview.status_after is None and preview.changes == {}
    simulated = sim.dry_run(simulate=True)
    assert simulated.status_after == "waiting"
    assert simulated.changes == {"crm_data": ("waiting", "succeeded"), "lead_name": ("waiting", "succeeded")}
    assert footprint(store) == before  # nothing written, also by the simulated delivery
    assert "nothing written" in preview.to_text() and "would recompute" in preview.to_html()
    assert set(preview._repr_mimebundle_()) == {"text/plain", "text/html"}


def test_dry_run_shows_each_validation_error_as_a_message(store):
    sim = ig.nb.EventSimulator(SimLead, store, now=NOW)
    before = footprint(store)
    sim.select(payload={"name": "Acme", "tier": "gold"})
    p = sim.dry_run()
    assert not p.ok and p.errors[0]["type"] == "PayloadValidationError" and "tier" in p.error
    sim.select(payload="{not json")
    assert sim.dry_run().errors[0]["type"] == "PayloadValidationError"
    sim.select(event="no_such_event", payload={})
    p = sim.dry_run()
    assert p.errors[0]["type"] == "AwaitedEventMismatchError" and "awaits:" in p.error
    sim.select(correlation={"request_id": "req-9", "company_id": "co-42"}, event="crm_webhook_received",
               payload={"name": "Acme", "tier": "smb"})
    p = sim.dry_run()
    assert p.execution_id is None and [e["type"] for e in p.errors] == ["WorkflowNotFoundError"]
    assert "nearest active" in p.error and "req-1" in p.error
    assert [n["correlation"]["request_id"] for n in p.errors[0]["nearest"]] in (["req-1", "req-2", "req-3"], ["req-2", "req-1", "req-3"])
    sim.select(correlation={"request_id": "req-1"})
    assert sim.dry_run().errors[0]["type"] == "WorkflowNotFoundError"
    assert sim.last_error["type"] == "WorkflowNotFoundError"
    assert footprint(store) == before


def test_deliver_updates_the_store_and_the_selection(store):
    sim = ig.nb.EventSimulator(SimLead, store, now=NOW)
    eid = sim.execution_id
    sim.select(payload={"name": "Acme", "tier": "enterprise"})
    wf = sim.deliver()
    assert wf.workflow_status == "waiting" and [s["event"] for s in wf.signals] == ["crm_webhook_received"]
    assert len(store.history(eid)) == 2
    assert sim.event == "billing_data_fetched" and sim.awaited_events() == ["billing_data_fetched", "note_added"]
    # delivering the same event again: the dry run says why, deliver raises the same error
    sim.select(event="crm_webhook_received", payload={"name": "Acme", "tier": "enterprise"})
    p = sim.dry_run()
    assert p.errors[0]["type"] == "DuplicateSignalError"
    with pytest.raises(ig.DuplicateSignalError):
        sim.deliver()
    assert sim.last_error["type"] == "DuplicateSignalError" and len(store.history(eid)) == 2
    sim.select(event="billing_data_fetched", payload=BILLING)
    sim.deliver()
    sim.select(event="note_added", payload="\"call back\"")
    assert sim.dry_run(simulate=True).status_after == "succeeded"
    wf = sim.deliver()
    assert wf.workflow_status == "succeeded" and sim.status == "succeeded"
    assert wf.result.report == {"lead": "Acme", "plan": "pro", "note": "call back"}
    assert sim.execution_id == eid and sim.awaited_events() == []  # the finished workflow stays selected
    assert [r.correlation["request_id"] for r in sim.workflows()] == ["req-2", "req-3"]


def test_idempotent_redelivery_is_previewed(store):
    sim = ig.nb.EventSimulator(SimLead, store, now=NOW)
    sim.select(payload={"name": "Acme", "tier": "smb"}, idempotency_key="evt-1")
    sim.deliver()
    sim.select(event="crm_webhook_received", payload={"name": "Acme", "tier": "smb"})
    p = sim.dry_run()
    assert p.ok and p.idempotent and p.would_recompute == ()
    assert sim.deliver().signals[0]["idempotency_key"] == "evt-1"


def test_deliver_raises_for_bad_input_and_writes_nothing(store):
    sim = ig.nb.EventSimulator(SimLead, store, now=NOW)
    before = footprint(store)
    sim.select(payload={"name": "Acme"})
    with pytest.raises(ig.PayloadValidationError):
        sim.deliver()
    sim.select(payload="[1,")
    with pytest.raises(ig.PayloadValidationError, match="not valid JSON — line 1, column 4"):
        sim.deliver()
    assert sim.last_error["type"] == "PayloadValidationError"
    assert footprint(store) == before


def test_widget_buttons_drive_the_same_logic(store):
    import ipywidgets as w

    sim = ig.nb.EventSimulator(SimLead, store, now=NOW)
    view = sim.widget
    assert isinstance(view, w.VBox) and CSS["root"] in view._dom_classes
    assert sim._view.deliver.description == "Deliver" and CSS["deliver"] in sim._view.deliver._dom_classes
    assert CSS["dry_run"] in sim._view.dry_run._dom_classes
    assert [label for label, _ in sim._view.workflow.options] == [
        "request_id=req-1, company_id=co-42 (waiting)", "request_id=req-2, company_id=co-42 (waiting)",
        "request_id=req-3, company_id=co-7 (waiting)"]
    assert sim._view.event.value == "crm_webhook_received" and '"tier": "smb"' in sim._view.payload.value
    graph_before = sim._view.graph.value
    assert graph_before.startswith("<svg") and "waiting" in sim._view.status.value

    # what a browser does: type a bad payload, dry-run → error message, nothing written
    before = footprint(store)
    sim._view.payload.value = '{"name": "Acme", "tier": "gold"}'
    sim._view.dry_run.click()
    assert "PayloadValidationError" in sim._view.message.value and footprint(store) == before
    sim._view.deliver.click()  # an error is a message, never an exception
    assert "PayloadValidationError" in sim._view.message.value and footprint(store) == before

    sim._view.payload.value = '{"name": "Acme", "tier": "enterprise"}'
    sim._view.dry_run.click()
    assert "would deliver" in sim._view.message.value and "lead_name, report" in sim._view.message.value
    sim._view.deliver.click()
    # a confirmation line: event, workflow, new status, what recomputed, what it still waits for
    assert sim._view.message.value.count("<div") == 1 and (
        "delivered crm_webhook_received to SimLead request_id=req-1, company_id=co-42: still waiting "
        "(received by crm_data; recomputed: lead_name; still waits for billing_data_fetched, note_added)"
    ) in sim._view.message.value
    assert sim._view.event.value == "billing_data_fetched"
    assert sim._view.graph.value != graph_before and "crm_webhook_received" in sim._view.diagnostics.value

    # choosing another workflow and event in the dropdowns re-selects and re-fills the payload
    req3 = store.find_by_correlation("SimLead", {"request_id": "req-3", "company_id": "co-7"})
    sim._view.workflow.value = req3
    assert sim.execution_id == req3 and sim.correlation == {"request_id": "req-3", "company_id": "co-7"}
    sim._view.event.value = "note_added"
    assert sim.event == "note_added" and sim._view.payload.value == "{}"

    sim._view.workflow.value = store.find_by_correlation("SimLead", REQ1)
    sim._view.payload.value = __import__("json").dumps(BILLING)
    sim._view.deliver.click()
    sim._view.payload.value = '"done"'
    sim._view.deliver.click()
    assert "succeeded" in sim._view.status.value and "report" in sim._view.diagnostics.value
    assert sim._view.workflow.label.endswith("(succeeded)")  # finished, still shown


def test_mimebundle_has_widget_and_static_fallback(store):
    sim = ig.nb.EventSimulator(SimLead, store, now=NOW)
    bundle = sim._repr_mimebundle_()
    assert WIDGET_MIME in bundle
    assert "EventSimulator SimLead: 3 active workflows" in bundle["text/plain"]
    html = bundle["text/html"]
    assert "EventSimulator SimLead" in html and "<svg" in html and "crm_webhook_received" in html


def test_static_output_without_ipywidgets(store, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import fails as if it were not installed
    sim = ig.nb.EventSimulator(SimLead, store, now=NOW)
    bundle = sim._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}


def test_static_html_is_deterministic(store):
    a = ig.nb.EventSimulator(SimLead, store, now=NOW)
    other = MemoryStore()
    for request_id, company_id in (("req-3", "co-7"), ("req-1", "co-42"), ("req-2", "co-42")):
        SimLead.start(request_id=request_id, company_id=company_id, store=other, now=NOW)
    b = ig.nb.EventSimulator(SimLead, other, now=NOW)
    assert a.to_html() == b.to_html() and a.to_text() == b.to_text()


def test_simulator_needs_awaits():
    class NoAwait(ig.Contract):
        def define(c):
            c.input("x")
            c.output("x")

    with pytest.raises(ValueError, match="awaits no events"):
        ig.nb.EventSimulator(NoAwait, MemoryStore())


# ----------------------------------------------------------------------------------------------- messages and hints


def test_switching_workflow_clears_a_stale_error(store):
    sim = ig.nb.EventSimulator(SimLead, store, now=NOW)
    view = sim.widget and sim._view
    view.payload.value = '{"name": "Acme", "tier": "gold"}'
    view.dry_run.click()
    assert "PayloadValidationError" in view.message.value and sim.last_error is not None
    view.workflow.value = store.find_by_correlation("SimLead", {"request_id": "req-3", "company_id": "co-7"})
    assert view.message.value == "" and sim.last_error is None and sim.last_preview is None
    view.payload.value = "nope"
    view.dry_run.click()
    assert "not valid JSON" in view.message.value
    view.event.value = "note_added"  # another event: the old error no longer applies either
    assert view.message.value == ""


def test_a_json_error_names_the_line_column_and_field(store):
    sim = ig.nb.EventSimulator(SimLead, store, now=NOW)
    view = sim.widget and sim._view
    view.payload.value = '{\n  "name": "Acme",\n  "tier": \n}'
    view.dry_run.click()
    message = view.message.value
    assert 'line 4, column 1 (value of &quot;tier&quot;): expected a value' in message
    assert "4 | }" in message and "\n    ^" in message  # the line itself, a caret under the spot
    with pytest.raises(ig.PayloadValidationError, match=r'line 2, column 3 \(after "a"\): expected a field name'):
        sim.select(payload='{"a": 1,\n  }').deliver()


def test_deliver_reports_what_it_did(store):
    sim = ig.nb.EventSimulator(SimLead, store, now=NOW)
    sim.select(correlation=REQ1, event="crm_webhook_received", payload={"name": "Acme", "tier": "smb"})
    sim.deliver()
    receipt = sim.last_delivery
    assert receipt.event == "crm_webhook_received" and receipt.await_node == "crm_data"
    assert (receipt.status_before, receipt.status_after) == ("waiting", "waiting")
    assert receipt.recomputed == ("lead_name",) and receipt.waiting_for == ("billing_data_fetched", "note_added")
    sim.select(event="billing_data_fetched", payload=BILLING).deliver()
    sim.select(event="note_added", payload='"hi"').deliver()
    done = sim.last_delivery
    assert (done.status_before, done.status_after, done.recomputed) == ("waiting", "succeeded", ("report",))
    assert "waiting → succeeded" in done.to_text() and done.to_dict()["recomputed"] == ["report"]


class SimApproval(ig.Contract):
    def define(c):
        c.correlate_by("order_id")
        c.input("order_id", type=str)
        c.await_event("approval", event="manager_approved")

        @c.compute
        def decision(approval):
            return "approved" if approval["ok"] else f"rejected by {approval.get('by')}"

        c.output("decision")


def test_an_event_without_a_schema_gets_a_hint_of_what_to_send():
    s = MemoryStore()
    SimApproval.start(order_id="A-1", store=s, now=NOW)
    sim = ig.nb.EventSimulator(SimApproval, s, now=NOW)
    assert sim.payload == {"ok": None, "by": None}  # the keys `decision` reads, to fill in
    hint = sim.payload_hint()
    assert "no schema" in hint and "decision reads approval['ok'], approval['by']" in hint
    view = sim.widget and sim._view
    assert "decision reads" in view.hint.value and "decision reads" in sim.to_html()
    lead = ig.nb.EventSimulator(SimLead, MemoryStore(), now=NOW)
    assert "any JSON value is accepted" in lead.payload_hint("note_added")
    assert lead.payload_hint("crm_webhook_received") is None  # a schema: the example says it all


def test_deliver_is_off_for_a_finished_workflow(store):
    sim = ig.nb.EventSimulator(SimLead, store, now=NOW)
    view = sim.widget and sim._view
    assert not view.deliver.disabled and sim.deliver_blocked is None
    sim.select(correlation=REQ1, event="crm_webhook_received", payload={"name": "A", "tier": "smb"}).deliver()
    sim.select(event="billing_data_fetched", payload=BILLING).deliver()
    sim.select(event="note_added", payload='"x"').deliver()
    assert sim.status == "succeeded" and view.deliver.disabled
    assert "has succeeded" in sim.deliver_blocked and "has succeeded" in view.hint.value
    view.workflow.value = store.find_by_correlation("SimLead", {"request_id": "req-2", "company_id": "co-42"})
    assert not view.deliver.disabled and view.hint.value == ""


def test_the_widget_opens_without_a_dry_run_made_from_python(store):
    sim = ig.nb.EventSimulator(SimLead, store, now=NOW)
    sim.select(payload={"name": "Acme", "tier": "smb"})
    assert sim.dry_run().ok
    bundle = sim._repr_mimebundle_()
    assert sim._view.message.value == "" and "Dry run" not in bundle["text/html"]
    sim._view.dry_run.click()  # the view's own dry run is shown in it ...
    assert "would deliver" in sim._view.message.value
    sim._repr_mimebundle_()  # ... until it is displayed again
    assert sim._view.message.value == ""


@pytest.mark.parametrize(("payload", "where"), [
    (object(), "payload is a object"),
    ({"name": "A", "tags": [1, {2, 3}]}, "payload['tags'][1] is a set"),
    ({1: "x"}, "payload has a key 1 of type int"),
])
def test_select_refuses_a_payload_that_is_not_json_data(store, payload, where):
    sim = ig.nb.EventSimulator(SimLead, store, now=NOW)
    before = (sim.execution_id, sim.event, sim.payload_text)
    with pytest.raises(ig.PayloadValidationError, match="must be JSON data") as caught:
        sim.select(payload=payload)
    assert where in str(caught.value) and isinstance(caught.value, ig.IgniterError)
    assert (sim.execution_id, sim.event, sim.payload_text) == before


def test_select_refuses_arguments_of_the_wrong_type(store):
    sim = ig.nb.EventSimulator(SimLead, store, now=NOW)
    with pytest.raises(TypeError, match="correlation"):
        sim.select(correlation=42)
    with pytest.raises(TypeError, match="idempotency_key"):
        sim.select(idempotency_key=7)
    deep: list = []
    for _ in range(300):
        deep = [deep]
    with pytest.raises(ig.PayloadValidationError, match="nested more than"):
        sim.select(payload=deep)


def test_changing_only_the_payload_keeps_the_chosen_event(store):
    sim = ig.nb.EventSimulator(SimLead, store, now=NOW)
    crm = {"name": "Acme", "tier": "smb"}
    sim.select(correlation=REQ1, event="crm_webhook_received", payload=crm, idempotency_key="crm-1").deliver()
    assert sim.event == "billing_data_fetched"  # after a delivery: the next awaited event
    sim.select(event="crm_webhook_received")  # deliver it again, as a notebook run twice would
    sim.select(payload=crm)
    assert sim.event == "crm_webhook_received"
    assert sim.dry_run().idempotent
    before = footprint(store)
    sim.deliver()
    assert sim.last_delivery.idempotent and "nothing changed" in sim.last_delivery.to_text()
    assert footprint(store) == before
