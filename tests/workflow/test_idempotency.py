"""Idempotency keys and payload digests (issue 11 point 1, PRODUCT §8), on every store kind: the same key with
another payload, or reused for another event of the workflow, is an ``IdempotencyConflictError`` and writes
nothing; a retry (same key, same payload) returns the workflow unchanged, also after it finished; a repeat of a
finished workflow's event without its key is a duplicate, never "not found"."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.errors import DuplicateSignalError, IdempotencyConflictError, WorkflowArgumentError
from igniter_nb.workflow.signals import payload_digest
from tests.workflow.wf_contracts import LeadWorkflow

CORR = {"request_id": "req-1", "company_id": "co-42"}
CRM = {"name": "Acme Corp", "tier": "enterprise"}
BILLING = {"plan": "pro", "mrr": 500}


def test_same_key_with_a_different_payload_is_a_conflict_and_writes_nothing(store):
    wf = LeadWorkflow.start(CORR, store=store)
    LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store, idempotency_key="k1")
    before = store.history(wf.execution_id)
    with pytest.raises(IdempotencyConflictError, match=r"'k1' was recorded for event 'crm_webhook_received'.*different "
                                                       r"payload") as info:
        LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload={**CRM, "tier": "free"},
                                   store=store, idempotency_key="k1")
    assert isinstance(info.value, DuplicateSignalError)  # a 409 wherever duplicates are
    assert info.value.context["idempotency_key"] == "k1" and info.value.context["signal"] == 1
    assert store.history(wf.execution_id) == before
    stored = LeadWorkflow.restore_from_store(wf.execution_id, store=store)
    assert stored.execution.states["crm_data"].value == CRM  # the first payload stands


def test_same_key_reused_for_another_event_is_a_conflict_and_writes_nothing(store):
    wf = LeadWorkflow.start(CORR, store=store)
    LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store, idempotency_key="k1")
    before = store.history(wf.execution_id)
    with pytest.raises(IdempotencyConflictError, match=r"'k1' was already used for event 'crm_webhook_received'.*"
                                                       r"cannot be reused for event 'billing_data_fetched'"):
        LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload=BILLING, store=store,
                                   idempotency_key="k1")
    assert store.history(wf.execution_id) == before
    assert LeadWorkflow.restore_from_store(wf.execution_id, store=store).workflow_status == "waiting"


def test_retry_with_the_same_payload_in_another_key_order_is_idempotent(store):
    wf = LeadWorkflow.start(CORR, store=store)
    LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store, idempotency_key="k1")
    before = store.history(wf.execution_id)
    again = LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR,
                                       payload={"tier": "enterprise", "name": "Acme Corp"}, store=store,
                                       idempotency_key="k1")
    assert again.execution_id == wf.execution_id and store.history(wf.execution_id) == before


def test_schema_payloads_compare_as_validated(store):
    """The digest is of the payload as the await holds it (validated): BillingPayload turns ``"500"`` into ``500``,
    so a retry sending either is the same delivery."""
    wf = LeadWorkflow.start(CORR, store=store)
    LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload=BILLING, store=store,
                               idempotency_key="b1")
    again = LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload={"plan": "pro", "mrr": "500"},
                                       store=store, idempotency_key="b1")
    assert again.execution_id == wf.execution_id
    with pytest.raises(IdempotencyConflictError):
        LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload={"plan": "pro", "mrr": 501},
                                   store=store, idempotency_key="b1")


def test_conflicts_are_detected_after_the_workflow_finished(store):
    wf = LeadWorkflow.start(CORR, store=store)
    LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store, idempotency_key="k1")
    done = LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload=BILLING, store=store,
                                      idempotency_key="k2")
    assert done.workflow_status == "succeeded"
    before = store.history(wf.execution_id)
    retry = LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store,
                                       idempotency_key="k1")
    assert retry.execution_id == wf.execution_id and retry.workflow_status == "succeeded"
    with pytest.raises(IdempotencyConflictError, match="different payload"):
        LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload={"name": "Other"}, store=store,
                                   idempotency_key="k1")
    with pytest.raises(IdempotencyConflictError, match="cannot be reused"):
        LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store,
                                   idempotency_key="k2")
    assert store.history(wf.execution_id) == before


def test_late_duplicate_without_the_recorded_key_reads_as_a_duplicate(store):
    wf = LeadWorkflow.start(CORR, store=store)
    LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store, idempotency_key="k1")
    LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload=BILLING, store=store)
    for key in (None, "other"):
        with pytest.raises(DuplicateSignalError, match=f"'crm_webhook_received' was already delivered to LeadWorkflow "
                                                       f"{wf.execution_id}") as info:
            LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store,
                                       idempotency_key=key)
        assert not isinstance(info.value, IdempotencyConflictError)


def test_signals_recorded_without_a_digest_compare_as_the_same_payload(store):
    """A signal log written before digests existed: a repeat of its key is answered as a retry (there is no
    payload to compare with), as documented in docs/workflows.md."""
    wf = LeadWorkflow.start(CORR, store=store)
    LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store, idempotency_key="k1")
    record = store.record(wf.execution_id)
    snapshot = record.snapshot
    for signal in snapshot["workflow"]["signals"]:
        del signal["payload_digest"]
    store.save(snapshot, expected_version=record.version)
    old = LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload={"name": "changed"}, store=store,
                                     idempotency_key="k1")
    assert old.execution.states["crm_data"].value == CRM
    with pytest.raises(IdempotencyConflictError, match="cannot be reused"):  # reuse for another event still conflicts
        LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload=BILLING, store=store,
                                   idempotency_key="k1")


def test_payload_digest_is_canonical_sha256_of_the_encoded_value():
    assert payload_digest({"b": 1, "a": [1, 2]}) == payload_digest({"a": [1, 2], "b": 1})
    assert payload_digest({"a": 1}) != payload_digest({"a": 1.0}) != payload_digest({"a": True})
    assert payload_digest(None).startswith("sha256:") and len(payload_digest(None)) == 7 + 64
    assert payload_digest(object()) is None  # cannot be encoded: the await fails when saved


@pytest.mark.parametrize("key", [7, b"k", ["k"], "", "  "])
def test_idempotency_key_of_the_wrong_kind_is_a_clear_error(key, memory_store):
    LeadWorkflow.start(CORR, store=memory_store)
    with pytest.raises(WorkflowArgumentError, match="idempotency_key must be a non-empty string, got") as info:
        LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=memory_store,
                                   idempotency_key=key)
    assert isinstance(info.value, ig.IgniterError) and info.value.context["argument"] == "idempotency_key"
