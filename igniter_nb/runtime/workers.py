"""Which threads may work on an execution, and under which lock: its own, taken by each reading or changing call,
or none on a ``threads``-runner worker resolving nodes for the thread that holds it (``Errand``)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
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

    __slots__ = ("abandoned", "cause", "execution", "outer", "recording")

    def __init__(self, execution: Execution, outer: Errand | None = None) -> None:
        self.execution = execution
        self.outer = outer
        self.abandoned = False
        self.cause = "Ctrl-C"  # what interrupted the thread that returned (its exception's type, when not Ctrl-C)
        self.recording = threading.Lock()  # held while a worker records a state, and while the errand is abandoned

    def abandon(self, cause: BaseException | None = None) -> None:
        with self.recording:  # a record in progress ends first; none starts afterwards
            if cause is not None and not isinstance(cause, KeyboardInterrupt):
                self.cause = type(cause).__name__
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
        errand: Errand | None = self
        while errand is not None and not errand.abandoned:
            errand = errand.outer
        cause = errand.cause if errand is not None else "Ctrl-C"
        return ResolutionError(
            f"{ex.graph.name} was read or changed from a node's callable still running after the read it was "
            f"computed for was interrupted ({cause}): that read has returned and this node's result is dropped, so "
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


# The node a threads-runner worker computes (while its callable runs, and while it records the node's state and
# subscribers see its event), or the node whose ``node_started`` a run delivers before handing it to a worker: a
# read this thread starts waits in its name (``InFlight``).
_computing: ContextVar[str | None] = ContextVar("igniter_computing", default=None)


class Work:
    """A node's computation handed to a threads-runner pool (``computing(*args)``), run once: by a worker of the
    pool (``by_worker``), or by a reader that needs it before any worker has started it (``InFlight.take_over``,
    then ``run``). A reader may not just wait for it: every worker of that pool may be waiting for that reader
    (``max_workers=1`` and a callable reading a sibling the run has queued behind it: it used to wait for ever).
    A worker that finds it taken waits until the reader has recorded it, so the run's future still means
    "recorded" (to the run that submitted it).

    Other readers wait for ``done`` (``InFlight.claim`` hands it out), not for that future: once a reader has taken
    the work over, the future is done only when a worker of the pool gets to it, and every worker may be waiting for
    those readers (a taker's callable reading next a node whose worker waits for the taken one: it used to wait
    for ever). ``done`` is completed by the reader that took the work over once it has recorded it (``run``), else
    when the run's future is (``InFlight.claim``)."""

    __slots__ = ("args", "done", "error", "over", "token")

    def __init__(self, *args: Any, over: Callable[[], bool] | None = None) -> None:
        self.args = args
        # Whether its run was cancelled (``Errand.over``): its pool future then is, and no reader may take it over
        # afterwards (its callable would start after its run ended, for a value nobody records)
        self.over = over
        self.token = [True]  # popped by whoever runs it (``list.pop`` is atomic: no lock per node)
        # Made (under ``InFlight.lock``) by the first reader waiting for it, or taking it over before its token
        self.done: Future[Any] | None = None
        self.error: BaseException | None = None

    def by_worker(self) -> Any:
        try:
            self.token.pop()
        except IndexError:  # a reader took it over: done once that reader has recorded it
            done = self.done
            if done is not None:
                done.result()
            if self.error is not None:
                raise self.error from None
            return None
        return computing(*self.args)

    def run(self, keep: Callable[[Any], None] | None = None) -> None:
        """Run it on this thread (a reader that took it over). When its run was cancelled meanwhile, what it computed
        is dropped by that run and handed to ``keep`` instead (the reader's run may record it), before the readers
        waiting for it wake."""
        try:
            dropped = computing(*self.args)
            if dropped is not None and keep is not None:
                keep(dropped)
        except BaseException as exc:  # the run's future raises it too, as if its worker had; so do its readers
            self.error = exc
            raise
        finally:
            if self.done is not None:
                _finish(self.done)


class Flight:
    """A node a threads-runner run has started: ``future`` is its worker's, done once its state is recorded (None
    until the run hands it over: its ``node_started`` subscribers run first, on the run's thread, and a read they
    start waits in the node's name); a reader that waits for it before then waits for ``stand_in``, done when it
    is handed over (the reader then waits for ``future``, or takes its ``work`` over)."""

    __slots__ = ("future", "stand_in", "work")

    def __init__(self) -> None:
        self.future: Future[Any] | None = None
        self.stand_in: Future[Any] | None = None
        self.work: Work | None = None


