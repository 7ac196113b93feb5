"""Functions run in spawned processes by tests/stores/test_feed.py (importable by module name)."""

from __future__ import annotations

import time
from typing import Any

from igniter_nb.stores.feed import watch
from tests.stores.store_factory import open_store

END = "end"


def watch_and_report(spec: dict[str, Any], execution_id: str, results: Any, timeout: float) -> None:
    """Follow ``execution_id``; put ``(version, status, snapshot)`` on ``results`` per version, then ``(END, why)``."""
    store = open_store(spec)
    why = "returned"
    try:
        for rec in watch(store, execution_id, timeout=timeout):
            results.put((rec.version, rec.status, rec.snapshot))
    except Exception as exc:  # reported: the test fails on it
        why = f"{type(exc).__name__}: {exc}"
    finally:
        results.put((END, why))
        store.close()


def deliver_lead_events(spec: dict[str, Any], correlation: dict[str, Any]) -> None:
    """Deliver LeadWorkflow's two events through ``Contract.deliver_event``, a moment apart."""
    from tests.workflow.wf_contracts import LeadWorkflow

    store = open_store(spec)
    try:
        LeadWorkflow.deliver_event("crm_webhook_received", correlation=correlation,
                                   payload={"crm": "from another process"}, store=store)
        time.sleep(0.05)
        LeadWorkflow.deliver_event("billing_data_fetched", correlation=correlation,
                                   payload={"plan": "pro", "mrr": 42}, store=store)
    finally:
        store.close()
