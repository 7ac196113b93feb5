"""The EventSimulator and its payload editor under a hostile user: idempotency keys reused, a workflow of another
graph picked, the store changing underneath, editor text that Python's json accepts but JSON does not, a store
with many active workflows. Real stores (memory, an SQLite file); each case is what a user can type."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore, SQLStore
from tests.notebook.service_contracts import SvcLead

NOW = dt.datetime(2026, 1, 2, 9, 0, tzinfo=dt.UTC)
R1 = {"request_id": "r-1"}


@pytest.fixture(params=["memory", "sqlite"])
def store(request: Any, tmp_path: Path) -> Any:
    if request.param == "memory":
        yield MemoryStore()
        return
    with SQLStore(f"sqlite:///{tmp_path / 'sim.db'}") as opened:
        yield opened


def footprint(store: Any) -> dict[str, Any]:
    return {r.execution_id: (r.version, r.status, r.snapshot) for r in store.list()}


def outcome(sim: Any) -> str | None:
    """The error type ``deliver`` raises (None when it delivers)."""
    try:
        sim.deliver()
    except Exception as exc:
        return type(exc).__name__
    return None


# ------------------------------------------------------------------ dry run and deliver agree


@pytest.mark.parametrize(("event", "payload"), [
    ("crm_received", {"name": "B"}),  # the same key, another payload: a retry must send the same payload
    ("billing_ready", {"x": 1}),  # the same key for another event
])
def test_dry_run_refuses_a_reused_idempotency_key_as_deliver_does(store: Any, event: str, payload: Any) -> None:
    SvcLead.start(R1, store=store, now=NOW)
    sim = ig.nb.EventSimulator(SvcLead, store, now=NOW)
    sim.select(correlation=R1, event="crm_received", payload={"name": "A"}, idempotency_key="k-1").deliver()
    sim.select(correlation=R1, event=event, payload=payload, idempotency_key="k-1")
    before = footprint(store)
    preview = sim.dry_run()
    assert not preview.ok and not preview.idempotent
    assert [(e["type"], e["check"]) for e in preview.errors] == [("IdempotencyConflictError", "workflow")]
    assert footprint(store) == before
    assert outcome(sim) == "IdempotencyConflictError" == sim.last_error["type"]
    assert footprint(store) == before


def test_a_true_retry_is_still_previewed_as_idempotent(store: Any) -> None:
    SvcLead.start(R1, store=store, now=NOW)
    sim = ig.nb.EventSimulator(SvcLead, store, now=NOW)
    sim.select(correlation=R1, event="crm_received", payload={"name": "A"}, idempotency_key="k-1").deliver()
    # the same key and payload, key order and a default spelled out: the same payload once validated
    sim.select(correlation=R1, event="crm_received", payload={"tier": "smb", "name": "A"}, idempotency_key="k-1")
    preview = sim.dry_run()
    assert preview.ok and preview.idempotent
    assert outcome(sim) is None and sim.last_delivery.idempotent


def test_dry_run_of_a_late_duplicate_to_a_finished_workflow_says_what_deliver_says(store: Any) -> None:
    SvcLead.start(R1, store=store, now=NOW)
    sim = ig.nb.EventSimulator(SvcLead, store, now=NOW)
    sim.select(correlation=R1, event="crm_received", payload={"name": "A"}).deliver()
    sim.select(event="billing_ready", payload=1).deliver()
    assert sim.status == "succeeded"
    sim.select(correlation=R1, event="billing_ready", payload=1)  # delivered again, no key: a duplicate
    preview = sim.dry_run()
    assert [e["type"] for e in preview.errors] == ["DuplicateSignalError"]
    assert outcome(sim) == "DuplicateSignalError"


def test_a_blank_idempotency_key_is_refused_by_the_dry_run_as_by_deliver(store: Any) -> None:
    SvcLead.start(R1, store=store, now=NOW)
    sim = ig.nb.EventSimulator(SvcLead, store, now=NOW)
    sim.select(correlation=R1, event="crm_received", payload={"name": "A"}, idempotency_key="   ")
    preview = sim.dry_run()
    assert [(e["type"], e["check"]) for e in preview.errors] == [("WorkflowArgumentError", "workflow")]
    assert outcome(sim) == "WorkflowArgumentError"
