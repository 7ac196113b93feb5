"""One contract instance read, updated and resumed from several threads at once: each operation runs whole
(a per-execution lock), every node runs once, and no thread gets another's work reported as a cycle."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest

import igniter_nb as ig


def _slow_contract(started: threading.Event, release: threading.Event, calls: Counter[str]) -> Any:
    @ig.contract
    def Shared(c):
        c.input("x", type="integer")

        @c.compute
        def slow(x):
            calls["slow"] += 1
            started.set()
            assert release.wait(5)
            return x * 2

        @c.compute
        def y(slow):
            calls["y"] += 1
            return slow + 1

        c.output("y")

    return Shared


def _read_from_threads(contract: Any, count: int, started: threading.Event, release: threading.Event) -> tuple[list[Any], list[BaseException]]:
    values: list[Any] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            values.append(contract.result.y)
        except BaseException as exc:
            errors.append(exc)

    first = threading.Thread(target=read)
    first.start()
    assert started.wait(5)  # the first reader is inside `slow`: the others arrive while it runs
    others = [threading.Thread(target=read) for _ in range(count - 1)]
    for t in others:
        t.start()
    release.set()
    for t in [first, *others]:
        t.join(10)
        assert not t.is_alive()
    return values, errors


@pytest.mark.parametrize("runner", ["inline", "threads"])
def test_eight_threads_reading_one_contract_get_the_value_and_each_node_runs_once(runner):
    started, release, calls = threading.Event(), threading.Event(), Counter[str]()
    Shared = _slow_contract(started, release, calls)
    contract = Shared(x=1, runner=runner, max_workers=2)
    values, errors = _read_from_threads(contract, 8, started, release)
    assert errors == []  # was: 7 × ResolutionError "asked for while it is being resolved" (a cycle that is not there)
    assert values == [3] * 8
    assert calls == Counter(slow=1, y=1)
    assert contract.execution.resolver.running == set()


def test_update_from_another_thread_waits_for_the_resolution_in_progress():
    started, release, calls = threading.Event(), threading.Event(), Counter[str]()
    Shared = _slow_contract(started, release, calls)
    contract = Shared(x=1)
    reader = threading.Thread(target=lambda: contract.result.y)
    reader.start()
    assert started.wait(5)
    updater = threading.Thread(target=lambda: contract.update_inputs(x=10))
    updater.start()
    release.set()
    reader.join(10)
    updater.join(10)
    # the update came after the read finished, so its invalidation is not lost under a value computed from x=1
    assert contract.result.y == 21


def test_a_callable_reading_its_own_contract_on_a_threads_runner_worker_still_works():
    class Reads(ig.Contract):
        def define(c):
            c.input("x", type="integer")
            c.compute("a", call="via_result")
            c.compute("b", call=lambda x: x + 1)
            c.output("a")
            c.output("b")

        def via_result(self, x):
            return self.result.b * 10

    assert Reads(x=1, runner="threads", max_workers=2).result.a == 20
    assert Reads(x=1).result.a == 20


def test_a_real_cycle_through_the_results_is_still_reported():
    class Loop(ig.Contract):
        def define(c):
            c.input("x", type="integer")
            c.compute("a", call="via_result")
            c.output("a")

        def via_result(self, x):
            return self.result.a

    with pytest.raises(ig.ResolutionError, match="asked for while it is being resolved"):
        _ = Loop(x=1).result.a
