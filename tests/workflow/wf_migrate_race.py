"""Contracts and the worker of tests/workflow/test_migrate_race.py (importable by name in a spawned process):
``Relay`` before and after a deploy that renames its await ``a`` to ``a2`` (same event)."""

from __future__ import annotations

import contextlib
from typing import Any

import igniter_nb as ig
from igniter_nb.errors import WorkflowNotFoundError
from tests.stores.store_factory import open_store


def relay_v1() -> Any:
    class Relay(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.await_event("a", event="ea")
            c.await_event("b", event="eb")
            c.compute("out", depends_on=["a", "b"], call=lambda a, b: [a, b])
            c.output("out")

    return Relay


def relay_v2() -> Any:
    class Relay(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.await_event("a2", event="ea")
            c.await_event("b", event="eb")
            c.compute("out", depends_on=["a2", "b"], call=lambda a2, b: [a2, b])
            c.output("out")

    return Relay


def deliver_b(spec: dict[str, Any], leads: list[str], barrier: Any, results: Any) -> None:
    """Deliver ``eb`` to each lead's workflow with the new graph, while the parent migrates; report the outcomes."""
    store = open_store(spec)
    relay = relay_v2()
    # warm up (imports, compiled graph, connection) before the barrier, so the deliveries overlap the migration
    with contextlib.suppress(WorkflowNotFoundError):
        relay.deliver_event("eb", correlation={"lead": "warm-up"}, payload="", store=store)
    outcomes = []
    barrier.wait(60)
    for lead in leads:
        try:
            relay.deliver_event("eb", correlation={"lead": lead}, payload=lead, store=store,
                                idempotency_key=f"{lead}:b")
            outcomes.append((lead, "ok"))
        except Exception as exc:  # reported, and the test fails on it
            outcomes.append((lead, f"{type(exc).__name__}: {exc}"))
    store.close()
    results.put(outcomes)
