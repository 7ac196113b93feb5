"""E-9: ``correlate_by``, two awaited events, ``start`` and two ``deliver_event`` calls on a memory store.

Run from the repository root: ``python examples/distributed_workflow.py``. The reference printed ``pending?``;
a contract waiting for an external event is ``waiting`` here (``pending`` means its own deferred work).
"""

import igniter_nb as ig
from igniter_nb.stores import MemoryStore


class LeadWorkflow(ig.Contract):
    def define(c):
        c.correlate_by("request_id", "company_id")
        c.input("request_id")
        c.input("company_id")
        c.await_event("crm_data", event="crm_webhook_received")
        c.await_event("billing_data", event="billing_data_fetched")

        @c.aggregate
        def report(crm_data, billing_data):
            return {"crm": crm_data, "billing": billing_data}

        c.output("report")


store = MemoryStore()
correlation = {"request_id": "req-1", "company_id": "co-42"}

print("==> Starting execution...")
workflow = LeadWorkflow.start(correlation, store=store)
print(f"waiting? {workflow.waiting}")
print()

print("==> Delivering CRM event...")
workflow = LeadWorkflow.deliver_event("crm_webhook_received", correlation=correlation,
                                      payload={"name": "Acme Corp", "tier": "enterprise"}, store=store)
print(f"still waiting? {workflow.waiting}")
print()

print("==> Delivering billing event...")
workflow = LeadWorkflow.deliver_event("billing_data_fetched", correlation=correlation,
                                      payload={"plan": "pro", "mrr": 500}, store=store)
print()

print("==> Final result:")
print(f"succeeded? {workflow.succeeded}")
print(f"report: {workflow.result.report}")
