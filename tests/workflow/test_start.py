"""``Contract.start`` on every store kind: what it saves, correlation rules, duplicates (L-07), failures."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.errors import DuplicateWorkflowError, InputError
from tests.workflow.wf_contracts import FragileWorkflow, LeadWorkflow

CORR = {"request_id": "req-1", "company_id": "co-42"}


def test_start_saves_a_waiting_workflow_with_metadata(store):
    wf = LeadWorkflow.start(request_id="req-1", company_id="co-42", store=store)
    assert wf.workflow_status == "waiting"
    assert wf.status is ig.Status.WAITING and wf.waiting
    assert wf.states["crm_data"]["status"] == "waiting"
    assert wf.states["billing_data"]["status"] == "waiting"
    assert wf.states["report"]["status"] == "waiting"

    rec = store.record(wf.execution_id)
    assert rec.graph == "LeadWorkflow"
    assert rec.correlation == CORR
    assert rec.status == "waiting"
    assert rec.version == 1
    assert rec.snapshot["workflow"]["status"] == "waiting"
    assert rec.snapshot["workflow"]["correlation"] == CORR
    assert rec.snapshot["workflow"]["signals"] == []
    assert store.find_by_correlation("LeadWorkflow", CORR) == wf.execution_id
    assert wf.execution.store is store


def test_start_accepts_a_positional_inputs_dict(store):
    wf = LeadWorkflow.start(dict(CORR), store=store)
    assert store.find_by_correlation("LeadWorkflow", CORR) == wf.execution_id


@pytest.mark.parametrize("inputs, word", [
    ({"request_id": "req-1"}, "missing"),
    ({"request_id": "req-1", "company_id": ""}, "blank"),
    ({"request_id": "   ", "company_id": "co-42"}, "blank"),
    ({"request_id": None, "company_id": "co-42"}, "blank"),
])
def test_blank_or_missing_correlation_is_rejected_and_nothing_saved(store, inputs, word):
    with pytest.raises(InputError, match=f"Correlation key '\\w+' of LeadWorkflow is {word}"):
        LeadWorkflow.start(inputs, store=store)
    assert store.list() == []


def test_non_scalar_correlation_value_is_rejected(store):
    with pytest.raises(InputError, match="must be a string or number, got dict"):
        LeadWorkflow.start(request_id={"a": 1}, company_id="co-42", store=store)
    assert store.list() == []


def test_second_active_workflow_with_the_same_correlation_is_a_duplicate(store):
    first = LeadWorkflow.start(CORR, store=store)
    with pytest.raises(DuplicateWorkflowError, match="already has correlation") as info:
        LeadWorkflow.start(CORR, store=store)
    assert info.value.context["existing_execution_id"] == first.execution_id
    assert len(store.list(graph="LeadWorkflow")) == 1


def test_same_correlation_other_values_are_independent_workflows(store):
    a = LeadWorkflow.start(CORR, store=store)
    b = LeadWorkflow.start(request_id="req-1", company_id="co-43", store=store)
    assert a.execution_id != b.execution_id
    assert len(store.list(graph="LeadWorkflow", status="waiting")) == 2


def test_finished_workflow_does_not_block_a_new_start_L07(store):
    first = LeadWorkflow.start(CORR, store=store)
    LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload={"n": 1}, store=store)
    done = LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload={"plan": "pro", "mrr": 5},
                                      store=store)
    assert done.workflow_status == "succeeded"
    second = LeadWorkflow.start(CORR, store=store)
    assert second.execution_id != first.execution_id
    assert store.find_by_correlation("LeadWorkflow", CORR) == second.execution_id
    # and delivery goes to the new one, not to the finished first one (reference §8.9)
    after = LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload={"n": 2}, store=store)
    assert after.execution_id == second.execution_id
    assert store.record(first.execution_id).status == "succeeded"


def test_failing_node_at_start_never_raises_and_is_stored_failed(store):
    wf = FragileWorkflow.start(job_id="j-1", explode_at_start=True, store=store)
    assert wf.workflow_status == "failed"
    assert wf.status is ig.Status.FAILED
    rec = store.record(wf.execution_id)
    assert rec.status == "failed"
    error = rec.snapshot["workflow"]["error"]
    assert error["node"] == "precheck"
    assert error["type"] == "ResolutionError"
    assert "precheck exploded" in error["message"]
    assert rec.snapshot["states"]["precheck"]["error"]["context"]["cause_type"] == "RuntimeError"
    # a failed workflow is not active: the correlation is free again
    assert store.find_by_correlation("FragileWorkflow", {"job_id": "j-1"}) is None
    again = FragileWorkflow.start(job_id="j-1", store=store)
    assert again.workflow_status == "waiting"


def test_workflow_without_awaits_succeeds_at_start(store):
    class Instant(ig.Contract):
        def define(c):
            c.correlate_by("key")
            c.input("key", type=str)
            c.compute("shout", depends_on=["key"], call=lambda key: key.upper())
            c.output("shout")

    wf = Instant.start(key="abc", store=store)
    assert wf.workflow_status == "succeeded"
    assert wf.result.shout == "ABC"
    assert store.record(wf.execution_id).status == "succeeded"
    Instant.start(key="abc", store=store)  # finished ones never block


def test_workflow_without_correlation_keys_can_start_many_times(store):
    class Anonymous(ig.Contract):
        def define(c):
            c.input("x")
            c.await_event("go", event="go")
            c.compute("y", depends_on=["x", "go"], call=lambda x, go: x + go)
            c.output("y")

    a = Anonymous.start(x=1, store=store)
    b = Anonymous.start(x=2, store=store)
    assert a.workflow_status == b.workflow_status == "waiting"
    assert store.record(a.execution_id).correlation in (None, {})


def test_invalid_inputs_raise_input_error_and_save_nothing(store):
    with pytest.raises(InputError):
        FragileWorkflow.start(job_id="j-9", explode_at_start="yes", store=store)
    assert store.list() == []


def test_start_uses_the_configured_default_store():
    from igniter_nb.stores import MemoryStore

    default = ig.configure(store=MemoryStore())
    try:
        wf = LeadWorkflow.start(CORR)
        assert default.find_by_correlation("LeadWorkflow", CORR) == wf.execution_id
        LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload={})
        assert len(default.history(wf.execution_id)) == 2
    finally:
        ig.configure(None)
