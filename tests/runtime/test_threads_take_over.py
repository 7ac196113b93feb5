"""A node taken over by a reader (``InFlight.take_over``: computed on the reader's own thread because no worker had
started it) while another reader waits for it. Two workers: ``a``'s callable reads ``c`` then ``w``; ``w``'s reads
``c``; ``c`` is queued behind both. ``a`` takes ``c`` over; ``w``'s read of ``c`` used to wait for ``c``'s pool
future, which only a pool worker completes (after the taker recorded it) — and both were busy: ``a`` waiting for
``w``, ``w`` for ``c``. The order of ``w``'s claim and ``a``'s take-over is forced by wrapping ``InFlight``'s
methods; every wait is bounded and the read runs in a daemon thread joined with a timeout."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from bounded_threads import read_in_thread

import igniter_nb as ig
from igniter_nb.runtime.workers import InFlight, Work

BOUND = 10.0


class Halt(BaseException):
    """Neither an Exception nor KeyboardInterrupt: what a framework's cancellation may raise."""


class Hooks:
    """Events set as the outer run hands ``c`` over, as ``w`` claims ``c``, and as a reader takes ``c`` over."""

    def __init__(self, monkeypatch: Any, *, claim_waits_for_take_over: bool) -> None:
        self.c_handed = threading.Event()
        self.w_claimed = threading.Event()
        self.c_taken = threading.Event()
        self.w_read = threading.Event()  # w's read of c has returned or raised
        self.takers: list[str | int] = []
        claim, take_over, hand_over = InFlight.claim, InFlight.take_over, InFlight.hand_over

        def wrapped_hand_over(flight: Any, future: Any, work: Work | None = None) -> None:
            hand_over(flight, future, work)
            if work is not None and work.args[0] == "c":
                self.c_handed.set()

        def wrapped_claim(flight: InFlight, name: str, waiter: str | int, *, track: bool) -> Any:
            out = claim(flight, name, waiter, track=track)
            if name == "c" and waiter == "w":
                self.w_claimed.set()
                if claim_waits_for_take_over:  # w may not take c over itself: a does, after this claim
                    self.c_taken.wait(BOUND)
            return out

        def wrapped_take_over(flight: InFlight, found: Any) -> Work | None:
            work = take_over(flight, found)
            if work is not None and work.args[0] == "c":
                self.takers.append(InFlight.waiter())
                self.c_taken.set()
            return work

        monkeypatch.setattr(InFlight, "hand_over", staticmethod(wrapped_hand_over))
        monkeypatch.setattr(InFlight, "claim", wrapped_claim)
        monkeypatch.setattr(InFlight, "take_over", wrapped_take_over)


def tangle(hooks: Hooks, *, claim_first: bool,
           c_raises: type[BaseException] | None = None) -> tuple[Any, Counter[str], list[BaseException]]:
    """The contract class, the calls of each callable, and what w's read of c raised."""
    calls: Counter[str] = Counter()
    caught: list[BaseException] = []
    c_started = threading.Event()

    class Tangle(ig.Contract):
        def define(c):
            c.input("x", type="integer")
            c.compute("a", call="read_c_then_w")
            c.compute("w", call="read_c")
            c.compute("c", call="slow_c")
            c.compute("top", call=lambda a, w, c: (a, w, c))
            c.output("top")
            c.output("c")
            c.output("w")

        def read_c_then_w(self, x):
            calls["a"] += 1
            assert hooks.c_handed.wait(BOUND), "the run never handed c over"
            if claim_first:  # w claims c before a takes it over
                assert hooks.w_claimed.wait(BOUND), "w never read c"
            return self.result.c + self.result.w

        def read_c(self, x):
            calls["w"] += 1
            assert hooks.c_handed.wait(BOUND), "the run never handed c over"
            if not claim_first:  # w claims c while a computes it
                assert c_started.wait(BOUND), "c never started"
            try:
                return self.result.c * 10
            except BaseException as exc:
                caught.append(exc)
                raise
            finally:
                hooks.w_read.set()

        def slow_c(self, x):
            calls["c"] += 1
            c_started.set()
            if not claim_first:
                assert hooks.w_claimed.wait(BOUND), "w never read c"
            if c_raises is not None and calls["c"] == 1:
                raise c_raises("stop now")
            return x + 1

    return Tangle, calls, caught


@pytest.mark.parametrize("claim_first", [True, False], ids=["claim-before-take-over", "claim-after-take-over"])
def test_a_reader_waiting_for_a_node_another_reader_took_over_wakes_when_it_is_recorded(
        monkeypatch: Any, claim_first: bool) -> None:
    hooks = Hooks(monkeypatch, claim_waits_for_take_over=claim_first)
    cls, calls, caught = tangle(hooks, claim_first=claim_first)
    contract = cls(x=1, runner="threads", max_workers=2)
    out = read_in_thread(lambda: contract.result.top, timeout=BOUND * 2)
    assert out["finished"], "the read hung: w waited for c's pool future while both workers waited"
    assert hooks.takers == ["a"]  # the order was forced: a took c over, w waited for it
    assert out.get("value") == (22, 20, 2), out.get("error")
    assert calls == Counter(a=1, w=1, c=1)
    assert caught == []
    assert [e.node for e in contract.events if e.type == "node_succeeded"].count("c") == 1
    assert contract.execution.resolver.running == set()


def test_a_base_exception_in_a_node_taken_over_reaches_the_reader_waiting_for_it(monkeypatch: Any) -> None:
    """c, taken over by a while w waits for it, raises Halt: w's read gets that Halt too (as inline), instead of
    computing c a second time, and the caller gets it; nothing is left running."""
    hooks = Hooks(monkeypatch, claim_waits_for_take_over=True)
    cls, calls, caught = tangle(hooks, claim_first=True, c_raises=Halt)
    contract = cls(x=1, runner="threads", max_workers=2)
    out = read_in_thread(lambda: contract.result.top, timeout=BOUND * 2)
    assert out["finished"], "the read hung"
    assert hooks.takers == ["a"]
    assert isinstance(out.get("error"), Halt)
    assert hooks.w_read.wait(BOUND)  # (the caller returns as soon as a's Halt reaches it, without waiting for w)
    assert [type(e) for e in caught] == [Halt], caught
    assert calls["c"] == 1
    assert contract.execution.resolver.running == set()


def test_a_take_over_losing_the_race_to_a_worker_leaves_readers_a_signal_the_worker_completes() -> None:
    """A reader tries to take a work over just as a worker starts it (the token is there when looked at, gone when
    popped). The completion signal it had made for the worker to wait on must not stay: readers claiming the node
    afterwards would wait for a signal nobody completes (the worker completes the run's future only)."""
    from concurrent.futures import Future

    from igniter_nb.runtime.workers import Flight

    class Raced(list):  # type: ignore[type-arg]
        def pop(self, *args: Any) -> Any:
            super().pop(*args)  # the worker's pop, just before the reader's
            raise IndexError("pop from empty list")

    in_flight = InFlight()
    flight = in_flight.started.setdefault("n", Flight())
    work = Work("n", lambda: None)
    pool_future: Future[Any] = Future()
    InFlight.hand_over(flight, pool_future, work)
    work.token = Raced([True])
    assert in_flight.take_over(flight) is None  # the worker won
    claimed = in_flight.claim("n", "reader", track=False)
    assert isinstance(claimed, tuple)
    _, signal = claimed
    assert signal is not None and not signal.done()
    pool_future.set_result(None)  # the worker recorded n
    assert signal.done(), "the reader would wait for ever"
