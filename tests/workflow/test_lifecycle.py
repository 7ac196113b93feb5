"""Workflow statuses over a lifetime on every store kind: waiting, running (own deferred work), succeeded,
failed, cancelled, timed_out — with ``cancel`` and ``expire_due`` driven by an injected clock."""

from __future__ import annotations

import datetime as dt

import pytest

import igniter_nb as ig
from igniter_nb.errors import AwaitTimeoutError, WorkflowNotFoundError
from tests.workflow.conftest import T0
from tests.workflow.wf_contracts import LeadWorkflow, TimedWorkflow

CORR = {"request_id": "req-1", "company_id": "co-42"}
CASE = {"case_id": "c-1"}


# ---------------------------------------------------------------------------- cancel
def test_cancel_stops_the_workflow_and_frees_its_correlation(store):
    wf = LeadWorkflow.start(CORR, store=store, now=T0)
    cancelled = LeadWorkflow.cancel(correlation=CORR, store=store, reason="customer withdrew",
                                    now=T0 + dt.timedelta(minutes=5))
    assert cancelled.execution_id == wf.execution_id
    assert cancelled.workflow_status == "cancelled"
    rec = store.record(wf.execution_id)
    assert rec.status == "cancelled"
    assert rec.snapshot["workflow"]["cancelled"] == {"at": "2030-01-01T12:05:00Z", "reason": "customer withdrew"}
    assert rec.snapshot["workflow"]["updated_at"] == "2030-01-01T12:05:00Z"
    assert [e.type for e in cancelled.events][-1] == "workflow_cancelled"
    assert cancelled.events[-1].payload == {"reason": "customer withdrew"}
    assert store.find_by_correlation("LeadWorkflow", CORR) is None
    with pytest.raises(WorkflowNotFoundError, match=f"the latest one, {wf.execution_id}, is cancelled"):
        LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload={}, store=store)
    again = LeadWorkflow.start(CORR, store=store)
    assert again.workflow_status == "waiting"


def test_cancel_of_an_unknown_or_finished_workflow_raises(store):
    with pytest.raises(WorkflowNotFoundError, match="no active LeadWorkflow workflow"):
        LeadWorkflow.cancel(correlation=CORR, store=store)
    LeadWorkflow.start(CORR, store=store)
    LeadWorkflow.cancel(correlation=CORR, store=store)
    with pytest.raises(WorkflowNotFoundError):
        LeadWorkflow.cancel(correlation=CORR, store=store)


def test_cancel_keeps_the_restored_status_after_re_resolution(store):
    wf = LeadWorkflow.start(CORR, store=store)
    LeadWorkflow.cancel(correlation=CORR, store=store)
    restored = LeadWorkflow.restore_from_store(wf.execution_id, store=store)
    restored.resolve_all()
    assert restored.workflow_status == "cancelled"


# ---------------------------------------------------------------------------- timeouts
def test_deadline_is_recorded_at_start_from_the_injected_clock(store):
    wf = TimedWorkflow.start(CASE, store=store, now=T0)
    workflow = store.record(wf.execution_id).snapshot["workflow"]
    assert workflow["started_at"] == "2030-01-01T12:00:00Z"
    assert workflow["deadlines"] == {"reply": "2030-01-01T12:01:00Z"}  # timeout=60 s; `note` has none


def test_expire_due_before_the_deadline_does_nothing(store):
    wf = TimedWorkflow.start(CASE, store=store, now=T0)
    assert TimedWorkflow.expire_due(store, now=T0 + dt.timedelta(seconds=59)) == []
    assert len(store.history(wf.execution_id)) == 1
    assert store.record(wf.execution_id).status == "waiting"


def test_expire_due_past_the_deadline_times_the_workflow_out(store):
    wf = TimedWorkflow.start(CASE, store=store, now=T0)
    expired = TimedWorkflow.expire_due(store, now=T0 + dt.timedelta(seconds=60))
    assert [c.execution_id for c in expired] == [wf.execution_id]
    timed_out = expired[0]
    assert timed_out.workflow_status == "timed_out"
    state = timed_out.execution.states["reply"]
    assert state.status is ig.Status.FAILED
    assert isinstance(state.error, AwaitTimeoutError)
    assert state.error.message == "event 'customer_replied' did not arrive within 60s (deadline 2030-01-01T12:01:00Z)"
    types = [e.type for e in timed_out.events]
    assert "await_timed_out" in types and types[-1] == "workflow_timed_out"
    timed_event = next(e for e in timed_out.events if e.type == "await_timed_out")
    assert timed_event.node == "reply"
    assert timed_event.payload == {"event": "customer_replied", "deadline": "2030-01-01T12:01:00Z"}
    rec = store.record(wf.execution_id)
    assert rec.status == "timed_out"
    assert rec.snapshot["states"]["reply"]["error"]["type"] == "AwaitTimeoutError"
    assert store.find_by_correlation("TimedWorkflow", CASE) is None
    # running it again finds nothing more to do
    assert TimedWorkflow.expire_due(store, now=T0 + dt.timedelta(hours=1)) == []
    with pytest.raises(WorkflowNotFoundError, match="is timed_out"):
        TimedWorkflow.deliver_event("customer_replied", correlation=CASE, payload="late", store=store)


