"""Deploys that change a graph while workflows wait (issue 11 point 5, PRODUCT §8): stored workflows restore into
the current graph, a removed or renamed await is a ``GraphChangedError`` naming it (never a codec error),
``cancel`` and ``expire_due`` always work, and ``Contract.migrate`` moves stored workflows onto the new graph."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore, StoredExecution

T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
CORR = {"lead": "L-1"}


def version_1() -> Any:
    class Onboarding(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.compute("greeting", depends_on=["lead"], call=lambda lead: f"hello {lead}")
            c.await_event("crm", event="crm_received", timeout=60)
            c.await_event("billing", event="billing_received")
            c.compute("report", depends_on=["crm", "billing"], call=lambda crm, billing: {**crm, **billing})
            c.output("greeting")
            c.output("report")

    return Onboarding


def version_2_renamed() -> Any:
    """``crm`` is now ``crm_data`` (same event); ``greeting`` is gone; ``score`` is new."""

    class Onboarding(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.await_event("crm_data", event="crm_received", timeout=60)
            c.await_event("billing", event="billing_received")
            c.compute("report", depends_on=["crm_data", "billing"], call=lambda crm_data, billing: {**crm_data, **billing})
            c.compute("score", depends_on=["billing"], call=lambda billing: billing["mrr"] // 10)
            c.output("report")
            c.output("score")

    return Onboarding


def version_2_without_crm() -> Any:
    class Onboarding(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.await_event("billing", event="billing_received")
            c.compute("report", depends_on=["billing"], call=lambda billing: dict(billing))
            c.output("report")

    return Onboarding


@pytest.fixture
def store() -> Any:
    return MemoryStore()


def test_added_nodes_are_unresolved_and_removed_ones_dropped_with_a_graph_changed_event(store):
    wf = version_1().start(CORR, store=store, now=T0)
    v2 = version_2_renamed()
    restored = v2.restore_from_store(wf.execution_id, store=store)
    changed = [e for e in restored.events if e.type == "graph_changed"]
    assert len(changed) == 1
    assert changed[0].payload["removed"] == ["greeting", "crm"]
    assert changed[0].payload["removed_awaits"] == [{"node": "crm", "event": "crm_received"}]
    states = restored.execution.states
    assert "greeting" not in states and "crm" not in states and "score" not in states  # added: unresolved
    assert restored.plan().to_dict()  # the plan of the new graph works on it


def test_a_renamed_await_is_a_graph_changed_error_naming_it_and_writes_nothing(store):
    wf = version_1().start(CORR, store=store, now=T0)
    before = store.history(wf.execution_id)
    v2 = version_2_renamed()
    with pytest.raises(ig.GraphChangedError, match=r"awaits event 'crm_received' as 'crm', which the current graph no "
                                                   r"longer has \(it awaits 'crm_received' as 'crm_data' now\).*"
                                                   r"Onboarding\.migrate\(store, rename=\{'crm': 'crm_data'\}\)") as info:
        v2.deliver_event("crm_received", correlation=CORR, payload={"name": "Acme"}, store=store, now=T0)
    assert info.value.context["node"] == "crm" and info.value.context["execution_id"] == wf.execution_id
    assert store.history(wf.execution_id) == before
    # other events still go through: the workflow runs on in the new graph
    done = v2.deliver_event("billing_received", correlation=CORR, payload={"mrr": 500}, store=store, now=T0)
    assert done.workflow_status == "waiting" and done.result.score == 50


def test_a_removed_await_is_a_graph_changed_error_for_its_event(store):
    wf = version_1().start(CORR, store=store, now=T0)
    v2 = version_2_without_crm()
    with pytest.raises(ig.GraphChangedError, match=r"waits for event 'crm_received' at await 'crm', which the current "
                                                   r"graph no longer has.*Onboarding\.cancel"):
        v2.deliver_event("crm_received", correlation=CORR, payload={"name": "Acme"}, store=store, now=T0)
    with pytest.raises(ig.AwaitedEventMismatchError, match="does not await event 'never_awaited'"):
        v2.deliver_event("never_awaited", correlation=CORR, payload={}, store=store, now=T0)
    done = v2.deliver_event("billing_received", correlation=CORR, payload={"mrr": 5}, store=store, now=T0)
    assert done.workflow_status == "succeeded" and done.result.report == {"mrr": 5}
    assert store.record(wf.execution_id).status == "succeeded"


def test_migrate_renames_nodes_keeping_state_and_signals_and_is_idempotent(store):
    v1 = version_1()
    wf = v1.start(CORR, store=store, now=T0)
    v1.deliver_event("crm_received", correlation=CORR, payload={"name": "Acme"}, store=store, idempotency_key="c-1",
                     now=T0)
    v2 = version_2_renamed()
    dry = v2.migrate(store, rename={"crm": "crm_data"}, dry_run=True, now=T0)
    assert [e.action for e in dry.executions] == ["would migrate"] and store.record(wf.execution_id).version == 2
    report = v2.migrate(store, rename={"crm": "crm_data"}, now=T0)
    assert [(e.execution_id, e.action, e.renamed, e.dropped) for e in report.executions] == [
        (wf.execution_id, "migrated", {"crm": "crm_data"}, ("greeting",))]
    assert report.failed == [] and report.stranded == []
    stored = store.fetch(wf.execution_id)
    assert stored["states"]["crm_data"]["status"] == "succeeded" and "crm" not in stored["states"]
    assert [s["node"] for s in stored["workflow"]["signals"]] == ["crm_data"]
    assert stored["workflow"]["awaits"] == {"crm_data": "crm_received", "billing": "billing_received"}
    assert stored["workflow"]["deadlines"] == {"crm_data": "2030-01-01T12:01:00Z"}
    assert any(e["type"] == "workflow_migrated" for e in stored["events"])
    versions = store.record(wf.execution_id).version
    again = v2.migrate(store, rename={"crm": "crm_data"}, now=T0)
    assert [e.action for e in again.executions] == ["unchanged"] and store.record(wf.execution_id).version == versions
    # the renamed await kept its signal: the webhook's retry is idempotent, and the workflow completes
    retry = v2.deliver_event("crm_received", correlation=CORR, payload={"name": "Acme"}, store=store,
                             idempotency_key="c-1", now=T0)
    assert store.record(retry.execution_id).version == versions
    done = v2.deliver_event("billing_received", correlation=CORR, payload={"mrr": 500}, store=store, now=T0)
    assert done.workflow_status == "succeeded" and done.result.report == {"name": "Acme", "mrr": 500}


def test_migrate_reports_workflows_stranded_on_a_removed_await(store):
    wf = version_1().start(CORR, store=store, now=T0)
    report = version_2_without_crm().migrate(store, now=T0)
    (entry,) = report.executions
    assert entry.action == "migrated" and entry.removed_awaits == {"crm": "crm_received"}
    assert report.stranded == [entry] and "stranded 1" in repr(report)
    assert store.fetch(wf.execution_id)["workflow"]["awaits"] == {"billing": "billing_received"}


def test_migrate_rejects_renames_that_do_not_fit_the_graph(store):
    v2 = version_2_renamed()
    with pytest.raises(ig.WorkflowArgumentError, match="has no node 'nope'"):
        v2.migrate(store, rename={"crm": "nope"})
    with pytest.raises(ig.WorkflowArgumentError, match="still has a node 'billing'"):
        v2.migrate(store, rename={"billing": "crm_data"})
    with pytest.raises(ig.WorkflowArgumentError, match="must map old node names"):
        v2.migrate(store, rename={"crm": 7})


def test_cancel_and_expire_due_work_after_the_graph_changed(store):
    version_1().start(CORR, store=store, now=T0)
    version_1().start({"lead": "L-2"}, store=store, now=T0)
    v2 = version_2_without_crm()
    cancelled = v2.cancel(correlation=CORR, store=store, now=T0)
    assert cancelled.workflow_status == "cancelled" and store.find_by_correlation("Onboarding", CORR) is None
    v2.start(CORR, store=store, now=T0)  # the correlation is free again
    # L-2's deadline belonged to an await the current graphs do not have: it cannot time out...
    assert v2.expire_due(store, now=T0 + dt.timedelta(hours=1)) == []
    v_renamed = version_2_renamed()
    assert v_renamed.expire_due(store, now=T0 + dt.timedelta(hours=1)) == []
    # ... until a migration says which await it is now: then its stored deadline holds
    v_renamed.migrate(store, rename={"crm": "crm_data"}, now=T0)
    (expired,) = v_renamed.expire_due(store, now=T0 + dt.timedelta(hours=1))
    assert expired.inputs["lead"] == "L-2"
    assert expired.workflow_status == "timed_out"
    assert "did not arrive within 60s (deadline 2030-01-01T12:01:00Z)" in str(expired.result.errors["crm_data"])


def test_cancel_and_expire_due_act_on_a_stored_workflow_that_no_longer_restores(store):
    v1 = version_1()
    wf = v1.start(CORR, store=store, now=T0)
    late = v1.start({"lead": "L-2"}, store=store, now=T0)
    for eid in (wf.execution_id, late.execution_id):  # e.g. hand-edited: a state no graph can read
        record = store.record(eid)
        record.snapshot["states"]["lead"]["status"] = "corrupted"
        store.save(record.snapshot, expected_version=record.version)
    with pytest.raises(ig.SnapshotEncodingError, match=r"states\.lead is malformed"):
        v1.restore_from_store(wf.execution_id, store=store)
    cancelled = v1.cancel(correlation=CORR, store=store, reason="cleanup", now=T0)
    assert isinstance(cancelled, StoredExecution) and cancelled.status == "cancelled"
    assert cancelled.snapshot["workflow"]["cancelled"] == {"at": "2030-01-01T12:00:00Z", "reason": "cleanup"}
    last = cancelled.snapshot["events"][-1]
    assert last["type"] == "workflow_cancelled" and "states.lead is malformed" in last["payload"]["unrestorable"]
    assert store.find_by_correlation("Onboarding", CORR) is None
    v1.start(CORR, store=store, now=T0 + dt.timedelta(hours=1))  # no longer locked (its deadline is later)
    (expired,) = v1.expire_due(store, now=T0 + dt.timedelta(minutes=1))
    assert isinstance(expired, StoredExecution) and expired.execution_id == late.execution_id
    assert expired.status == "timed_out" and expired.snapshot["events"][-1]["payload"]["awaits"] == ["crm"]


def test_a_record_of_another_execution_is_never_acted_on_from_the_record(store):
    v1 = version_1()
    a = v1.start(CORR, store=store, now=T0)
    b = v1.start({"lead": "L-2"}, store=store, now=T0)
    record = store.record(a.execution_id)
    other = store.fetch(b.execution_id)
    store._executions[a.execution_id][-1] = store._executions[b.execution_id][-1]  # a hand-made mix-up
    assert store.fetch(a.execution_id) == other
    with pytest.raises(ig.SnapshotEncodingError, match="holds a snapshot of execution"):
        v1.cancel(correlation=CORR, store=store, now=T0)
    assert store.record(b.execution_id).status == "waiting" and record.version == 1


def version_2_crm_computed() -> Any:
    """``crm`` is no longer awaited: a compute of the same name fills it."""

    class Onboarding(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.compute("crm", depends_on=["lead"], call=lambda lead: {"name": f"from-crm-service-{lead}"})
            c.await_event("billing", event="billing_received")
            c.compute("report", depends_on=["crm", "billing"], call=lambda crm, billing: {**crm, **billing})
            c.output("report")

    return Onboarding


def version_2_greeting_awaited() -> Any:
    """``greeting`` (a compute in version 1) is now awaited from a person."""

    class Onboarding(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.await_event("greeting", event="greeting_written")
            c.await_event("crm", event="crm_received", timeout=60)
            c.await_event("billing", event="billing_received")
            c.compute("report", depends_on=["crm", "billing"], call=lambda crm, billing: {**crm, **billing})
            c.output("greeting")
            c.output("report")

    return Onboarding


def test_an_await_that_became_a_compute_resolves_instead_of_waiting_for_ever(store):
    # the stored `waiting` state of the old await was kept: nothing could ever resolve it, so the workflow stayed
    # `waiting` with nothing left to deliver, even after its output was computed
    wf = version_1().start(CORR, store=store, now=T0)
    v2 = version_2_crm_computed()
    restored = v2.restore_from_store(wf.execution_id, store=store)
    (changed,) = [e for e in restored.events if e.type == "graph_changed"]
    assert "crm" in changed.payload["removed"]
    assert changed.payload["removed_awaits"] == [{"node": "crm", "event": "crm_received"}]
    done = v2.deliver_event("billing_received", correlation=CORR, payload={"mrr": 5}, store=store, now=T0)
    assert done.workflow_status == "succeeded"
    assert done.result.report == {"name": "from-crm-service-L-1", "mrr": 5}
    assert store.record(wf.execution_id).status == "succeeded"


def test_a_delivered_await_that_became_a_compute_keeps_its_value(store):
    v1 = version_1()
    wf = v1.start(CORR, store=store, now=T0)
    v1.deliver_event("crm_received", correlation=CORR, payload={"name": "Acme"}, store=store, now=T0)
    v2 = version_2_crm_computed()
    with pytest.raises(ig.GraphChangedError, match="await 'crm'"):  # its event is no longer awaited by `crm`
        v2.deliver_event("crm_received", correlation=CORR, payload={"name": "Acme"}, store=store, now=T0)
    done = v2.deliver_event("billing_received", correlation=CORR, payload={"mrr": 5}, store=store, now=T0)
    assert done.workflow_status == "succeeded" and done.result.report == {"name": "Acme", "mrr": 5}  # kept, as values are
    assert [s["node"] for s in done.signals] == ["crm", "billing"]  # the log keeps what arrived
    assert store.record(wf.execution_id).status == "succeeded"


def test_a_compute_that_became_an_await_waits_for_its_event(store):
    # the computed value was kept as if delivered: the await was `succeeded` without its event, and delivering
    # the event raised a bare ResolutionError ("Node 'greeting' is not pending")
    wf = version_1().start(CORR, store=store, now=T0)
    assert wf.result.greeting == "hello L-1"
    v2 = version_2_greeting_awaited()
    restored = v2.restore_from_store(wf.execution_id, store=store)
    assert "greeting" not in restored.execution.states  # unresolved: it waits for its event once resolved
    written = v2.deliver_event("greeting_written", correlation=CORR, payload="Dear L-1", store=store, now=T0)
    assert written.workflow_status == "waiting" and written.result.greeting == "Dear L-1"
    v2.deliver_event("crm_received", correlation=CORR, payload={"name": "Acme"}, store=store, now=T0)
    done = v2.deliver_event("billing_received", correlation=CORR, payload={"mrr": 5}, store=store, now=T0)
    assert done.workflow_status == "succeeded" and done.result.greeting == "Dear L-1"


def test_migrate_records_a_change_of_node_kind_once(store):
    wf = version_1().start(CORR, store=store, now=T0)
    v2 = version_2_crm_computed()
    (entry,) = v2.migrate(store, now=T0).executions
    assert entry.action == "migrated" and "crm" in entry.dropped and entry.status == "waiting"
    assert store.fetch(wf.execution_id)["workflow"]["awaits"] == {"billing": "billing_received"}
    assert [e.action for e in v2.migrate(store, now=T0).executions] == ["unchanged"]
    done = v2.deliver_event("billing_received", correlation=CORR, payload={"mrr": 5}, store=store, now=T0)
    assert done.workflow_status == "succeeded"


def version_2_crm_event_renamed() -> Any:
    """``crm`` now awaits ``crm_synced`` instead of ``crm_received``."""

    class Onboarding(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.await_event("crm", event="crm_synced")
            c.await_event("billing", event="billing_received")
            c.compute("report", depends_on=["crm", "billing"], call=lambda crm, billing: {**crm, **billing})
            c.output("report")

    return Onboarding


def test_a_duplicate_of_an_await_whose_event_changed_names_the_event_that_satisfied_it(store):
    # the message said "event 'crm_synced' was already delivered" although only crm_received ever was
    v1 = version_1()
    wf = v1.start(CORR, store=store, now=T0)
    v1.deliver_event("crm_received", correlation=CORR, payload={"name": "Acme"}, store=store, idempotency_key="c-1",
                     now=T0)
    v2 = version_2_crm_event_renamed()
    with pytest.raises(ig.DuplicateSignalError, match=r"await 'crm' of Onboarding .* was already satisfied by event "
                                                      r"'crm_received' .*signal #1.*'c-1'") as info:
        v2.deliver_event("crm_synced", correlation=CORR, payload={"name": "Acme"}, store=store, now=T0)
    assert info.value.context["event"] == "crm_synced" and store.record(wf.execution_id).version == 2


def test_a_delivered_await_removed_then_restored_by_a_rollback_can_be_delivered_again(store):
    # the removed await's state (its payload) was dropped, but its signal stayed in force: after the rollback the
    # await waited for ever — its event was a DuplicateSignalError, and a retry with its key was answered as
    # applied while nothing changed
    v1 = version_1()
    wf = v1.start(CORR, store=store, now=T0)
    v1.deliver_event("crm_received", correlation=CORR, payload={"name": "Acme"}, store=store, idempotency_key="c-1",
                     now=T0)
    version_2_without_crm().migrate(store, now=T0)  # the deploy without `crm` saves the workflow without it
    (signal,) = store.fetch(wf.execution_id)["workflow"]["signals"]
    assert signal["retracted"]["by"] == "graph_changed" and signal["node"] == "crm"
    rollback = version_1()
    again = rollback.deliver_event("crm_received", correlation=CORR, payload={"name": "Acme"}, store=store,
                                   idempotency_key="c-1", now=T0)
    assert again.execution.states["crm"].value == {"name": "Acme"}
    assert [s["node"] for s in again.signals if not s.get("retracted")] == ["crm"] and len(again.signals) == 2
    done = rollback.deliver_event("billing_received", correlation=CORR, payload={"mrr": 5}, store=store, now=T0)
    assert done.workflow_status == "succeeded" and done.result.report == {"name": "Acme", "mrr": 5}


def test_a_new_graph_delivery_before_migrate_keeps_the_renamed_awaits_payload(store):
    # saving under the new graph before `migrate` would drop the old await's payload (a restore drops the state of
    # an await the graph no longer has): the delivery is refused, nothing written, until `migrate` moved it
    v1 = version_1()
    wf = v1.start(CORR, store=store, now=T0)
    v1.deliver_event("crm_received", correlation=CORR, payload={"name": "Acme"}, store=store, idempotency_key="c-1",
                     now=T0)
    v2 = version_2_renamed()
    version = store.record(wf.execution_id).version
    with pytest.raises(ig.GraphChangedError, match=r"migrate\(store, rename=\{'crm': 'crm_data'\}\)"):
        v2.deliver_event("billing_received", correlation=CORR, payload={"mrr": 5}, store=store, now=T0)
    assert store.record(wf.execution_id).version == version
    v2.migrate(store, rename={"crm": "crm_data"}, now=T0)
    v2.deliver_event("billing_received", correlation=CORR, payload={"mrr": 5}, store=store, now=T0)
    done = v2.deliver_event("crm_received", correlation=CORR, payload={"name": "Acme"}, store=store,
                            idempotency_key="c-1", now=T0)  # the sender's retry: already applied
    assert done.workflow_status == "succeeded" and done.result.report == {"name": "Acme", "mrr": 5}
    assert store.record(wf.execution_id).status == "succeeded"


def version_2_greeting_before_crm() -> Any:
    """``report`` no longer needs ``crm`` through ``x``: ``x`` now depends on the input only."""

    class Onboarding(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.await_event("crm", event="crm_received", timeout=60)
            c.await_event("billing", event="billing_received")
            c.compute("x", depends_on=["lead"], call=lambda lead: f"x-{lead}")
            c.compute("report", depends_on=["x", "crm", "billing"], call=lambda x, crm, billing: {"x": x, **crm, **billing})
            c.output("report")

    return Onboarding


def version_1_with_x() -> Any:
    class Onboarding(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.await_event("crm", event="crm_received", timeout=60)
            c.await_event("billing", event="billing_received")
            c.compute("x", depends_on=["crm"], call=lambda crm: f"x-{crm['name']}")
            c.compute("report", depends_on=["x", "crm", "billing"], call=lambda x, crm, billing: {"x": x, **crm, **billing})
            c.output("report")

    return Onboarding


def test_a_node_whose_dependency_on_an_await_was_removed_resolves_instead_of_waiting_for_ever(store):
    # `x` was stored `waiting` for `crm`; under the new graph nothing resumes it (no await is upstream of it), so the
    # workflow stayed `waiting` after every event arrived
    wf = version_1_with_x().start(CORR, store=store, now=T0)
    v2 = version_2_greeting_before_crm()
    v2.deliver_event("billing_received", correlation=CORR, payload={"mrr": 5}, store=store, now=T0)
    done = v2.deliver_event("crm_received", correlation=CORR, payload={"name": "Acme"}, store=store, now=T0)
    assert done.workflow_status == "succeeded"
    assert done.result.report == {"x": "x-L-1", "name": "Acme", "mrr": 5}
    assert store.record(wf.execution_id).status == "succeeded"
