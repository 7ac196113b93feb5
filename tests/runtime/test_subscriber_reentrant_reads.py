"""A read of the contract's own results from inside a run (an event subscriber, or a node's callable) computes every
node at most once per version: a node the read needs that the run has already started is either waited for (being
computed on another threads-runner worker) or refused with a ResolutionError naming it (still waiting to be computed:
a read from its own ``node_started`` subscriber, or a cycle through the results). Before, the nested read computed
such a node again (``node_started`` subscribers on any runner; most nested reads on the threads runner).
Real inline and threads runners; threaded reads are joined with a timeout, so a regression fails, not hangs."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from typing import Any

import pytest
from bounded_threads import read_in_thread

import igniter_nb as ig

RUNNERS = ["inline", "threads"]


def _chain(calls: Counter[str], runner: str) -> Any:
    class Chain(ig.Contract):
        def define(c):
            c.input("x", type="integer")
            c.compute("a", call=lambda x: calls.update(["a"]) or x + 1)
            c.compute("b", call=lambda a: calls.update(["b"]) or a + 1)
            c.compute("c", call=lambda x: calls.update(["c"]) or x * 3)
            c.output("b")
            c.output("a")
            c.output("c")

    return Chain(x=1, runner=runner, max_workers=4)


def _read_once_on(contract: Any, event_type: str, node: str, output: str) -> list[Any]:
    """Subscribes a reader of ``output`` to the first ``event_type`` event of ``node``; returns what it read
    (a value or the error raised)."""
    seen: list[Any] = []

    def sub(e: Any) -> None:
        if e.type == event_type and e.node == node and not seen:
            try:
                seen.append(getattr(contract.result, output))
            except ig.ResolutionError as exc:
                seen.append(exc)

    contract.subscribe(sub)
    return seen


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_node_started_subscriber_reading_that_node_is_refused_and_the_node_runs_once(runner: str) -> None:
    calls: Counter[str] = Counter()
    contract = _chain(calls, runner)
    seen = _read_once_on(contract, "node_started", "a", "a")
    out = read_in_thread(lambda: contract.result.b)
    assert out["finished"], "the read hung"
    assert out.get("value") == 3
    assert calls == Counter(a=1, b=1)  # was: a computed twice (by the subscriber's read, then by the run)
    [err] = seen
    assert isinstance(err, ig.ResolutionError)
    assert err.context["node"] == "a"
    assert "subscriber" in str(err) and "'a'" in str(err)
    assert contract.execution.resolver.running == set()


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_node_started_subscriber_reading_a_node_that_needs_it_is_refused_naming_it(runner: str) -> None:
    calls: Counter[str] = Counter()
    contract = _chain(calls, runner)
    seen = _read_once_on(contract, "node_started", "a", "b")
    out = read_in_thread(lambda: contract.result.b)
    assert out.get("value") == 3
    assert calls == Counter(a=1, b=1)
    [err] = seen
    assert isinstance(err, ig.ResolutionError)
    assert err.context["node"] in ("a", "b")  # the first node in progress the read met


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_subscriber_reading_a_node_the_run_computes_later_computes_it_once(runner: str) -> None:
    calls: Counter[str] = Counter()
    contract = _chain(calls, runner)
    seen = _read_once_on(contract, "node_succeeded", "a", "c")
    out = read_in_thread(lambda: (contract.result.b, contract.result.c))
    assert out.get("value") == (3, 3)
    assert seen == [3]
    assert calls == Counter(a=1, b=1, c=1)


def test_a_node_succeeded_subscriber_reading_the_next_node_on_threads_computes_it_once() -> None:
    calls: Counter[str] = Counter()
    contract = _chain(calls, "threads")
    seen = _read_once_on(contract, "node_succeeded", "a", "b")
    out = read_in_thread(lambda: contract.result.b)
    assert out.get("value") == 3
    assert seen == [3]  # the subscriber computed b; the run then took its value instead of computing it again
    assert calls == Counter(a=1, b=1)  # was: b twice
    assert [e.node for e in contract.events if e.type == "node_succeeded"].count("b") == 1


def test_an_unhandled_refusal_is_a_reaction_error_and_the_node_still_succeeds() -> None:
    calls: Counter[str] = Counter()
    contract = _chain(calls, "inline")
    contract.subscribe(lambda e: contract.result.a if e.type == "node_started" and e.node == "a" else None)
    assert contract.result.a == 2
    assert calls == Counter(a=1)
    assert len(contract.reaction_errors) == 1
    assert "'a'" in str(contract.reaction_errors[0])


def _siblings(calls: Counter[str], b_reads_a: bool) -> Any:
    b_started = threading.Event()
    release = threading.Event()

    class Siblings(ig.Contract):
        def define(c):
            c.input("x", type="integer")
            c.compute("a", call="via_b")
            c.compute("b", call="slow_b")
            c.output("a")
            c.output("b")

        def via_b(self, x):
            calls["a"] += 1
            assert b_started.wait(10)
            # b is being computed on the other worker now: this read must wait for it, not compute it again
            threading.Timer(0.2, release.set).start()
            return self.result.b * 10

        def slow_b(self, x):
            calls["b"] += 1
            b_started.set()
            if b_reads_a:
                return self.result.a
            assert release.wait(10)
            return x + 1

    return Siblings


def test_a_callable_reading_a_node_computed_on_another_worker_waits_for_it() -> None:
    calls: Counter[str] = Counter()
    contract = _siblings(calls, b_reads_a=False)(x=1, runner="threads", max_workers=2)
    out = read_in_thread(lambda: (str(contract.status), contract.result.a))  # the run computes a and b at once
    assert out["finished"], "the read hung"
    assert out.get("value") == ("succeeded", 20)
    assert calls == Counter(a=1, b=1)  # was: b twice (once by a's read, once by its own worker)


def test_two_workers_reading_each_other_is_a_cycle_not_a_hang() -> None:
    calls: Counter[str] = Counter()
    contract = _siblings(calls, b_reads_a=True)(x=1, runner="threads", max_workers=2)
    out = read_in_thread(lambda: contract.status)
    assert out["finished"], "the read hung"
    errors = [st.error for st in contract.execution.states.values() if st.error is not None]
    assert errors and all(isinstance(e, ig.ResolutionError) for e in errors)
    assert any("asked for while it is being resolved" in str(e) for e in errors)
    assert calls == Counter(a=1, b=1)


def test_two_threads_reading_with_a_reading_subscriber_compute_each_node_once() -> None:
    calls: Counter[str] = Counter()
    contract = _chain(calls, "threads")
    seen = _read_once_on(contract, "node_succeeded", "a", "c")
    barrier = threading.Barrier(2)

    def read(name: str) -> Any:
        barrier.wait(10)
        return getattr(contract.result, name)

    outs: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda n=n: outs.append(read_in_thread(lambda: read(n)))) for n in ("b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(o.get("value") for o in outs) == [3, 3]
    assert seen == [3]
    assert calls == Counter(a=1, b=1, c=1)


_WAITS_FOR_A_WORKER = '''
import threading
from collections import Counter
import igniter_nb as ig

calls = Counter()
b_started, release = threading.Event(), threading.Event()

class Pair(ig.Contract):
    def define(c):
        c.input("x", type="integer")
        c.compute("a", call=lambda x: calls.update(["a"]) or (b_started.wait(10), x + 1)[1])
        c.compute("b", call=lambda x: calls.update(["b"]) or (b_started.set(), release.wait(10), x + 2)[2])
        c.output("a")
        c.output("b")

k = Pair(x=1, runner="threads", max_workers=2)
seen = []

def sub(e):
    if e.type == "node_succeeded" and e.node == "a":  # b is still being computed on the other worker
        threading.Timer(0.2, release.set).start()
        seen.append(k.result.b)

k.subscribe(sub)
print(str(k.status), k.result.a, k.result.b, seen, dict(sorted(calls.items())), len(k.reaction_errors))
'''


def test_a_subscriber_waiting_for_a_node_on_another_worker_does_not_block_that_worker() -> None:
    """The subscriber of a's event used to run on a's worker while it held the run's recording lock, which b's
    worker needs to record b: waiting for b there would wait for ever. (A subprocess: a regression hangs it, not
    the test run.)"""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        out = subprocess.run([sys.executable, "-c", _WAITS_FOR_A_WORKER], capture_output=True, text=True,
                             timeout=30, env=env, check=True).stdout
    except subprocess.TimeoutExpired:
        pytest.fail("a subscriber waiting for a node computed on another worker hung the run")
    assert out.split() == ["succeeded", "2", "3", "[3]", "{'a':", "1,", "'b':", "1}", "0"]


def test_a_refused_nested_read_keeps_what_it_computed_before_the_refusal() -> None:
    """On node_started of m, a subscriber reads ``out`` (needs n1, then m): its nested run starts n1, then meets m,
    which waits for that subscriber: refused, but only once n1 is recorded. Before, n1 was dropped mid-run and
    computed again by the next read."""
    calls: Counter[str] = Counter()
    release = threading.Event()

    class Late(ig.Contract):
        def define(c):
            c.input("x", type="integer")
            c.compute("m", call=lambda x: calls.update(["m"]) or x + 1)
            # still running when the nested run meets m (released shortly after the read starts)
            c.compute("n1", call=lambda x: calls.update(["n1"]) or (release.wait(10), x + 2)[1])
            c.compute("out", call=lambda n1, m: calls.update(["out"]) or n1 + m)
            c.output("m")
            c.output("out")

    contract = Late(x=1, runner="threads", max_workers=4)
    contract.subscribe(lambda e: threading.Timer(0.2, release.set).start()
                       if e.type == "node_started" and e.node == "m" else None)
    seen = _read_once_on(contract, "node_started", "m", "out")
    out = read_in_thread(lambda: (contract.result.m, contract.result.out))
    assert out.get("value") == (2, 5)
    [err] = seen
    assert isinstance(err, ig.ResolutionError) and err.context["node"] == "m"
    assert calls == Counter(m=1, n1=1, out=1)


@pytest.mark.parametrize("seed", [2, 8, 12])
def test_random_graphs_read_from_every_kind_of_subscriber_compute_each_node_once(seed: int) -> None:
    import random

    rnd = random.Random(seed)
    calls: Counter[str] = Counter()
    size = 25
    deps = {f"n{i}": rnd.sample([f"n{j}" for j in range(i)], k=min(i, rnd.randint(0, 3))) for i in range(size)}
    delays = {name: rnd.random() * 0.002 for name in deps}

    def compute(name: str) -> Any:
        def f(**kw: int) -> int:
            calls[name] += 1
            time.sleep(delays[name])  # (so reads meet nodes still running on other workers)
            return sum(kw.values()) + 1
        return f

    class Random(ig.Contract):
        def define(c):
            c.input("x", type="integer")
            for name, ds in deps.items():
                c.compute(name, depends_on=list(ds) or ["x"], call=compute(name))
                c.output(name)

    contract = Random(x=1, runner="threads", max_workers=4)
    choices = random.Random(seed + 1)
    guard = threading.Lock()

    def sub(e: Any) -> None:
        with guard:
            name = f"n{choices.randrange(size)}" if choices.random() < 0.5 else None
        if name is not None and e.type in ("node_started", "node_succeeded"):
            with contextlib.suppress(ig.ResolutionError):  # a node in progress, waiting for this subscriber
                getattr(contract.result, name)

    contract.subscribe(sub)
    out = read_in_thread(lambda: str(contract.status))
    assert out["finished"], "the run hung"
    assert out.get("value") == "succeeded"
    assert calls == Counter(dict.fromkeys(deps, 1))
