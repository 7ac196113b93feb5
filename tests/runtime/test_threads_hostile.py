"""The threads runner under hostile use: a node failing while another waits for it, a subscriber that raises, a
BaseException in a node, a cycle of nested reads across three workers, eight threads reading at once, a node
reading its own output. Each finishes with a correct, located value or error. Real threads runner; every wait has
a timeout and every read runs in a daemon thread joined with a timeout, so a regression fails instead of hanging."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from bounded_threads import BOUND, Halt, caught_read, read_in_thread, reading_contract, wait_until

import igniter_nb as ig


def test_a_waiter_on_a_node_that_fails_on_another_worker_gets_its_located_error() -> None:
    b_entered = threading.Event()
    caught: list[BaseException] = []

    def read_b(contract: Any, x: int) -> Any:
        assert b_entered.wait(BOUND)
        # b is being computed on the other worker: waits for it, then its error
        return caught_read(lambda: contract.result.b, caught)

    def boom(contract: Any, x: int) -> Any:
        b_entered.set()
        raise ValueError("b exploded")

    cls = reading_contract("Failing", {"a": read_b, "b": boom}, ["a", "b"], ["b"])
    contract = cls(x=1, runner="threads", max_workers=2)
    out = read_in_thread(lambda: contract.result.top, timeout=BOUND * 2)
    assert out["finished"], "the read hung"
    assert str(contract.status) == "failed"
    [err] = caught
    assert "b exploded" in str(err)
    assert err.context.get("node") == "b"
    states = contract.execution.states
    assert str(states["b"].status) == "failed" and states["b"].error.context["node"] == "b"
    assert str(states["a"].status) == "failed"


def test_a_subscriber_that_raises_is_a_reaction_error_and_the_run_goes_on() -> None:
    calls: Counter[str] = Counter()

    @ig.contract
    def Wide(c):
        c.input("x", type="integer")
        for name in ("p", "q", "r", "s"):
            c.compute(name, call=lambda x, name=name: calls.update([name]) or x)
        c.compute("total", call=lambda p, q, r, s: p + q + r + s)
        c.output("total")

    contract = Wide(x=1, runner="threads", max_workers=4)

    def hostile(e: Any) -> None:
        if e.type in ("node_started", "node_succeeded"):
            raise RuntimeError(f"subscriber broke on {e.type} {e.node}")

    contract.subscribe(hostile)
    out = read_in_thread(lambda: contract.result.total, timeout=BOUND * 2)
    assert out.get("value") == 4
    assert calls == Counter(p=1, q=1, r=1, s=1)
    assert len(contract.reaction_errors) == 12  # two events for each of the 6 nodes (x included)
    assert all("subscriber broke" in str(e) for e in contract.reaction_errors)
    assert contract.execution.resolver.running == set()


@pytest.mark.parametrize("kind", [Halt, SystemExit])
def test_a_base_exception_in_a_node_reaches_the_caller_and_leaves_nothing_running(kind: type) -> None:
    calls: Counter[str] = Counter()
    release = threading.Event()

    @ig.contract
    def Halting(c):
        c.input("x", type="integer")

        @c.compute
        def slow(x):
            calls["slow"] += 1
            release.wait(BOUND)
            return x

        @c.compute
        def halts(x):
            calls["halts"] += 1
            if calls["halts"] == 1:
                raise kind("stop now")
            return x + 1

        c.compute("both", call=lambda slow, halts: slow + halts)
        c.output("both")

    contract = Halting(x=1, runner="threads", max_workers=2)
    out = read_in_thread(lambda: contract.result.both, timeout=BOUND * 2)
    release.set()
    assert out["finished"], "the read hung"
    assert isinstance(out.get("error"), kind)
    assert contract.execution.resolver.running == set()
    assert "halts" not in contract.execution.states  # interrupted: no state, the next read computes it again
    assert [e.payload.get("error") for e in contract.events if e.type == "execution_failed"][-1:] == \
        [f"interrupted: {kind.__name__}"]
    again = read_in_thread(lambda: contract.result.both, timeout=BOUND * 2)
    assert again.get("value") == 3


@pytest.mark.parametrize("runner", ["threads", "inline"])
def test_a_reader_waiting_for_a_node_that_raises_a_base_exception_gets_it_as_inline(runner: str) -> None:
    """a's callable reads b, computed on the other worker, which raises Halt. Inline, Halt goes through a's read;
    on threads a's read used to end with "interrupted (Ctrl-C)" or, when it looked first, to compute b again."""
    calls: Counter[str] = Counter()
    b_entered = threading.Event()
    a_done = threading.Event()
    caught: list[BaseException] = []

    def read_b(contract: Any, x: int) -> Any:
        calls["a"] += 1
        if runner == "threads":
            assert b_entered.wait(BOUND)
        return caught_read(lambda: contract.result.b, caught, a_done)

    def halt(contract: Any, x: int) -> Any:
        calls["b"] += 1
        b_entered.set()
        if calls["b"] == 1:
            if runner == "threads":  # raised once a's read waits for b
                waits = contract.execution.resolver.in_flight.waits
                wait_until(lambda: "b" in waits.get("a", ()), "a waits for b")
            raise Halt("stop now")
        return x

    cls = reading_contract("Halting", {"a": read_b, "b": halt}, ["a", "b"], ["b"])
    contract = cls(x=1, runner=runner, max_workers=2)
    out = read_in_thread(lambda: contract.result.top, timeout=BOUND * 2)
    assert out["finished"], "the read hung"
    assert isinstance(out.get("error"), Halt)
    assert a_done.wait(BOUND)
    assert [type(e) for e in caught] == [Halt], caught
    assert calls == Counter(a=1, b=1)  # b not computed again by a's read
    assert contract.execution.resolver.running == set()
    assert read_in_thread(lambda: contract.result.top, timeout=BOUND * 2).get("value") == (1, 1)


