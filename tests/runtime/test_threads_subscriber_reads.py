"""An event subscriber may read the contract's results on the threads runner, as it may inline: the read starts a
nested threads run whose workers emit events while the subscriber runs. Those events wait for it (subscribers never
run at the same time) instead of their workers blocking on the bus until it returns, which it never did (a hang).
Real threads runner; each read runs in a daemon thread joined with a timeout, so a regression fails, not hangs."""

from __future__ import annotations

import threading
from typing import Any

from bounded_threads import read_in_thread

import igniter_nb as ig


class TwoBranches(ig.Contract):
    def define(c):
        c.input("x", type="integer")
        c.compute("a", call=lambda x: x + 1)
        c.compute("b", call=lambda x: x + 2)
        c.compute("p", call=lambda x: x * 2)
        c.compute("q", call=lambda x: x * 3)
        c.compute("c", call=lambda p, q: p + q)
        c.compute("ab", call=lambda a, b: a + b)
        c.output("ab")
        c.output("c")


def test_a_subscriber_reading_results_on_the_threads_runner_gets_them() -> None:
    contract = TwoBranches(x=1, runner="threads", max_workers=4)
    seen: list[int] = []

    def sub(e: Any) -> None:
        if e.type == "node_succeeded" and e.node == "a":
            seen.append(contract.result.c)

    contract.subscribe(sub)
    out = read_in_thread(lambda: contract.result.ab)
    assert out["finished"], "the read hung"
    assert out.get("error") is None
    assert out["value"] == 5
    assert seen == [5]  # what the inline runner gives too
    assert contract.reaction_errors == []


def test_the_inline_runner_gives_the_same_values() -> None:
    contract = TwoBranches(x=1)
    seen: list[int] = []
    contract.subscribe(lambda e: seen.append(contract.result.c) if e.type == "node_succeeded" and e.node == "a"
                       else None)
    assert contract.result.ab == 5
    assert seen == [5]


def test_every_event_reaches_the_subscriber_once_in_seq_order_and_never_concurrently() -> None:
    contract = TwoBranches(x=1, runner="threads", max_workers=4)
    delivered: list[int] = []
    nested: list[int] = []
    active = [0, 0]  # running now, most at once
    guard = threading.Lock()

    def sub(e: Any) -> None:
        with guard:
            active[0] += 1
            active[1] = max(active[1], active[0])
        try:
            delivered.append(e.seq)
            if e.type == "node_succeeded" and e.node in ("a", "b"):
                nested.append(contract.result.c)  # a nested run: its events are emitted while this subscriber runs
        finally:
            with guard:
                active[0] -= 1

    contract.subscribe(sub)
    out = read_in_thread(lambda: (contract.result.ab, contract.result.c))
    assert out["finished"], "the read hung"
    assert out["value"] == (5, 5)
    assert active[1] == 1
    assert nested == [5, 5]
    log = [e.seq for e in contract.events]
    assert log == sorted(log)
    assert delivered == log
