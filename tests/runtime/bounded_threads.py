"""What the threads-runner tests share (tests/runtime/test_threads_*.py): reads run on a daemon thread joined with a
timeout, bounded waits for a state another thread reaches, contracts whose callables read the contract's own
results, and hooks on ``InFlight`` that force the order of two threads. A regression fails the test instead of
hanging the run. (The fixture making GIL switches frequent is in conftest.py.)"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.runtime.workers import InFlight, Work

#: How long any wait of these tests may take before it counts as a hang.
BOUND = 10.0


class Halt(BaseException):
    """Neither an Exception nor KeyboardInterrupt: what a framework's cancellation may raise."""


def read_in_thread(read: Any, timeout: float = 30) -> dict[str, Any]:
    """``{"value": read()}`` or ``{"error": exc}``, plus ``"finished"``: False when it was still running after
    ``timeout`` seconds."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = read()
        except BaseException as exc:  # reported by the test, not lost in the thread
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    out["finished"] = not t.is_alive()
    return out


def caught_read(read: Callable[[], Any], caught: list[BaseException], done: threading.Event | None = None) -> Any:
    """``read()`` (a callable reading its contract's results), what it raises also appended to ``caught``; ``done``
    is set once it has returned or raised."""
    try:
        return read()
    except BaseException as exc:
        caught.append(exc)
        raise
    finally:
        if done is not None:
            done.set()


def wait_until(condition: Callable[[], Any], what: str, bound: float = BOUND) -> None:
    """Polls ``condition()`` (a state another thread reaches) until it holds, at most ``bound`` seconds."""
    pause = threading.Event()
    for _ in range(int(bound / 0.005)):
        if condition():
            return
        pause.wait(0.005)
    raise AssertionError(f"never reached: {what}")


def reading_contract(name: str, nodes: dict[str, Callable[[Any, int], Any]], top: Sequence[str],
                     outputs: Sequence[str] = (), tuples: dict[str, Sequence[str]] | None = None) -> Any:
    """A contract class ``name``: input ``x``; one node per entry of ``nodes``, computed by ``fn(contract, x)`` (it
    may read the contract's own results, ``contract.result.c``); ``top``, the tuple of the values of the ``top``
    nodes, in that order (what a read of output ``top`` has the run compute at once), and likewise a node per entry
    of ``tuples``; outputs ``top`` and ``outputs``."""
    groups = {**(tuples or {}), "top": top}

    def define(c: Any) -> None:
        c.input("x", type="integer")
        for node in nodes:
            c.compute(node, call=f"_{node}")
        for group, members in groups.items():
            c.compute(group, depends_on=list(members),
                      call=lambda members=tuple(members), **values: tuple(values[n] for n in members))
        c.output("top")
        for out in outputs:
            c.output(out)

    methods = {f"_{node}": (lambda self, x, fn=fn: fn(self, x)) for node, fn in nodes.items()}
    return type(name, (ig.Contract,), {"define": define, **methods})


class InFlightHooks:
    """Wraps ``InFlight.hand_over``, ``claim`` and ``take_over`` (for the test's duration) to see and order what the
    threads of a run do with a node:

    - ``handed(n)``, ``claimed(n, waiter)``, ``taken(n)``: events set once the run has handed node ``n`` to its pool,
      once ``waiter`` (the node whose callable reads) has claimed ``n``, once a reader has taken ``n`` over;
    - ``work[n]``: ``(the run's future, the Work)`` handed over for ``n``; ``takers[n]``: who took ``n`` over;
    - ``before_claim[(n, waiter)]``, ``after_claim[(n, waiter)]``, ``before_take_over[n]``: called there, on that
      thread (``before_claim`` with the ``InFlight``), to hold it until the test's other thread has done something."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events: defaultdict[tuple[str, ...], threading.Event] = defaultdict(threading.Event)
        self.work: dict[str, tuple[Future[Any], Work]] = {}
        self.takers: defaultdict[str, list[str | int]] = defaultdict(list)
        self.before_claim: dict[tuple[str, str | int], Callable[[InFlight], Any]] = {}
        self.after_claim: dict[tuple[str, str | int], Callable[[], Any]] = {}
        self.before_take_over: dict[str, Callable[[], Any]] = {}
        claim, take_over, hand_over = InFlight.claim, InFlight.take_over, InFlight.hand_over

        def wrapped_hand_over(flight: Any, future: Future[Any], work: Work | None = None) -> None:
            hand_over(flight, future, work)
            if work is not None:
                self.work[work.args[0]] = (future, work)
                self.handed(work.args[0]).set()

        def wrapped_claim(in_flight: InFlight, name: str, waiter: str | int, *, track: bool) -> Any:
            before = self.before_claim.get((name, waiter))
            if before is not None:
                before(in_flight)
            out = claim(in_flight, name, waiter, track=track)
            self.claimed(name, waiter).set()
            then = self.after_claim.get((name, waiter))
            if then is not None:
                then()
            return out

        def wrapped_take_over(in_flight: InFlight, found: Any) -> Work | None:
            name = found.work.args[0] if found.work is not None else None
            before = self.before_take_over.get(name) if name is not None else None
            if before is not None:
                before()
            work = take_over(in_flight, found)
            if work is not None:
                self.takers[work.args[0]].append(InFlight.waiter())
                self.taken(work.args[0]).set()
            return work

        monkeypatch.setattr(InFlight, "hand_over", staticmethod(wrapped_hand_over))
        monkeypatch.setattr(InFlight, "claim", wrapped_claim)
        monkeypatch.setattr(InFlight, "take_over", wrapped_take_over)

    def handed(self, name: str) -> threading.Event:
        return self.events["handed", name]

    def claimed(self, name: str, waiter: str | int) -> threading.Event:
        return self.events["claimed", name, str(waiter)]

    def taken(self, name: str) -> threading.Event:
        return self.events["taken", name]
