"""R1: 200 workflows × 2 events delivered by 8 spawned processes in random order, with 10% duplicates (same
idempotency key) and 5% unknown correlations, on SQLite (file), PostgreSQL and Redis stores: nothing lost,
nothing applied twice, every duplicate answered idempotently, every unknown answered WorkflowNotFoundError."""

from __future__ import annotations

import multiprocessing
import random
import time
import uuid
from pathlib import Path

import pytest

from tests.stores.store_factory import make_spec, open_store
from tests.workflow import wf_workers
from tests.workflow.wf_contracts import PairWorkflow

pytestmark = [pytest.mark.services, pytest.mark.slow]

WORKFLOWS = 200
PROCESSES = 8
DUPLICATE_SHARE = 0.10
UNKNOWN_SHARE = 0.05


def _tasks(rng: random.Random) -> tuple[list[dict], set[int], set[int]]:
    tasks = []
    for i in range(WORKFLOWS):
        pair_id = f"p-{i:03d}"
        for side in ("left", "right"):
            tasks.append({"pair_id": pair_id, "event": f"{side}_arrived", "key": f"{pair_id}:{side}",
                          "payload": {"pair": pair_id, "side": side, "n": i}})
    originals = len(tasks)
    duplicates = [dict(t) for t in rng.sample(tasks, int(originals * DUPLICATE_SHARE))]
    unknown = [{"pair_id": f"ghost-{j:03d}", "event": rng.choice(["left_arrived", "right_arrived"]),
                "key": f"ghost-{j}", "payload": {"pair": "ghost"}} for j in range(int(originals * UNKNOWN_SHARE))]
    everything = tasks + duplicates + unknown
    for n, task in enumerate(everything):
        task["id"] = n
    dup_ids = {t["id"] for t in duplicates}
    unknown_ids = {t["id"] for t in unknown}
    rng.shuffle(everything)
    return everything, dup_ids, unknown_ids


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "redis"])
def test_R1_concurrent_delivery(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    spec = make_spec(kind, tmp_path, request, uuid.uuid4().hex[:10])
    store = open_store(spec)
    started = {}
    for i in range(WORKFLOWS):
        wf = PairWorkflow.start(pair_id=f"p-{i:03d}", store=store)
        started[f"p-{i:03d}"] = wf.execution_id
    rng = random.Random(f"R1-{kind}")
    tasks, dup_ids, unknown_ids = _tasks(rng)
    assert len(tasks) == 400 + 40 + 20

    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    chunks = [tasks[n::PROCESSES] for n in range(PROCESSES)]
    procs = [ctx.Process(target=wf_workers.deliver_all, args=(spec, chunk, barrier, results)) for chunk in chunks]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    reports = [results.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    elapsed = time.perf_counter() - t0
    outcomes = {task_id: (outcome, detail) for chunk, _ in reports for task_id, outcome, detail in chunk}
    assert len(outcomes) == len(tasks)

    errors = {tid: o for tid, o in outcomes.items() if o[0] == "error"}
    assert errors == {}
    for tid in unknown_ids:  # every unknown correlation answered WorkflowNotFoundError
        assert outcomes[tid][0] == "not_found", outcomes[tid]
        assert "no active PairWorkflow workflow has correlation {'pair_id': 'ghost-" in outcomes[tid][1]
    known = [tid for tid in outcomes if tid not in unknown_ids]
    for tid in known:  # every real delivery, original or duplicate, returned a workflow holding its signal
        assert outcomes[tid] == ("returned", True), (tid, outcomes[tid])
    assert len(dup_ids) == 40

    for pair_id, execution_id in started.items():
        rec = store.record(execution_id)
        assert rec.status == "succeeded", (pair_id, rec.status)
        contract = PairWorkflow.restore(rec.snapshot, store=store)
        i = int(pair_id[2:])
        assert contract.result.joined == {"left": {"pair": pair_id, "side": "left", "n": i},
                                          "right": {"pair": pair_id, "side": "right", "n": i}}
        signals = contract.signals
        assert len(signals) == 2, (pair_id, signals)  # 0 lost, 0 applied twice
        assert sorted(s["idempotency_key"] for s in signals) == [f"{pair_id}:left", f"{pair_id}:right"]
        assert [s["order"] for s in signals] == [1, 2]
        assert rec.version == 3  # start + one save per applied signal: duplicates wrote nothing
    assert store.list(status="waiting") == []
    print(f"\nR1 {kind}: {len(tasks)} deliveries by {PROCESSES} processes in {elapsed:.1f}s "
          f"(worker busy time max {max(t for _, t in reports):.1f}s)")
    store.close()


def test_racing_starts_of_one_correlation_make_one_workflow(store) -> None:
    """8 threads start the same correlation at once: one workflow, seven DuplicateWorkflowError (the store's
    active-correlation index decides when both passed the lookup before either saved)."""
    import threading

    from igniter_nb.errors import DuplicateWorkflowError

    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def racer() -> None:
        barrier.wait(30)
        try:
            PairWorkflow.start(pair_id="race", store=store)
            result = "started"
        except DuplicateWorkflowError:
            result = "duplicate"
        except Exception as exc:  # reported below
            result = f"{type(exc).__name__}: {exc}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=racer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["duplicate"] * 7 + ["started"]
    assert len(store.list(graph="PairWorkflow")) == 1