def test_a_worker_reading_after_a_base_exception_ended_its_run_is_told_what_interrupted_it() -> None:
    returned = threading.Event()
    a_done = threading.Event()
    caught: list[BaseException] = []

    def late_read(contract: Any, x: int) -> Any:
        assert returned.wait(BOUND)  # the read this node was computed for has raised Halt
        return caught_read(lambda: contract.result.b, caught, a_done)

    def halt(contract: Any, x: int) -> Any:
        raise Halt("stop now")

    cls = reading_contract("Halting", {"a": late_read, "b": halt}, ["a", "b"], ["b"])
    contract = cls(x=1, runner="threads", max_workers=2)
    out = read_in_thread(lambda: contract.result.top, timeout=BOUND * 2)
    returned.set()
    assert isinstance(out.get("error"), Halt)
    assert a_done.wait(BOUND)
    [err] = caught
    assert isinstance(err, ig.ResolutionError)
    assert "was interrupted (Halt)" in str(err)  # was: "(Ctrl-C)", whatever interrupted it
    assert err.context["node"] == "a"


def test_a_cycle_of_nested_reads_across_three_workers_is_refused_naming_the_node() -> None:
    all_in = threading.Barrier(3, timeout=BOUND)
    calls: Counter[str] = Counter()

    def reads(node: str, target: str) -> Any:
        def read(contract: Any, x: int) -> Any:
            calls[node] += 1
            all_in.wait()
            return getattr(contract.result, target)
        return read

    ring = {"a": reads("a", "b"), "b": reads("b", "c"), "c": reads("c", "a")}
    contract = reading_contract("Ring", ring, ["a", "b", "c"], ["a", "b", "c"])(x=1, runner="threads", max_workers=3)
    out = read_in_thread(lambda: contract.result.top, timeout=BOUND * 2)
    assert out["finished"], "the read hung"
    assert str(contract.status) == "failed"
    states = contract.execution.states
    refusals = [st.error for st in states.values()
                if st.error is not None and "asked for while it is being resolved" in str(st.error)]
    assert refusals, {n: str(st.error) for n, st in states.items()}
    for err in refusals:
        node = err.context["node"]
        assert node in ("a", "b", "c")
        assert f"Node '{node}'" in str(err)
        # the whole cycle, from the refused reader round to it again (was: only the node refused)
        cycle = err.context["cycle"]
        assert cycle[0] == cycle[-1] and sorted(cycle[:-1]) == ["a", "b", "c"] and cycle[1] == node
        assert " waits for ".join(f"'{n}'" for n in cycle) in str(err)
    assert calls == Counter(a=1, b=1, c=1)
    assert contract.execution.resolver.running == set()


