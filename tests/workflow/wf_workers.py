"""Functions run in spawned worker processes by tests/workflow/test_concurrency.py (importable by name)."""

from __future__ import annotations

import time
from typing import Any

from igniter_nb.errors import WorkflowNotFoundError
from tests.stores.store_factory import open_store
from tests.workflow.wf_contracts import PairWorkflow


def deliver_all(spec: dict[str, Any], tasks: list[dict[str, Any]], barrier: Any, results: Any) -> None:
    """Deliver each task's event; report ``(task id, outcome, detail)`` per task, outcome one of
    ``returned`` (no error), ``not_found`` (WorkflowNotFoundError) or ``error`` (anything else)."""
    store = open_store(spec)
    outcomes = []
    barrier.wait(120)
    started = time.perf_counter()
    for task in tasks:
        try:
            contract = PairWorkflow.deliver_event(task["event"], correlation={"pair_id": task["pair_id"]},
                                                  payload=task["payload"], store=store,
                                                  idempotency_key=task["key"])
            keys = [s["idempotency_key"] for s in contract.signals]
            outcomes.append((task["id"], "returned", task["key"] in keys))
        except WorkflowNotFoundError as exc:
            outcomes.append((task["id"], "not_found", str(exc)))
        except Exception as exc:  # reported, and the test fails on it
            outcomes.append((task["id"], "error", f"{type(exc).__name__}: {exc}"))
    store.close()
    results.put((outcomes, time.perf_counter() - started))
