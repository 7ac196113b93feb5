"""A node taken over by a reader (``InFlight.take_over``: computed on the reader's own thread because no worker had
started it) while another reader waits for it. Two workers: ``a``'s callable reads ``c`` then ``w``; ``w``'s reads
``c``; ``c`` is queued behind both. ``a`` takes ``c`` over; ``w``'s read of ``c`` used to wait for ``c``'s pool
future, which only a pool worker completes (after the taker recorded it) — and both were busy: ``a`` waiting for
``w``, ``w`` for ``c``. The order of ``w``'s claim and ``a``'s take-over is forced by wrapping ``InFlight``'s
methods (``InFlightHooks``); every wait is bounded and the read runs in a daemon thread joined with a timeout.

And work cancelled with its run (a BaseException elsewhere in it) just before a reader takes it over, or while a
reader computes it: never started after the cancel, never run twice by the run, never a hang, every future
resolved."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from bounded_threads import BOUND, Halt, InFlightHooks, caught_read, read_in_thread, reading_contract, wait_until

import igniter_nb as ig
from igniter_nb.runtime.workers import InFlight, Work


def tangle(hooks: InFlightHooks, *, claim_first: bool,
           c_raises: type[BaseException] | None = None) -> tuple[Any, Counter[str], list[BaseException]]:
    """Two workers, run ``top`` = (a, w, c): ``a``'s callable reads ``c`` then ``w``; ``w``'s reads ``c``; ``c`` is
    queued behind both. With ``claim_first``, w claims c before a takes it over (w's claim is held until a has);
    else while a computes it. The contract class, the calls of each callable, and what w's read of c raised."""
    calls: Counter[str] = Counter()
    caught: list[BaseException] = []
    c_started = threading.Event()
    w_claimed = hooks.claimed("c", "w")
    if claim_first:  # w may not take c over itself: a does, after this claim
        hooks.after_claim["c", "w"] = lambda: hooks.taken("c").wait(BOUND)

    def a(contract: Any, x: int) -> Any:
        calls["a"] += 1
        assert hooks.handed("c").wait(BOUND), "the run never handed c over"
        if claim_first:  # w claims c before a takes it over
            assert w_claimed.wait(BOUND), "w never read c"
        return contract.result.c + contract.result.w

    def w(contract: Any, x: int) -> Any:
        calls["w"] += 1
        assert hooks.handed("c").wait(BOUND), "the run never handed c over"
        if not claim_first:  # w claims c while a computes it
            assert c_started.wait(BOUND), "c never started"
        return caught_read(lambda: contract.result.c * 10, caught, hooks.events["w read"])  # (set once it ended)

    def c(contract: Any, x: int) -> Any:
        calls["c"] += 1
        c_started.set()
        if not claim_first:
            assert w_claimed.wait(BOUND), "w never read c"
        if c_raises is not None and calls["c"] == 1:
            raise c_raises("stop now")
        return x + 1

    return reading_contract("Tangle", {"a": a, "w": w, "c": c}, ["a", "w", "c"], ["c", "w"]), calls, caught


@pytest.mark.parametrize("claim_first", [True, False], ids=["claim-before-take-over", "claim-after-take-over"])
def test_a_reader_waiting_for_a_node_another_reader_took_over_wakes_when_it_is_recorded(
        monkeypatch: Any, claim_first: bool) -> None:
    hooks = InFlightHooks(monkeypatch)
    cls, calls, caught = tangle(hooks, claim_first=claim_first)
    contract = cls(x=1, runner="threads", max_workers=2)
    out = read_in_thread(lambda: contract.result.top, timeout=BOUND * 2)
    assert out["finished"], "the read hung: w waited for c's pool future while both workers waited"
    assert hooks.takers["c"] == ["a"]  # the order was forced: a took c over, w waited for it
    assert out.get("value") == (22, 20, 2), out.get("error")
    assert calls == Counter(a=1, w=1, c=1)
    assert caught == []
    assert [e.node for e in contract.events if e.type == "node_succeeded"].count("c") == 1
    assert contract.execution.resolver.running == set()


def test_a_base_exception_in_a_node_taken_over_reaches_the_reader_waiting_for_it(monkeypatch: Any) -> None:
    """c, taken over by a while w waits for it, raises Halt: w's read gets that Halt too (as inline), instead of
    computing c a second time, and the caller gets it; nothing is left running."""
    hooks = InFlightHooks(monkeypatch)
    cls, calls, caught = tangle(hooks, claim_first=True, c_raises=Halt)
    contract = cls(x=1, runner="threads", max_workers=2)
    out = read_in_thread(lambda: contract.result.top, timeout=BOUND * 2)
    assert out["finished"], "the read hung"
    assert hooks.takers["c"] == ["a"]
    assert isinstance(out.get("error"), Halt)
    assert hooks.events["w read"].wait(BOUND)  # (the caller returns as soon as a's Halt reaches it, without waiting for w)
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


def cancelled_run(hooks: InFlightHooks, returned: threading.Event, *,
                  halt_once: str) -> tuple[Any, Counter[str], list[BaseException]]:
    """Two workers, run ``top`` = (a, h, b, c): ``a``'s callable reads ``c``; ``h`` raises Halt (the first time) once
    ``halt_once`` is set, which cancels the run; ``b`` holds the second worker until the test says the read has
    returned (``returned``), so no worker of the pool is left to start ``c``, queued last: only ``a`` may take it
    over. The contract class, the calls of each callable, and what a's read of c raised."""
    calls: Counter[str] = Counter()
    caught: list[BaseException] = []
    a_read = threading.Event()

    def a(contract: Any, x: int) -> Any:
        calls["a"] += 1
        assert hooks.handed("c").wait(BOUND), "the run never handed c over"
        return caught_read(lambda: contract.result.c + 1, caught, a_read)

    def h(contract: Any, x: int) -> Any:
        calls["h"] += 1
        if calls["h"] == 1:
            assert hooks.events[halt_once].wait(BOUND), f"never reached: {halt_once}"
            raise Halt("stop the run")
        return x

    def b(contract: Any, x: int) -> Any:
        calls["b"] += 1
        returned.wait(BOUND)
        return x

    def c(contract: Any, x: int) -> Any:
        calls["c"] += 1
        if calls["c"] == 1 and halt_once == ("taken", "c"):  # computed on a's thread while the run is cancelled
            assert returned.wait(BOUND), "the cancelled read never returned"
        return x * 10

    cls = reading_contract("Cancelled", {"a": a, "h": h, "b": b, "c": c}, ["a", "h", "b", "c"], ["c"])
    hooks.events["a read"] = a_read
    return cls, calls, caught


def _after_the_cancelled_read(contract: Any, hooks: InFlightHooks, out: dict[str, Any], calls: Counter[str],
                              caught: list[BaseException]) -> None:
    """What every cancelled take-over ends with: the caller got Halt; a's read was told its run was interrupted;
    the run's future of c and the signal readers wait for are resolved; nothing is left running or started; the
    next read computes what the cancelled run did not record, and gives the value."""
    assert out["finished"], "the read hung"
    assert isinstance(out.get("error"), Halt), out
    assert hooks.events["a read"].wait(BOUND), "a's read of c hung"
    [err] = caught
    assert isinstance(err, ig.ResolutionError) and "was interrupted (Halt)" in str(err), err
    future, work = hooks.work["c"]
    wait_until(future.done, "c's future resolved (cancelled, or done by a worker that found it taken)")
    assert work.done is None or work.done.done()
    ex = contract.execution
    assert "c" not in ex.states  # dropped with its run: nothing recorded by a cancelled run
    assert ex.resolver.running == set()
    assert ex.resolver.in_flight.started == {}
    again = read_in_thread(lambda: contract.result.top, timeout=BOUND * 2)
    assert again.get("value") == (11, 1, 1, 10), again


def test_work_cancelled_before_a_reader_takes_it_over_is_never_run_by_that_reader(monkeypatch: Any) -> None:
    """The run is cancelled (Halt in h) after a's read claimed c and before it takes c over. The take-over used to
    succeed anyway (the token was still there): c's callable ran on a's thread after its run had been cancelled
    (the pool had cancelled c's future so that it would not start), for a value nobody records."""
    hooks = InFlightHooks(monkeypatch)
    returned = threading.Event()
    hooks.before_take_over["c"] = lambda: returned.wait(BOUND)
    cls, calls, caught = cancelled_run(hooks, returned, halt_once=("claimed", "c", "a"))
    contract = cls(x=1, runner="threads", max_workers=2)
    out = read_in_thread(lambda: contract.result.top, timeout=BOUND * 2)
    returned.set()
    _after_the_cancelled_read(contract, hooks, out, calls, caught)
    assert hooks.takers["c"] == []
    assert calls["c"] == 1  # the read after: c never ran for the cancelled one


def test_work_cancelled_while_a_reader_computes_it_ends_with_its_run(monkeypatch: Any) -> None:
    """a's read has taken c over and computes it on its own thread when the run is cancelled (Halt in h). c's
    callable finishes (Python cannot stop a thread), its value is dropped with the run, no worker runs c a second
    time, and a's read is told its run was interrupted instead of waiting for anything."""
    hooks = InFlightHooks(monkeypatch)
    returned = threading.Event()
    cls, calls, caught = cancelled_run(hooks, returned, halt_once=("taken", "c"))
    contract = cls(x=1, runner="threads", max_workers=2)
    out = read_in_thread(lambda: contract.result.top, timeout=BOUND * 2)
    returned.set()
    _after_the_cancelled_read(contract, hooks, out, calls, caught)
    assert hooks.takers["c"] == ["a"]
    assert calls["c"] == 2  # once taken over (dropped with its run), once by the read after


def test_work_a_reader_computes_for_a_nested_run_cancelled_meanwhile_is_kept_by_the_readers_own_run(
        monkeypatch: Any) -> None:
    """a's callable reads ``r`` = (e1, e2, c): a nested run on a's worker, with e1 and e2 on its two workers and c
    queued behind them. b's callable reads c and takes it over. e1 raises Halt, which cancels only a's nested run
    (a's callable catches it); b's run goes on. What b computed for c used to be dropped with the cancelled run,
    and b's run computed c a second time; now b's run records it: c runs once, one ``node_succeeded``."""
    hooks = InFlightHooks(monkeypatch)
    calls: Counter[str] = Counter()
    r_cancelled = threading.Event()

    def read_r(contract: Any, x: int) -> Any:
        try:
            return contract.result.r
        except Halt:
            r_cancelled.set()
            return -1

    def read_c(contract: Any, x: int) -> Any:
        assert hooks.handed("c").wait(BOUND), "the nested run never handed c over"
        return contract.result.c * 10

    def halt_once(contract: Any, x: int) -> Any:
        calls["e1"] += 1
        if calls["e1"] == 1:
            assert hooks.taken("c").wait(BOUND), "b never took c over"
            raise Halt("cancel a's nested run")
        return x

    def after_the_cancel(contract: Any, x: int) -> Any:
        r_cancelled.wait(BOUND)
        return x

    def slow_c(contract: Any, x: int) -> Any:
        calls["c"] += 1
        assert r_cancelled.wait(BOUND), "a's nested run was never cancelled"
        return x + 1

    nodes = {"a": read_r, "b": read_c, "e1": halt_once, "e2": after_the_cancel, "c": slow_c}
    cls = reading_contract("Nested", nodes, ["a", "b"], ["r", "c"], tuples={"r": ["e1", "e2", "c"]})
    contract = cls(x=1, runner="threads", max_workers=2)
    out = read_in_thread(lambda: contract.result.top, timeout=BOUND * 2)
    assert out["finished"], "the read hung"
    assert out.get("value") == (-1, 20), out
    assert hooks.takers["c"] == ["b"]
    assert calls["c"] == 1
    ex = contract.execution
    assert ex.states["c"].value == 2 and ex.states["c"].version == 1
    assert [e.node for e in contract.events if e.type == "node_succeeded"].count("c") == 1
    assert ex.resolver.running == set() and ex.resolver.in_flight.started == {}
    future, work = hooks.work["c"]
    wait_until(future.done, "c's future resolved")
    assert work.done is None or work.done.done()
    assert contract.result.r == (1, 1, 2)  # the next read computes what was cancelled, not c
    assert calls == Counter(e1=2, c=1)
