"""``Contract.deliver_event`` on every store kind: lookup errors, payload validation (nothing written),
any-order binding (L-02), duplicate signals and idempotency keys, failures after a delivery."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.errors import (
    AwaitedEventMismatchError,
    DuplicateSignalError,
    PayloadValidationError,
    WorkflowNotFoundError,
)
from tests.workflow.wf_contracts import ChainedWorkflow, FragileWorkflow, LeadWorkflow

CORR = {"request_id": "req-1", "company_id": "co-42"}
CRM = {"name": "Acme Corp", "tier": "enterprise"}
BILLING = {"plan": "pro", "mrr": 500}


def _versions(store, execution_id):
    return len(store.history(execution_id))


def test_two_deliveries_complete_the_workflow(store):
    wf = LeadWorkflow.start(CORR, store=store)
    mid = LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store,
                                     idempotency_key="evt-1")
    assert mid.execution_id == wf.execution_id
    assert mid.workflow_status == "waiting"
    assert mid.states["crm_data"]["status"] == "succeeded"
    assert mid.states["billing_data"]["status"] == "waiting"
    done = LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload=BILLING, store=store,
                                      idempotency_key="evt-2")
    assert done.workflow_status == "succeeded"
    assert done.result.report == {"crm": CRM, "billing": BILLING}
    rec = store.record(wf.execution_id)
    assert rec.status == "succeeded"
    assert rec.version == 3
    assert store.find_by_correlation("LeadWorkflow", CORR) is None
    restored = LeadWorkflow.restore_from_store(wf.execution_id, store=store)
    assert restored.result.report == {"crm": CRM, "billing": BILLING}


def test_schema_payload_is_held_as_the_model_and_survives_the_store(store):
    LeadWorkflow.start(CORR, store=store)
    wf = LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload=BILLING, store=store)
    restored = LeadWorkflow.restore_from_store(wf.execution_id, store=store)
    held = restored.execution.states["billing_data"].value
    assert type(held).__name__ == "BillingPayload"
    assert held.model_dump() == BILLING


def test_events_in_either_order_L02(store):
    LeadWorkflow.start(CORR, store=store)
    LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload=BILLING, store=store)
    done = LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store)
    assert done.workflow_status == "succeeded"
    assert done.result.report == {"crm": CRM, "billing": BILLING}
    assert [s["event"] for s in done.signals] == ["billing_data_fetched", "crm_webhook_received"]


def test_later_await_delivered_before_the_earlier_one_L02(store):
    """The reference's §8.7 case: the output needs ``first`` (through ``enriched``) and ``second``; delivering
    ``second`` first used to fail with "not pending". Here every await on the path waits from the start."""
    corr = {"order_id": "o-7"}
    wf = ChainedWorkflow.start(corr, store=store)
    assert wf.workflow_status == "waiting"
    assert {w["event"] for w in wf.diagnostics["waiting_on"]} == {"payment_authorised", "goods_shipped"}
    early = ChainedWorkflow.deliver_event("goods_shipped", correlation=corr, payload={"carrier": "DHL"},
                                          store=store, idempotency_key="ship-1")
    assert early.workflow_status == "waiting"
    assert early.execution.states["second"].status is ig.Status.SUCCEEDED
    assert early.execution.states["enriched"].status is ig.Status.WAITING
    done = ChainedWorkflow.deliver_event("payment_authorised", correlation=corr, payload={"amount": 42},
                                         store=store, idempotency_key="pay-1")
    assert done.workflow_status == "succeeded"
    assert done.result.settlement == {"amount": 42, "carrier": "DHL"}
    assert [(s["order"], s["node"]) for s in done.signals] == [(1, "second"), (2, "first")]


class SideChannel(ig.Contract):
    """``feedback`` is on no output's path: resolution never reaches it, yet its event can arrive."""

    def define(c):
        c.correlate_by("k")
        c.input("k", type=str)
        c.await_event("main", event="main_done")
        c.await_event("feedback", event="feedback_given")
        c.compute("nps", depends_on=["feedback"], call=lambda feedback: feedback["score"])
        c.compute("summary", depends_on=["main"], call=lambda main: main["ok"])
        c.output("summary")


