"""Which threads may work on an execution, and under which lock: its own, taken by each reading or changing call,
or none on a ``threads``-runner worker resolving nodes for the thread that holds it (``Errand``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from igniter_nb.errors import ResolutionError

if TYPE_CHECKING:
    from igniter_nb.runtime.execution import Execution


class Errand:
    """A threads-runner worker's turn at resolving nodes of ``execution`` for the thread that holds its lock (and
    waits for the worker meanwhile). ``abandon`` ends it when that thread returns without waiting (Ctrl-C): a
    worker still running then no longer works for anyone, so it may not record, read or change the execution.
    A run started on such a worker (a callable reading its own contract) has the worker's errand as ``outer``:
    it ends with it."""

    __slots__ = ("abandoned", "execution", "outer", "recording")

    def __init__(self, execution: Execution, outer: Errand | None = None) -> None:
        self.execution = execution
        self.outer = outer
        self.abandoned = False
        self.recording = threading.Lock()  # held while a worker records a state, and while the errand is abandoned

    def abandon(self) -> None:
        with self.recording:  # a record in progress ends first; none starts afterwards
            self.abandoned = True

    def over(self) -> bool:
        """Whether this errand, or one it runs inside, was abandoned."""
        errand: Errand | None = self
        while errand is not None:
            if errand.abandoned:
                return True
            errand = errand.outer
        return False

    def abandoned_error(self) -> ResolutionError:
        ex = self.execution
        return ResolutionError(
            f"{ex.graph.name} was read or changed from a node's callable still running after the read it was "
            "computed for was interrupted (Ctrl-C): that read has returned and this node's result is dropped, so "
            "its callable may no longer use the contract (read it again from your own code)",
            graph=ex.graph.name, execution_id=ex.execution_id,
        )


# The errand a threads-runner worker runs: the lock of its execution is held by the thread that handed the work
# over, so the worker (a callable reading the contract's own results) goes on without taking it again.
_working_for: ContextVar[Errand | None] = ContextVar("igniter_working_for", default=None)


def lock_to_take(execution: Execution) -> Any:
    """The lock a reading or changing call on ``execution`` takes: its own, or None on a threads-runner worker
    resolving for the thread that holds it. Raises on a worker whose caller has returned (``Errand.abandon``)."""
    errand = _working_for.get()
    if errand is None or errand.execution is not execution:
        return execution.lock
    if errand.over():
        raise errand.abandoned_error()
    return None


def abandoned_worker(execution: Execution) -> bool:
    """Whether this thread is a threads-runner worker of ``execution`` whose caller has returned (Ctrl-C)."""
    errand = _working_for.get()
    return errand is not None and errand.execution is execution and errand.over()


def errand_for(execution: Execution) -> Errand:
    """A new errand for the workers of a threads-runner run on ``execution``; inside the current one when this
    thread is itself such a worker (a callable reading its own contract), so abandoning the outer run ends both.
    (Each keeps its own ``recording`` lock: an event subscriber run while a worker records may start such a run.)"""
    current = _working_for.get()
    return Errand(execution, current if current is not None and current.execution is execution else None)


def working_for(errand: Errand, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` on a worker thread, on behalf of the thread that holds ``errand.execution``'s lock."""
    token = _working_for.set(errand)
    try:
        return fn(*args)
    finally:
        _working_for.reset(token)
