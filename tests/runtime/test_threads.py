"""The threads runner resolves independent nodes at the same time (L-34); inline does not."""

from __future__ import annotations

import threading
from collections import Counter

import igniter_nb as ig


def barrier_contract(parties: int = 2, timeout: float = 60):
    barrier = threading.Barrier(parties, timeout=timeout)
    calls: Counter[str] = Counter()

    @ig.contract
    def Meet(c):
        c.input("x", type="integer")
        for i in range(parties):
            def side(x, _i=i):
                calls[f"side{_i}"] += 1
                barrier.wait()  # only passes when all sides run at the same time
                return x + _i

            c.compute(f"side{i}", depends_on=["x"], call=side)

        c.compute("total", depends_on=[f"side{i}" for i in range(parties)], call=lambda **kw: sum(kw.values()))
        c.output("total")

    return Meet, barrier, calls


def test_threads_runner_runs_independent_nodes_concurrently():
    Meet, _, calls = barrier_contract(2)
    contract = Meet(x=1, runner="threads", max_workers=4)
    assert contract.result.total == 3
    assert contract.status == "succeeded"
    assert calls == Counter(side0=1, side1=1)


def test_threads_runner_concurrency_below_targets_L34():
    # Four independent nodes under ONE output target: only node-level parallelism can pass the barrier.
    Meet, _, _ = barrier_contract(4)
    assert Meet(x=0, runner="threads", max_workers=4).result.total == 6


def test_inline_runner_cannot_pass_the_barrier():
    Meet, _, _ = barrier_contract(2, timeout=0.2)  # inline runs one side at a time, so the barrier breaks
    contract = Meet(x=1)
    assert contract.status == "failed"
    assert "BrokenBarrierError" in contract.result.errors["side0"].context["cause_type"]


def test_shared_dependency_runs_once_under_threads():
    calls: Counter[str] = Counter()
    lock = threading.Lock()

    @ig.contract
    def Fan(c):
        c.input("x")

        @c.compute
        def shared(x):
            with lock:
                calls["shared"] += 1
            return x

        for i in range(8):
            c.compute(f"leaf{i}", depends_on=["shared"], call=lambda shared, _i=i: shared + _i)
        c.compute("total", depends_on=[f"leaf{i}" for i in range(8)], call=lambda **kw: sum(kw.values()))
        c.output("total")

    assert Fan(x=1, runner="threads", max_workers=8).result.total == 8 + 28
    assert calls["shared"] == 1


def test_threads_runner_records_failures_and_events():
    @ig.contract
    def Mixed(c):
        c.input("x")
        c.compute("ok", call=lambda x: x)

        @c.compute
        def bad(x):
            raise ValueError("bad")

        c.output("ok")
        c.output("bad")

    contract = Mixed(x=1, runner="threads", max_workers=2)
    assert contract.status == "failed"
    assert contract.result.ok == 1
    seqs = [e.seq for e in contract.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    types = Counter(e.type for e in contract.events)
    assert types["node_started"] == 3
    assert types["node_succeeded"] == 2
    assert types["node_failed"] == 1