def test_event_for_an_await_resolution_never_reached_is_bound_L02(store):
    corr = {"k": "a"}
    wf = SideChannel.start(corr, store=store)
    assert "feedback" not in wf.execution.states
    wf = SideChannel.deliver_event("feedback_given", correlation=corr, payload={"score": 9}, store=store)
    received = [e for e in wf.events if e.type == "external_event_received"]
    assert received[-1].payload["reached"] is False
    assert wf.workflow_status == "waiting"  # still waiting for main_done
    restored = SideChannel.restore_from_store(wf.execution_id, store=store)
    assert restored.execution.states["feedback"].status is ig.Status.SUCCEEDED
    assert restored.execution.bound_events == {"feedback": {"score": 9}}
    done = SideChannel.deliver_event("main_done", correlation=corr, payload={"ok": True}, store=store)
    assert done.workflow_status == "succeeded"
    assert done.execution.resolver.resolve("nps").value == 9


def test_unknown_correlation_names_the_nearest_and_the_differing_key(store):
    LeadWorkflow.start(CORR, store=store)
    LeadWorkflow.start(request_id="req-2", company_id="co-99", store=store)
    with pytest.raises(WorkflowNotFoundError) as info:
        LeadWorkflow.deliver_event("crm_webhook_received", correlation={"request_id": "req-1", "company_id": "co-43"},
                                   payload=CRM, store=store)
    err = info.value
    assert str(err).startswith(
        "no active LeadWorkflow workflow has correlation {'request_id': 'req-1', 'company_id': 'co-43'}; "
        "nearest active: {'request_id': 'req-1', 'company_id': 'co-42'} (differs in company_id), "
        "{'request_id': 'req-2', 'company_id': 'co-99'} (differs in company_id, request_id)")
    assert err.context["nearest"][0]["differs_in"] == ["company_id"]
    assert err.context["nearest"][0]["correlation"] == CORR


def test_unknown_correlation_with_nothing_stored(store):
    with pytest.raises(WorkflowNotFoundError, match=r"^no active LeadWorkflow workflow has correlation"):
        LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store)
    assert store.list() == []


@pytest.mark.parametrize("correlation, words", [
    ({"request_id": "req-1"}, "missing company_id"),
    ({**CORR, "tenant": "t"}, "unknown tenant"),
    ({"request_id": "req-1", "company_id": " "}, "blank company_id"),
])
def test_partial_extra_or_blank_correlation_is_rejected(store, correlation, words):
    wf = LeadWorkflow.start(CORR, store=store)
    with pytest.raises(WorkflowNotFoundError, match=f"must have exactly the keys request_id, company_id \\({words}\\)"):
        LeadWorkflow.deliver_event("crm_webhook_received", correlation=correlation, payload=CRM, store=store)
    assert _versions(store, wf.execution_id) == 1


def test_correlation_must_be_a_mapping(store):
    with pytest.raises(WorkflowNotFoundError, match="correlation must be a dict of request_id, company_id, got str"):
        LeadWorkflow.deliver_event("crm_webhook_received", correlation="req-1", payload=CRM, store=store)


def test_event_not_awaited_by_the_graph(store):
    wf = LeadWorkflow.start(CORR, store=store)
    with pytest.raises(AwaitedEventMismatchError,
                       match="LeadWorkflow does not await event 'invoice_paid' "
                             r"\(it awaits: crm_webhook_received, billing_data_fetched\)"):
        LeadWorkflow.deliver_event("invoice_paid", correlation=CORR, payload={}, store=store)
    assert _versions(store, wf.execution_id) == 1


def test_invalid_payload_writes_nothing(store):
    wf = LeadWorkflow.start(CORR, store=store)
    LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store)
    before = store.history(wf.execution_id)
    with pytest.raises(PayloadValidationError) as info:
        LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload={"plan": "pro", "mrr": "lots"},
                                   store=store)
    err = info.value
    assert err.message == ("payload of event 'billing_data_fetched' does not match BillingPayload: "
                           "mrr: Input should be a valid integer, unable to parse string as an integer")
    assert err.context["problems"] == [{"loc": "mrr", "msg": "Input should be a valid integer, unable to parse "
                                        "string as an integer", "type": "int_parsing"}]
    assert err.node == "billing_data"
    assert store.history(wf.execution_id) == before
    # the workflow still accepts a valid payload afterwards
    done = LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload=BILLING, store=store)
    assert done.workflow_status == "succeeded"