def test_an_await_satisfied_in_time_does_not_expire(store):
    wf = TimedWorkflow.start(CASE, store=store, now=T0)
    TimedWorkflow.deliver_event("customer_replied", correlation=CASE, payload="yes", store=store,
                                now=T0 + dt.timedelta(seconds=30))
    assert TimedWorkflow.expire_due(store, now=T0 + dt.timedelta(days=1)) == []
    assert store.record(wf.execution_id).status == "waiting"  # still waiting for the note, which has no deadline
    done = TimedWorkflow.deliver_event("agent_note", correlation=CASE, payload="closed", store=store)
    assert done.result.closed == {"reply": "yes", "note": "closed"}


def test_expire_due_only_touches_workflows_past_their_own_deadline(store):
    early = TimedWorkflow.start(case_id="early", store=store, now=T0)
    late = TimedWorkflow.start(case_id="late", store=store, now=T0 + dt.timedelta(seconds=50))
    expired = TimedWorkflow.expire_due(store, now=T0 + dt.timedelta(seconds=70))
    assert [c.execution_id for c in expired] == [early.execution_id]
    assert store.record(late.execution_id).status == "waiting"
    assert [c.execution_id for c in TimedWorkflow.expire_due(store, now=T0 + dt.timedelta(seconds=110))] == [
        late.execution_id]


def test_expire_due_without_timeouts_and_clock_rules(store):
    LeadWorkflow.start(CORR, store=store)
    assert LeadWorkflow.expire_due(store, now=T0 + dt.timedelta(days=365)) == []
    TimedWorkflow.start(CASE, store=store, now=T0)
    with pytest.raises(ValueError, match="now= must be timezone-aware"):
        TimedWorkflow.expire_due(store, now=dt.datetime(2030, 1, 2))


def test_expire_due_ignores_cancelled_workflows(store):
    TimedWorkflow.start(CASE, store=store, now=T0)
    TimedWorkflow.cancel(correlation=CASE, store=store)
    assert TimedWorkflow.expire_due(store, now=T0 + dt.timedelta(hours=1)) == []


# ---------------------------------------------------------------------------- running: own deferred work
class Quote(ig.Executor):
    def call(self, amount):
        return self.defer(token="quote-1", payload={"amount": amount})


class QuotedApproval(ig.Contract):
    def define(c):
        c.correlate_by("k")
        c.input("k", type=str)
        c.input("amount")
        c.compute("quote", depends_on=["amount"], call=Quote)
        c.await_event("ok", event="approved")
        c.compute("final", depends_on=["quote", "ok"], call=lambda quote, ok: {"quote": quote, "ok": ok})
        c.output("final")


def test_pending_own_work_is_running_and_waiting_wins_while_an_event_is_awaited(store):
    wf = QuotedApproval.start(k="a", amount=3, store=store)
    assert wf.workflow_status == "waiting"
    wf = QuotedApproval.deliver_event("approved", correlation={"k": "a"}, payload=True, store=store)
    assert wf.workflow_status == "running"
    assert wf.status is ig.Status.PENDING
    assert store.record(wf.execution_id).status == "running"
    assert store.find_by_correlation("QuotedApproval", {"k": "a"}) == wf.execution_id


def test_resume_from_store_finishes_a_running_workflow(memory_store):
    store = memory_store
    wf = QuotedApproval.start(k="a", amount=3, store=store)
    QuotedApproval.deliver_event("approved", correlation={"k": "a"}, payload=True, store=store)
    resumed = QuotedApproval.resume_from_store(wf.execution_id, token="quote-1", value=10, store=store)
    assert resumed.result.final == {"quote": 10, "ok": True}
    assert resumed.workflow_status == "succeeded"
    assert store.record(wf.execution_id).status == "succeeded"
    assert store.find_by_correlation("QuotedApproval", {"k": "a"}) is None


@pytest.mark.parametrize("finish", ["cancel", "expire"])
def test_resume_from_store_refuses_a_cancelled_or_timed_out_workflow_and_writes_nothing(finish, memory_store):
    # a late callback (an RQ resume job) resumed the finished workflow and saved a new version of it; the server's
    # resume route refuses the same with 409
    store = memory_store
    wf = QuotedApproval.start(k="a", amount=3, store=store, now=T0)
    if finish == "cancel":
        QuotedApproval.cancel(correlation={"k": "a"}, store=store, now=T0)
    else:
        record = store.record(wf.execution_id)  # a deadline, as a timeout= on `ok` would have recorded
        record.snapshot["workflow"]["deadlines"] = {"ok": "2030-01-01T12:01:00Z"}
        store.save(record.snapshot, expected_version=record.version)
        (expired,) = QuotedApproval.expire_due(store, now=T0 + dt.timedelta(hours=1))
        assert expired.workflow_status == "timed_out"
    before = store.record(wf.execution_id)
    with pytest.raises(ig.WorkflowError, match=f"QuotedApproval workflow {wf.execution_id} is "
                                               f"{before.status}: its node pending on token 'quote-1' cannot be resumed"):
        QuotedApproval.resume_from_store(wf.execution_id, token="quote-1", value=10, store=store)
    assert store.record(wf.execution_id).version == before.version
