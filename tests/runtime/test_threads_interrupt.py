"""Ctrl-C under the threads runner: a KeyboardInterrupt in the calling thread returns at once instead of waiting for
the nodes still running (which looked like a hang in Jupyter). A node still running then is abandoned: its thread
finishes on its own, and what it computed is never recorded — the node keeps its state from before the run and
the next read computes it again. The interrupt comes from a node (``_thread.interrupt_main``), as Ctrl-C would;
the only bound is a generous one on joining the abandoned thread."""

from __future__ import annotations

import _thread
import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import igniter_nb as ig

BOUND = 30.0


def _interrupted_contract() -> tuple[Any, dict[str, Any]]:
    seen: dict[str, Any] = {"release": threading.Event(), "started": threading.Event(), "calls": 0, "thread": None}

    @ig.contract
    def Interrupted(c):
        c.input("x", type="integer")

        @c.compute
        def stuck(x):
            seen["calls"] += 1
            if seen["calls"] == 1:  # the first run is held until the test lets it go
                seen["thread"] = threading.current_thread()
                seen["started"].set()
                seen["release"].wait(BOUND)
            return x * 10

        @c.compute
        def trigger(x):
            assert seen["started"].wait(BOUND), "stuck never started"
            _thread.interrupt_main()  # what Ctrl-C does to the calling (main) thread
            return x

        c.compute("both", call=lambda stuck, trigger: (stuck, trigger))
        c.output("both")

    return Interrupted, seen


@pytest.fixture(autouse=True)
def python_sigint_handler() -> Iterator[None]:
    """Ctrl-C as Python answers it by default (KeyboardInterrupt): an RQ worker run in-process by an earlier test
    leaves its own SIGINT handler installed (a warm shutdown), which ``interrupt_main`` would call instead."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def test_ctrl_c_returns_without_waiting_and_the_abandoned_node_is_never_recorded() -> None:
    cls, seen = _interrupted_contract()
    contract = cls(x=2, runner="threads", max_workers=4)
    with pytest.raises(KeyboardInterrupt):
        contract.resolve_all()
    # was: resolve waited (pool.shutdown(wait=True)) for `stuck`, which only the test can release: a hang
    assert not seen["release"].is_set() and seen["thread"].is_alive()
    seen["release"].set()
    seen["thread"].join(BOUND)
    assert not seen["thread"].is_alive()
    ex = contract.execution
    assert "stuck" not in ex.states  # the stray thread's value was not recorded: the node never ran to the end here
    assert not [e for e in contract.events if e.node == "stuck" and e.type != "node_started"]
    assert contract.events[-1].type == "execution_failed" and "KeyboardInterrupt" in contract.events[-1].payload["error"]
    assert ex.lifecycle_depth == 0
    assert contract.result.both == (20, 2)  # the next read computes it again
    assert seen["calls"] == 2


def _abandoning(seen: dict[str, Any], c: Any) -> None:
    """``trigger`` (Ctrl-C once ``seen["started"]``) and ``both`` (the target read), declared on builder ``c``."""

    @c.compute
    def trigger(x):
        assert seen["started"].wait(BOUND), "the held node never started"
        _thread.interrupt_main()
        return x

    c.compute("both", call=lambda stuck, trigger: (stuck, trigger))
    c.output("both")


def _check_abandoned_worker_writes_nothing(contract: Any, seen: dict[str, Any], unwritten: set[str]) -> None:
    """Interrupt a read of ``both``, then let the abandoned worker go on while this thread holds the lock: it
    records no state (``unwritten``) and no event, and its read of the contract raised a ``ResolutionError``."""
    ex = contract.execution
    with pytest.raises(KeyboardInterrupt):
        _ = contract.result.both
    count = len(contract.events)
    with ex.lock:  # another read or update holds the lock now: nothing may change the execution under it
        seen["release"].set()
        seen["thread"].join(BOUND)
        assert not seen["thread"].is_alive()
        assert not unwritten & set(ex.states)
        assert len(contract.events) == count
    assert isinstance(seen["read"], ig.ResolutionError) and "interrupted" in str(seen["read"])


def _held() -> dict[str, Any]:
    return {"release": threading.Event(), "started": threading.Event(), "calls": 0, "thread": None, "read": None}


def _read_on_worker(seen: dict[str, Any], read: Any) -> None:
    """``read()`` from a node's callable: its value, or what it raised, into ``seen["read"]``."""
    try:
        seen["read"] = read()
    except Exception as exc:
        seen["read"] = exc


def test_an_abandoned_worker_reading_its_contract_after_ctrl_c_writes_nothing_into_the_execution() -> None:
    """A node callable still running after Ctrl-C that then reads its own contract's results (``self.result.b``)
    resolved them without the execution's lock: its thread counted as "working for" the caller, which had returned,
    so it wrote states and events while another thread held the lock (was: states["b"] == 3, execution_started and
    node_* events appended). Now that read raises: the run it worked for is over, and the execution stays as the
    interrupt left it."""
    seen = _held()

    class Reads(ig.Contract):
        def define(c):
            c.input("x", type="integer")
            c.compute("stuck", call="stuck_then_read")
            c.compute("b", call=lambda x: x + 1)
            _abandoning(seen, c)
            c.output("b")

        def stuck_then_read(self, x):
            seen["calls"] += 1
            if seen["calls"] == 1:  # the run is interrupted while this waits; then it reads its own results
                seen["thread"] = threading.current_thread()
                seen["started"].set()
                seen["release"].wait(BOUND)
                _read_on_worker(seen, lambda: self.result.b)
            return x * 10

    contract = Reads(x=2, runner="threads", max_workers=4)
    _check_abandoned_worker_writes_nothing(contract, seen, {"b", "stuck"})
    assert contract.result.both == (20, 2)  # the next read computes it again
    assert contract.result.b == 3


def test_a_read_in_progress_on_an_abandoned_worker_stops_and_records_nothing() -> None:
    """The worker was already inside a read of its own contract (a run of its own on the threads runner) when
    Ctrl-C came: the nodes that read finishes afterwards are not recorded, the read ends with the same
    ``ResolutionError`` (was: it went on under nobody's lock, recording ``p`` and ``c`` and an
    ``execution_finished``), and it logs nothing (the interrupted caller already logged ``execution_failed``)."""
    seen = _held()

    class Nested(ig.Contract):
        def define(c):
            c.input("x", type="integer")
            c.compute("stuck", call="stuck_reads")
            c.compute("p", call="slow_p")
            c.compute("c", call=lambda p: p + 1)
            _abandoning(seen, c)
            c.output("c")

        def slow_p(self, x):
            if not seen["started"].is_set():  # the first run is held until the test lets it go
                seen["started"].set()
                seen["release"].wait(BOUND)
            return x * 2

        def stuck_reads(self, x):
            seen["calls"] += 1
            if seen["calls"] == 1:
                seen["thread"] = threading.current_thread()
                _read_on_worker(seen, lambda: self.result.c)  # runs p and c on workers of its own
            return x

    contract = Nested(x=2, runner="threads", max_workers=4)
    _check_abandoned_worker_writes_nothing(contract, seen, {"p", "c", "stuck"})
    assert contract.result.both == (2, 2)
    assert contract.result.c == 5