def test_missing_field_and_wrong_type_payloads(store):
    LeadWorkflow.start(CORR, store=store)
    with pytest.raises(PayloadValidationError, match="mrr: Field required"):
        LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload={"plan": "pro"}, store=store)
    with pytest.raises(PayloadValidationError, match=r"\(payload\): Input should be a valid dictionary"):
        LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload=["pro"], store=store)
    with pytest.raises(PayloadValidationError, match="Input should be a valid dictionary"):
        FragileWorkflow.deliver_event("job_finished", correlation={"job_id": "x"}, payload="text", store=store)


def test_duplicate_signal_with_another_key_raises_and_writes_nothing(store):
    wf = LeadWorkflow.start(CORR, store=store)
    LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store,
                               idempotency_key="evt-1")
    before = store.history(wf.execution_id)
    with pytest.raises(DuplicateSignalError) as info:
        LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload={"name": "Other"}, store=store,
                                   idempotency_key="evt-2")
    assert info.value.message.startswith(f"event 'crm_webhook_received' was already delivered to LeadWorkflow "
                                         f"{wf.execution_id} (signal #1 at ")
    assert info.value.message.endswith(", idempotency key 'evt-1')")
    with pytest.raises(DuplicateSignalError):  # no key at all is not the same key
        LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store)
    assert store.history(wf.execution_id) == before


def test_repeat_with_the_same_idempotency_key_returns_the_workflow_unchanged(store):
    wf = LeadWorkflow.start(CORR, store=store)
    first = LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store,
                                       idempotency_key="evt-1")
    before = store.history(wf.execution_id)
    again = LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store,
                                       idempotency_key="evt-1")
    assert again.execution_id == first.execution_id
    assert again.signals == first.signals
    assert again.workflow_status == "waiting"
    assert store.history(wf.execution_id) == before


def test_repeat_with_the_same_key_after_the_workflow_finished_is_still_idempotent(store):
    LeadWorkflow.start(CORR, store=store)
    LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store,
                               idempotency_key="evt-1")
    done = LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload=BILLING, store=store,
                                      idempotency_key="evt-2")
    before = store.history(done.execution_id)
    late = LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload=BILLING, store=store,
                                      idempotency_key="evt-2")
    assert late.workflow_status == "succeeded"
    assert late.execution_id == done.execution_id
    assert store.history(done.execution_id) == before
    # another key for an event the finished workflow already had: a duplicate, not "not found" (issue 11)
    with pytest.raises(DuplicateSignalError, match=f"already delivered to LeadWorkflow {done.execution_id}"):
        LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload=BILLING, store=store,
                                   idempotency_key="evt-3")


@pytest.mark.parametrize("key", ["", "   ", 7])
def test_idempotency_key_must_be_a_non_empty_string(store, key):
    LeadWorkflow.start(CORR, store=store)
    with pytest.raises(ValueError, match="idempotency_key must be a non-empty string"):
        LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store,
                                   idempotency_key=key)


def test_failing_node_after_delivery_never_raises_and_is_stored_failed(store):
    corr = {"job_id": "j-2"}
    FragileWorkflow.start(corr, store=store)
    wf = FragileWorkflow.deliver_event("job_finished", correlation=corr, payload={"explode": "corrupt"}, store=store)
    assert wf.workflow_status == "failed"
    assert wf.status is ig.Status.FAILED
    rec = store.record(wf.execution_id)
    assert rec.status == "failed"
    assert rec.snapshot["workflow"]["error"] == {
        "type": "ResolutionError", "message": "ValueError: bad result for job: corrupt", "node": "outcome"}
    assert [e.type for e in wf.events][-2:] == ["execution_failed", "workflow_failed"]
    assert wf.result.errors["outcome"].context["cause_type"] == "ValueError"
    assert store.find_by_correlation("FragileWorkflow", corr) is None


def test_successful_delivery_result(store):
    corr = {"job_id": "j-3"}
    FragileWorkflow.start(corr, store=store)
    wf = FragileWorkflow.deliver_event("job_finished", correlation=corr, payload={"value": 21}, store=store)
    assert wf.result.outcome == 42
    assert store.record(wf.execution_id).snapshot["workflow"]["status"] == "succeeded"