def test_eight_threads_reading_the_same_contract_at_once_compute_each_node_once() -> None:
    calls: Counter[str] = Counter()
    guard = threading.Lock()
    start = threading.Barrier(8, timeout=BOUND)

    def count(name: str, value: int) -> int:
        with guard:
            calls[name] += 1
        return value

    @ig.contract
    def Shared(c):
        c.input("x", type="integer")
        c.compute("base", call=lambda x: count("base", x))
        for i in range(6):
            c.compute(f"leaf{i}", call=lambda base, i=i: count(f"leaf{i}", base + i))
        c.compute("sum", call=lambda leaf0, leaf1, leaf2, leaf3, leaf4, leaf5: count(
            "sum", leaf0 + leaf1 + leaf2 + leaf3 + leaf4 + leaf5))
        c.output("sum")
        c.output("leaf3")

    contract = Shared(x=1, runner="threads", max_workers=4)
    outs: list[dict[str, Any]] = []

    def read(i: int) -> Any:
        start.wait()
        return contract.result.sum if i % 2 else contract.result.leaf3

    threads = [threading.Thread(target=lambda i=i: outs.append(read_in_thread(lambda: read(i), timeout=BOUND * 2)))
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(BOUND * 3)
    assert len(outs) == 8 and all(o["finished"] for o in outs)
    assert sorted(o.get("value") for o in outs) == [4] * 4 + [21] * 4
    assert set(calls.values()) == {1} and len(calls) == 8
    assert contract.execution.resolver.running == set()


@pytest.mark.parametrize("runner", ["threads", "inline"])
def test_a_node_reading_its_own_output_is_refused_naming_it(runner: str) -> None:
    calls: Counter[str] = Counter()

    def read_me(contract: Any, x: int) -> Any:
        calls["me"] += 1
        return contract.result.me + 1

    cls = reading_contract("Selfish", {"other": lambda contract, x: x, "me": read_me}, ["me", "other"], ["me"])
    contract = cls(x=1, runner=runner, max_workers=2)
    out = read_in_thread(lambda: contract.result.top, timeout=BOUND * 2)
    assert out["finished"], "the read hung"
    assert calls == Counter(me=1)
    err = contract.execution.states["me"].error
    assert isinstance(err, ig.ResolutionError)
    assert "Node 'me' was asked for while it is being resolved" in str(err)
    assert err.context["node"] == "me" and err.context.get("graph") == "Selfish"
    assert contract.execution.resolver.running == set()


@pytest.mark.parametrize("workers", [1, 2])
def test_callables_reading_a_node_queued_behind_them_compute_it_instead_of_waiting_for_ever(workers: int) -> None:
    """Every worker of the pool runs a callable reading ``c``, which the run has queued behind them: no worker is
    left to start it. The reads used to wait for ever; one of them now computes c itself, once."""
    calls: Counter[str] = Counter()
    guard = threading.Lock()

    def count(name: str) -> None:
        with guard:
            calls[name] += 1

    def read_c(contract: Any, x: int) -> Any:
        count("reader")
        return contract.result.c * 10

    starved = {"a": read_c, "b": read_c, "c": lambda contract, x: count("c") or x + 1}
    contract = reading_contract("Starved", starved, ["a", "b", "c"], ["c"])(x=1, runner="threads", max_workers=workers)
    out = read_in_thread(lambda: contract.result.top, timeout=BOUND)
    assert out["finished"], "the read hung"
    assert out.get("value") == (20, 20, 2)
    assert calls == Counter(reader=2, c=1)
    assert [e.node for e in contract.events if e.type == "node_succeeded"].count("c") == 1
    assert contract.execution.resolver.running == set()