class InFlight:
    """The nodes the threads-runner runs of one execution (an outer one, and those started by reads from its
    callables or subscribers) have started and not recorded yet, and who waits for whom: a run that needs a
    node another has started waits for it instead of computing it again, unless that would wait for itself
    (a cycle through the results: refused, see ``resolver.reentered``).

    A run's own nodes take no lock (one per node would cost the threads runner a tenth of its time per node):
    ``started`` is claimed with ``dict.setdefault`` (atomic), and a node's owner and a reader waiting for it
    each write their side (``future``, ``stand_in``; ``started``) before reading the other's, so one of them
    always sees the other. Readers (rare) take ``lock`` among themselves, for the waits and the cycle check.

    A node not handed over yet waits for what its run's thread does until then: deliver its ``node_started`` (and
    whatever else is queued) to the subscribers. Reads those subscribers start wait in the node's name (the run
    emits it inside ``computing``), so ``waits`` holds exactly that, and not what the run waits for afterwards
    (it used to count the run's own waiter: a read of such a node from a node that run would wait for later was
    refused although it could wait)."""

    __slots__ = ("lock", "started", "waits")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started: dict[str, Flight] = {}
        # Who waits for which started nodes: a node computed on a worker (by name) or another thread (its ident);
        # each with how many of its reads wait for it (a subscriber's read during a run's delivery waits in the same
        # name as that run: the first to finish must not take the other's wait away).
        self.waits: dict[str | int, dict[str, int]] = {}

    @staticmethod
    def waiter() -> str | int:
        """Who the calling thread is waiting as: the node it computes (or starts), else the thread itself."""
        current = _computing.get()
        return current if current is not None else threading.get_ident()

    def claim(self, name: str, waiter: str | int, *,
              track: bool) -> tuple[Flight, Future[Any] | None] | list[str | int]:
        """``(flight, None)`` when ``name`` is now started by the caller (it emits ``node_started``, then calls
        ``hand_over``), ``(flight, future)`` when another run started it (wait for ``future``: its stand-in, or
        once handed over its work's ``done``, never the run's own future, see ``Work``), and when waiting for it
        would wait for ``waiter`` itself, the cycle: a list from ``name`` to ``waiter``, each waiting for the
        next. ``track``: the caller's own nodes are waited for by ``waiter`` (a run started by a read: whoever waits
        for ``waiter`` waits for them)."""
        mine = Flight()
        flight = self.started.setdefault(name, mine)
        if flight is mine:
            if track:
                with self.lock:
                    waits = self.waits.setdefault(waiter, {})
                    waits[name] = waits.get(name, 0) + 1
            return flight, None
        with self.lock:
            cycle = self._path(name, waiter)
            if cycle is not None:
                return cycle
            waits = self.waits.setdefault(waiter, {})
            waits[name] = waits.get(name, 0) + 1
            future = flight.future
            if future is None:
                future = flight.stand_in
                if future is None:
                    future = flight.stand_in = Future()
                if flight.future is not None:  # handed over meanwhile
                    future = flight.future
                elif self.started.get(name) is not flight:  # given up meanwhile: look at its state again
                    _finish(future)
            if future is flight.future and flight.work is not None:
                future = _done(flight.work, future)
        return flight, future

    def _path(self, name: str, waiter: str | int) -> list[str | int] | None:
        """How ``name`` waits, directly or not, for ``waiter`` (from ``name`` to ``waiter``), or None."""
        todo: list[str | int] = [name]
        came_from: dict[str | int, str | int | None] = {name: None}
        while todo:
            key = todo.pop()
            if key == waiter:
                path: list[str | int] = []
                step: str | int | None = key
                while step is not None:
                    path.append(step)
                    step = came_from[step]
                path.reverse()
                return path
            for nxt in self.waits.get(key, ()):  # (a node not handed over: the reads of its subscribers)
                if nxt not in came_from:
                    came_from[nxt] = key
                    todo.append(nxt)
        return None

    @staticmethod
    def hand_over(flight: Flight, future: Future[Any], work: Work | None = None) -> None:
        """``future`` (the worker's, running ``work``) is ``flight``'s now; a stand-in a reader waits for is done:
        that reader claims the node again and gets ``future``."""
        flight.work = work
        flight.future = future
        stand_in = flight.stand_in
        if stand_in is not None:
            _finish(stand_in)

    def take_over(self, flight: Flight) -> Work | None:
        """``flight``'s work, now the caller's to ``run``, when no worker has started it and its run goes on; else
        None (a reader then waits for ``done``, which the run's cancelled future completes)."""
        work = flight.work
        if work is None or not work.token:
            return None
        with self.lock:  # (readers among themselves: only one makes ``done``, and only one takes the token)
            if not work.token or (work.over is not None and work.over()):  # (cancelled: its run ended, see Work)
                return None
            made = work.done is None
            if made:  # (made before the token is taken: a worker finding it gone waits for it)
                work.done = Future()
            try:
                work.token.pop()
            except IndexError:  # a worker started it meanwhile: a reader waiting for it must get ``_done``'s
                if made:
                    work.done = None
                return None
        return work

    def release(self, name: str, waiter: str | int, flight: Flight, mine: bool) -> None:
        """``waiter`` no longer waits for ``name``; when ``mine``, ``name`` is no longer started (its waiters wake)."""
        if mine:
            if self.started.get(name) is flight:  # (only its owner removes it)
                del self.started[name]
            if flight.future is None and flight.stand_in is not None:  # given up before it was handed over
                _finish(flight.stand_in)
        if self.waits:
            with self.lock:
                waits = self.waits.get(waiter)
                if waits is not None and name in waits:
                    if waits[name] > 1:
                        waits[name] -= 1
                    else:
                        del waits[name]
                        if not waits:
                            del self.waits[waiter]


def _done(work: Work, future: Future[Any]) -> Future[Any]:
    """``work.done`` (made if need be; under ``InFlight.lock``), completed once ``future``, the run's, is, unless a
    reader took the work over: that reader completes it (the future may be cancelled before, its run abandoned)."""
    done = work.done
    if done is None:
        done = work.done = Future()

        def finished(fut: Future[Any]) -> None:
            if not (fut.cancelled() and not work.token):
                _finish(done)

        future.add_done_callback(finished)
    return done


def _finish(stand_in: Future[Any]) -> None:
    if not stand_in.done():
        with contextlib.suppress(InvalidStateError):  # (done meanwhile)
            stand_in.set_result(None)


def computing(name: str, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` on a thread computing (or starting) node ``name``: a read it starts waits in that node's name."""
    token = _computing.set(name)
    try:
        return fn(*args)
    finally:
        _computing.reset(token)
