"""``MigrationReport.stranded`` lists only the active workflows that still wait for an await no longer deliverable
(removed, renamed or re-evented before its event arrived) — not those whose await became a compute (it computes
now) nor those whose await had already been delivered before it was removed. Real stores (memory, SQLite)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore, SQLStore
from tests.workflow.test_graph_changes import CORR, T0, version_1, version_2_without_crm


def version_2_crm_computed() -> Any:
    class Onboarding(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.compute("crm", depends_on=["lead"], call=lambda lead: {"name": lead})
            c.await_event("billing", event="billing_received")
            c.compute("report", depends_on=["crm", "billing"], call=lambda crm, billing: {**crm, **billing})
            c.output("report")

    return Onboarding


@pytest.fixture(params=["memory", "sqlite"])
def store(request: Any, tmp_path: Path) -> Any:
    if request.param == "memory":
        yield MemoryStore()
        return
    with SQLStore(f"sqlite:///{tmp_path / 'wf.db'}") as opened:
        yield opened


@pytest.mark.parametrize("dry_run", [True, False])
def test_an_await_that_became_a_compute_strands_nothing(store: Any, dry_run: bool) -> None:
    version_1().start(CORR, store=store, now=T0)
    report = version_2_crm_computed().migrate(store, dry_run=dry_run, now=T0)
    (entry,) = report.executions
    assert entry.removed_awaits == {"crm": "crm_received"}  # the graph no longer awaits it ...
    assert entry.stranded_awaits == {}  # ... but the workflow waits for nothing there: crm computes
    assert report.stranded == [] and "stranded 0" in repr(report)  # was: stranded 1


@pytest.mark.parametrize("dry_run", [True, False])
def test_an_await_delivered_before_it_was_removed_strands_nothing(store: Any, dry_run: bool) -> None:
    v1 = version_1()
    v1.start(CORR, store=store, now=T0)
    v1.deliver_event("crm_received", correlation=CORR, payload={"name": "Acme"}, store=store, now=T0)
    report = version_2_without_crm().migrate(store, dry_run=dry_run, now=T0)
    (entry,) = report.executions
    assert entry.removed_awaits == {"crm": "crm_received"} and entry.stranded_awaits == {}
    assert report.stranded == []  # was: stranded 1 — its event had arrived


@pytest.mark.parametrize("dry_run", [True, False])
def test_an_await_removed_before_its_event_arrived_is_stranded(store: Any, dry_run: bool) -> None:
    version_1().start(CORR, store=store, now=T0)
    report = version_2_without_crm().migrate(store, dry_run=dry_run, now=T0)
    (entry,) = report.executions
    assert entry.stranded_awaits == {"crm": "crm_received"}
    assert report.stranded == [entry]
    assert entry.to_dict()["stranded_awaits"] == {"crm": "crm_received"}
