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
