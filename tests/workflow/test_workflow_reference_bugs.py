"""Reference bugs that touch workflows, each guarded through the workflow API (L-02 and L-07 are covered in
test_deliver.py and test_start.py; L-36 in test_audit.py)."""

from __future__ import annotations

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.workflow.wf_contracts import LeadWorkflow

CORR = {"request_id": "req-1", "company_id": "co-42"}
CRM = {"name": "Acme Corp"}


def test_restored_workflow_keeps_its_store_and_never_touches_the_default_L06(store):
    default = ig.configure(store=MemoryStore())
    try:
        wf = LeadWorkflow.start(CORR, store=store)
        restored = LeadWorkflow.restore_from_store(wf.execution_id, store=store)
        assert restored.execution.store is store
        delivered = LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store)
        assert delivered.execution.store is store
        LeadWorkflow.cancel(correlation=CORR, store=store)
        assert default.list() == []  # nothing leaked into the global store (reference §8.12)
        assert [r.status for r in store.history_records(wf.execution_id)] == ["waiting", "waiting", "cancelled"]
    finally:
        ig.configure(None)


def test_memory_store_delete_frees_the_correlation_L11():
    store = MemoryStore()
    wf = LeadWorkflow.start(CORR, store=store)
    assert store.delete(wf.execution_id) is True
    assert store.find_by_correlation("LeadWorkflow", CORR) is None
    assert store.list(graph="LeadWorkflow") == []
    fresh = LeadWorkflow.start(CORR, store=store)  # no DuplicateWorkflowError from a dangling index entry
    delivered = LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store)
    assert delivered.execution_id == fresh.execution_id


def test_delete_frees_the_correlation_on_every_store(store):
    wf = LeadWorkflow.start(CORR, store=store)
    store.delete(wf.execution_id)
    assert LeadWorkflow.start(CORR, store=store).execution_id != wf.execution_id
