"""``migrate`` while another process delivers to the same workflows (PRODUCT §8, a SQLite file shared by two
processes): each save is compare-and-set, so neither loses the other's write — every delivered signal is applied
once, every workflow ends on the new graph, and a second ``migrate`` changes nothing."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from tests.stores.store_factory import make_spec, open_store
from tests.workflow import wf_migrate_race
from tests.workflow.wf_migrate_race import relay_v1, relay_v2

LEADS = [f"L-{i:02d}" for i in range(60)]


def _migrate_while_delivering(spec: Any, store: Any, v2: Any, leads: list[str]) -> tuple[Any, list[Any]]:
    """``v2.migrate(store, rename={"a": "a2"})`` here while a spawned process delivers ``eb`` to ``leads`` (both
    start together at a barrier); the migration report and the process's outcome per lead."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    worker = ctx.Process(target=wf_migrate_race.deliver_b, args=(spec, leads, barrier, results))
    worker.start()
    try:
        barrier.wait(60)
        report = v2.migrate(store, rename={"a": "a2"})
        outcomes = results.get(timeout=120)
        worker.join(30)
    finally:
        if worker.is_alive():
            worker.kill()
            worker.join(10)
    assert worker.exitcode == 0
    return report, outcomes


def test_migrate_while_another_process_delivers_loses_nothing(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    spec = make_spec("sqlite", tmp_path, request, "race")
    store = open_store(spec)
    v1, v2 = relay_v1(), relay_v2()
    ids = {lead: v1.start({"lead": lead}, store=store).execution_id for lead in LEADS}
    report, outcomes = _migrate_while_delivering(spec, store, v2, LEADS[::-1])
    assert outcomes == [(lead, "ok") for lead in LEADS[::-1]]
    assert report.failed == [] and {e.execution_id for e in report.executions} == set(ids.values())
    again = v2.migrate(store, rename={"a": "a2"})
    assert again.migrated == [] and again.failed == []
    for lead, execution_id in ids.items():
        stored = store.fetch(execution_id)
        assert stored["workflow"]["awaits"] == {"a2": "ea", "b": "eb"}, lead
        assert [(s["node"], s["idempotency_key"]) for s in stored["workflow"]["signals"]] == [("b", f"{lead}:b")]
        assert "a" not in stored["states"]
        done = v2.deliver_event("ea", correlation={"lead": lead}, payload=lead.lower(), store=store)
        assert done.workflow_status == "succeeded" and done.result.out == [lead.lower(), lead]
    store.close()


def test_a_rollout_where_the_new_version_delivers_while_migrate_runs_loses_no_payload(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Every workflow already received ``ea`` under the old graph; a new-version process delivers ``eb`` while the
    parent migrates. A delivery before its workflow was migrated is refused (nothing written), never saved without
    ``a``'s payload; delivered again afterwards, each workflow ends with both payloads."""
    spec = make_spec("sqlite", tmp_path, request, "rollout")
    store = open_store(spec)
    v1, v2 = relay_v1(), relay_v2()
    leads = LEADS[:24]
    for lead in leads:
        v1.start({"lead": lead}, store=store)
        v1.deliver_event("ea", correlation={"lead": lead}, payload=lead.lower(), store=store)
    report, outcomes = _migrate_while_delivering(spec, store, v2, leads[::-1])
    assert report.failed == [] and report.lost == []
    refused = [lead for lead, outcome in outcomes if outcome != "ok"]
    assert all(outcome == "ok" or outcome.startswith("GraphChangedError: ") for _, outcome in outcomes), outcomes
    for lead in refused:  # the sender retries once the workflows are migrated
        v2.deliver_event("eb", correlation={"lead": lead}, payload=lead, store=store, idempotency_key=f"{lead}:b")
    for lead in leads:
        done = v2.deliver_event("eb", correlation={"lead": lead}, payload=lead, store=store, idempotency_key=f"{lead}:b")
        assert done.workflow_status == "succeeded" and done.result.out == [lead.lower(), lead], lead
    store.close()
