"""Runners decide how the work a read needs gets done: nodes one by one or concurrently, and collection
items inline, on threads, or on any ``concurrent.futures.Executor`` (a process pool, a dask cluster).

``inline`` (default) resolves nodes and items one after the other; ``threads`` runs independent nodes *and*
collection items at the same time (L-34) on ``max_workers`` threads; ``executor`` ships collection items to
``executor=`` (see ``shipping.py`` for what can be shipped) and resolves the other nodes inline.
"""

from __future__ import annotations

import difflib
import os
import threading
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, as_completed, wait
from typing import TYPE_CHECKING, Any

from igniter_nb.errors import CompileError, IgniterError, ResolutionError
from igniter_nb.events.bus import deferring
from igniter_nb.runtime.collection import CollectionItem, ItemJob, run_item_locally
from igniter_nb.runtime.resolver import reentered
from igniter_nb.runtime.states import NodeState
from igniter_nb.runtime.status import BLOCKED, FAILED, STALE, Status
from igniter_nb.runtime.steps import exception_text
from igniter_nb.runtime.workers import Flight, InFlight, Work, computing, errand_for, working_for

if TYPE_CHECKING:
    from igniter_nb.model import CollectionNode
    from igniter_nb.runtime.execution import Execution

ItemOutcomes = Generator[tuple[ItemJob, CollectionItem], None, None]


class Runner:
    """Base runner: resolves targets inline. Subclasses change how, or add work after a lifecycle."""

    name = "inline"
    max_workers: int | None = None

    def resolve(self, execution: Execution, targets: tuple[str, ...]) -> None:
        resolve = execution.resolver.resolve
        for target in targets:
            resolve(target)

    def run_items(self, execution: Execution, node: CollectionNode, jobs: Sequence[ItemJob],
                  started: Callable[[ItemJob], None]) -> ItemOutcomes:
        """Run collection items; yields ``(job, item)`` as items finish. ``started(job)`` is called (on this
        thread) as each item is handed over. Closing the generator cancels the items not started yet."""
        cls = node.contract
        for job in jobs:
            started(job)
            yield job, run_item_locally(cls, job)

    def after_lifecycle(self, execution: Execution) -> None:
        """Called after every lifecycle (also when it failed)."""

    def after_resume(self, execution: Execution) -> None:
        """Called after a node was resumed."""

    def to_dict(self) -> dict[str, Any]:
        return {"runner": self.name, "max_workers": self.max_workers}


class InlineRunner(Runner):
    name = "inline"


def needed_nodes(execution: Execution, targets: tuple[str, ...]) -> list[str]:
    """Nodes that must be (re)computed for ``targets``, dependencies first."""
    states = execution.states
    roots = execution.resolver.roots
    order: list[str] = []
    seen: set[str] = set()
    for target in targets:
        stack: list[tuple[str, bool]] = [(target, False)]
        while stack:
            name, expanded = stack.pop()
            if expanded:
                order.append(name)
                continue
            if name in seen:
                continue
            st = states.get(name)
            if st is not None and st.status is not STALE:
                continue
            seen.add(name)
            stack.append((name, True))
            stack.extend((d, False) for d in reversed(roots[name]))
    return order


class ThreadsRunner(Runner):
    """Resolves independent nodes at the same time on a thread pool (not only output targets: L-34).

    Collections run their items on a pool of the same size (item children resolve with their own runner).
    """

    name = "threads"

    def __init__(self, max_workers: int | None = None) -> None:
        if max_workers is not None and (not isinstance(max_workers, int) or max_workers < 1):
            raise CompileError(f"max_workers must be a positive integer, got {max_workers!r}")
        self.max_workers = max_workers or min(32, (os.cpu_count() or 1) + 4)

    def resolve(self, execution: Execution, targets: tuple[str, ...]) -> None:
        if execution.bus.lock is None:
            # events from worker threads keep seq order; reentrant, so a subscriber may read the log
            execution.bus.lock = threading.RLock()
        resolver = execution.resolver
        flight = resolver.in_flight
        if flight is None:
            flight = resolver.in_flight = InFlight()
        # Inside another run of this execution: a read from one of its callables or subscribers (see ``InFlight``)
        nested = bool(flight.started) or bool(resolver._stacks)
        order = needed_nodes(execution, targets)
        if not nested and len(order) <= 1:
            return super().resolve(execution, targets)
        if resolver._stacks:  # an inline resolve of this execution is in progress below: its nodes wait for us
            running = resolver.running_inline()  # (nodes on other threads-runner workers are waited for, below)
            for n in order:
                if n in running:
                    raise reentered(execution, resolver.nodes[n])
        roots = resolver.roots
        needed = set(order)
        waiting_on = {n: sum(1 for d in set(roots[n]) if d in needed) for n in order}
        dependents: dict[str, list[str]] = {}
        for n in order:
            for d in set(roots[n]):
                if d in needed:
                    dependents.setdefault(d, []).append(n)
        emit = execution.bus.emit
        deliver = execution.bus.deliver
        subscribers = execution.bus.subscribers
        nodes = resolver.nodes
        states = execution.states
        pool = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix=f"igniter-{execution.graph.name}")
        futures: dict[Future[Any], tuple[str, Flight, bool]] = {}  # -> (node, its flight, started by this run)
        theirs: list[Future[Any]] = []  # those of ``futures`` other runs started (some may be done and gone)
        starting: list[tuple[str, Flight]] = []  # the node started and not handed over yet
        settled: list[str] = []  # nodes a read from a subscriber computed before this run started them
        waiter = flight.waiter()
        hand_over = flight.hand_over

        # Abandoned when the calling thread is interrupted: a node still running then is abandoned, its thread
        # finishes on its own (Python cannot stop a thread), what it computed is never recorded, and it may no
        # longer read or change the execution (it would do so without the lock, its caller gone).
        errand = errand_for(execution)

        def record(state: NodeState) -> bool:
            # (its event's subscribers run on the thread delivering next: this loop's, below, if no other, never
            # here under ``recording``, which the other workers need to record theirs)
            with errand.recording:
                if errand.over():
                    return False
                token = deferring.set(True)
                try:
                    resolver.write(nodes[state.name], state)
                finally:
                    deferring.reset(token)
                return True

        def finish(name: str) -> NodeState | None:
            """Compute and record node ``name``; the state, when this run was abandoned meanwhile (dropped: a reader
            that took the node over may keep it for its own run, see ``keep``)."""
            state = resolver.settle(name)
            return None if record(state) else state

        def keep(state: NodeState) -> None:
            """A node this run took over from another and computed, whose run was cancelled meanwhile: recorded for
            this run instead of being computed a second time (a success only: a failure may come from that
            cancellation, its reads refused)."""
            if state.error is None and ((st := states.get(state.name)) is None or st.status is STALE):
                record(state)

        # The refusal of a node that waits for this very thread (a cycle through the results): raised once the nodes
        # this run already started are recorded (dropping them would only have them computed again).
        refused: list[ResolutionError] = []

        def submit(name: str) -> None:
            if refused:
                return
            st = states.get(name)
            if st is not None and st.status is not STALE:  # computed meanwhile, by a read from a subscriber
                settled.append(name)
                return
            claimed = flight.claim(name, waiter, track=nested)
            if isinstance(claimed, list):  # waiting for it would wait for this very thread: the cycle
                refused.append(reentered(execution, nodes[name], [waiter, *claimed]))
                for fut, (other, found, mine) in list(futures.items()):  # what other runs compute: not needed now
                    if not mine:
                        del futures[fut]
                        flight.release(other, waiter, found, mine)
                return
            found, other_run = claimed
            if other_run is not None:  # another run computes it: wait for that instead of computing it again
                futures[other_run] = (name, found, False)
                theirs.append(other_run)
                return
            if (st := states.get(name)) is not None and st.status is not STALE:
                # recorded and given up by its run between the look above and the claim: not computed again
                flight.release(name, waiter, found, True)
                settled.append(name)
                return
            starting.append((name, found))  # (released if node_started's delivery is interrupted)
            # Its subscribers may run here, on this thread: a read they start waits in this node's name (what the
            # node waits for until it is handed over, see ``InFlight``), not in the name of this run's waiter.
            computing(name, emit, "node_started", name, nodes[name].path, "running")
            work = Work(name, working_for, errand, finish, name, over=errand.over)
            future = pool.submit(work.by_worker)
            hand_over(found, future, work)
            starting.pop()
            futures[future] = (name, found, True)

        try:
            for n in order:
                if waiting_on[n] == 0:
                    submit(n)
            while futures or settled:
                if settled:
                    done: Any = ()
                elif theirs and (taken := _take_over(flight, futures, theirs)) is not None:
                    # another run's node no worker has started yet: computed here rather than waiting for one
                    # (its pool's workers may all be waiting for this very thread)
                    fut, work = taken
                    name, found, _ = futures.pop(fut)
                    try:
                        work.run(keep)
                    finally:
                        flight.release(name, waiter, found, False)
                    if errand.outer is not None and errand.over():  # this thread is a worker its caller abandoned
                        raise errand.abandoned_error()
                    if (st := states.get(name)) is None or st.status is STALE:  # dropped with its run, and failed
                        submit(name)
                    else:
                        settled.append(name)
                    continue
                else:
                    if errand.outer is not None and errand.over():
                        # abandoned already: never block (a node of its cancelled run is no longer taken over, and
                        # that run's workers may be waiting for this very thread); what any of them raised is
                        # looked at below all the same (``_reraise`` raises only what was raised)
                        done = set(futures)
                    else:
                        done, _ = wait(list(futures), return_when=FIRST_COMPLETED)
                    if errand.outer is not None and errand.over():  # this thread is a worker its caller abandoned
                        for fut in done:  # (a BaseException in a node it waited for: that, as inline)
                            _reraise(futures[fut][1])
                        raise errand.abandoned_error()
                finished = settled[:]
                settled.clear()
                for fut in done:
                    name, found, mine = futures.pop(fut)
                    flight.release(name, waiter, found, mine)
                    if mine:
                        # finish() records user errors itself: what is raised here is a BaseException from the
                        # node's callable (SystemExit, Ctrl-C on a worker, a framework's cancellation) or a bug
                        fut.result()
                    elif (st := states.get(name)) is None or st.status is STALE:  # its run gave it up
                        # interrupted by a BaseException in the node: it reaches this reader too, as it does
                        # inline (instead of this run computing the node a second time); else ours now
                        _reraise(found)
                        submit(name)
                        continue
                    finished.append(name)
                if subscribers:
                    deliver()  # the events of the nodes just recorded (their workers left them)
                for name in finished:
                    for dep in dependents.get(name, ()):
                        waiting_on[dep] -= 1
                        if waiting_on[dep] == 0:
                            submit(dep)
        except BaseException as exc:
            # Ctrl-C in a notebook (KeyboardInterrupt), a BaseException from a node, or a runner bug: return now
            # instead of waiting for the nodes still running. Those keep the state they had before this run (not
            # succeeded, nor failed later by a stray thread), so the next read computes them again.
            errand.abandon(exc)
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            for name, found, mine in futures.values():
                flight.release(name, waiter, found, mine)
            for name, found in starting:
                flight.release(name, waiter, found, True)
        pool.shutdown(wait=True, cancel_futures=True)
        if refused:
            raise refused[0]

    def run_items(self, execution: Execution, node: CollectionNode, jobs: Sequence[ItemJob],
                  started: Callable[[ItemJob], None]) -> ItemOutcomes:
        workers = min(self.max_workers or 1, len(jobs))
        if workers <= 1:
            yield from super().run_items(execution, node, jobs, started)
            return
        cls = node.contract
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"igniter-{node.name}")
        futures: dict[Future[CollectionItem], ItemJob] = {}
        try:
            for job in jobs:
                started(job)
                futures[pool.submit(run_item_locally, cls, job)] = job
            for fut in as_completed(futures):
                yield futures[fut], fut.result()
        except BaseException:  # interrupted: return now; the items still running are never collected
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True, cancel_futures=True)


def _take_over(flight: InFlight, futures: dict[Future[Any], tuple[str, Flight, bool]],
               theirs: list[Future[Any]]) -> tuple[Future[Any], Work] | None:
    """The first node another run has handed over and no worker has started yet, taken over (see ``Work``);
    ``theirs`` loses the futures no longer waited for."""
    theirs[:] = [fut for fut in theirs if fut in futures]
    for fut in theirs:
        found = futures[fut][1]
        if found.work is not None:
            work = flight.take_over(found)
            if work is not None:
                theirs.remove(fut)
                return fut, work
    return None


def _reraise(found: Flight) -> None:
    """Raise what the worker computing ``found`` raised (only ever a BaseException: see ``finish``), or the reader
    that took its work over (``Work.run``: its run's future raises it only once a worker gets to it), if anything."""
    work = found.work
    if work is not None and work.error is not None:
        raise work.error
    future = found.future
    if future is not None and future.done() and not future.cancelled():
        raised = future.exception()
        if raised is not None:
            raise raised


class ExecutorRunner(Runner):
    """Ships collection items to any ``concurrent.futures.Executor`` (``ProcessPoolExecutor``, a dask client's
    ``client.get_executor()``, ...); other nodes resolve inline in this process.

    Each item travels as ``(module:QualName, JSON-safe inputs)`` and comes back as plain data (status,
    outputs, error type/message/context). Items go in batches of ``chunksize`` per task (default: enough
    batches to keep about four per worker busy, at most 50 items each) so per-task overhead stays small. An item
    whose child ends pending or waiting runs again here, so it can be resumed. The executor is not shut down
    by igniter_nb: it belongs to the caller. For explicit options build the runner yourself:
    ``Contract(..., runner=ExecutorRunner(executor=pool, chunksize=1))``.
    """

    name = "executor"

    def __init__(self, max_workers: int | None = None, store: Any = None, executor: Any = None,
                 chunksize: int | None = None) -> None:
        if executor is None or not callable(getattr(executor, "submit", None)):
            raise CompileError(
                "runner='executor' needs `executor=`: a concurrent.futures.Executor such as "
                "ProcessPoolExecutor(2) or a dask client's client.get_executor()"
                + (f", got {executor!r}" if executor is not None else "")
            )
        if chunksize is not None and (not isinstance(chunksize, int) or chunksize < 1):
            raise CompileError(f"chunksize must be a positive integer, got {chunksize!r}")
        self.executor: Executor = executor
        self.max_workers = max_workers
        self.store = store
        self.chunksize = chunksize

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "executor": type(self.executor).__name__, "chunksize": self.chunksize}

    def _chunksize(self, count: int) -> int:
        if self.chunksize is not None:
            return self.chunksize
        workers = self.max_workers or getattr(self.executor, "_max_workers", None) or 8
        return max(1, min(50, count // (4 * workers)))

    def run_items(self, execution: Execution, node: CollectionNode, jobs: Sequence[ItemJob],
                  started: Callable[[ItemJob], None]) -> ItemOutcomes:
        from igniter_nb.runtime.codec import encode
        from igniter_nb.runtime.shipping import import_path, run_shipped_batch

        cls = node.contract
        if not jobs:
            return
        path = import_path(cls)
        size = self._chunksize(sum(1 for j in jobs if j.reuse is None))
        futures: dict[Future[Any], list[ItemJob]] = {}
        batch: list[ItemJob] = []
        payloads: list[Any] = []
        try:
            for job in jobs:
                if job.reuse is not None:
                    continue
                started(job)
                try:
                    payloads.append(encode(job.inputs, node=node.name, path=f"items[{job.key!r}]"))
                except IgniterError as exc:
                    yield job, CollectionItem(job.key, FAILED, None, exc, job.inputs)
                    continue
                batch.append(job)
                if len(batch) >= size:
                    futures[self.executor.submit(run_shipped_batch, path, payloads)] = batch
                    batch, payloads = [], []
            if batch:
                futures[self.executor.submit(run_shipped_batch, path, payloads)] = batch
            for job in jobs:
                if job.reuse is not None:  # a child kept from an earlier run (e.g. a resumed pending item)
                    started(job)
                    yield job, run_item_locally(cls, job)
            for fut in as_completed(futures):
                for job, item in zip(futures[fut], self._items(cls, futures[fut], fut), strict=True):
                    yield job, item
        finally:
            for fut in futures:
                fut.cancel()

    def _items(self, cls: Any, jobs: list[ItemJob], fut: Future[Any]) -> list[CollectionItem]:
        from igniter_nb.runtime.shipping import rebuild_error, shipped_result

        try:
            answers = fut.result()
        except Exception as exc:  # the worker died, or the executor could not run the task at all
            items = []
            for job in jobs:
                err = ResolutionError(f"item {job.key!r} could not run on {type(self.executor).__name__}: "
                                      f"{type(exc).__name__}: {exception_text(exc)}", cause_type=type(exc).__qualname__)
                err.__cause__ = exc
                items.append(CollectionItem(job.key, FAILED, None, err, job.inputs))
            return items
        items = []
        for job, answer in zip(jobs, answers, strict=True):
            status = Status(answer["status"])
            if status in BLOCKED:
                items.append(run_item_locally(cls, ItemJob(job.index, job.key, job.inputs)))
                continue
            result = shipped_result(answer) if answer.get("execution_id") else None
            error = rebuild_error(answer["error"]) if status is FAILED else None
            items.append(CollectionItem(job.key, status, result, error, job.inputs, answer.get("execution_id")))
        return items


_RUNNERS: dict[str, Any] = {"inline": InlineRunner, "threads": ThreadsRunner, "thread_pool": ThreadsRunner,
                            "executor": ExecutorRunner}


def register_runner(name: str, factory: Any) -> None:
    """Make ``run_with(runner=name)`` available (the store and executor runners register themselves)."""
    _RUNNERS[name] = factory


def runner_problem(runner: Any) -> str | None:
    """Why ``run_with(runner)`` names no runner (None when it does: a registered name, a ``Runner``, or None)."""
    if runner is None or isinstance(runner, Runner):
        return None
    if not isinstance(runner, str) or not runner:
        return f"`runner=` must be a runner name (text) or a Runner, got {runner!r}"
    if runner in _RUNNERS or runner == "store":  # ("store" registers itself on first use)
        return None
    known = sorted({*_RUNNERS, "store"})
    close = difflib.get_close_matches(runner, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return (f"unknown runner {runner!r}{hint} (known runners: {', '.join(known)}; register_runner(name, factory) "
            "adds one, called before the classes naming it are defined)")


def make_runner(runner: Any, *, max_workers: int | None = None, store: Any = None, executor: Any = None) -> Runner:
    if isinstance(runner, Runner):
        return runner
    name = runner or "inline"
    if name == "store" and name not in _RUNNERS:
        import igniter_nb.runtime.store_runner  # noqa: F401  (registers itself)
    factory = _RUNNERS.get(name)
    if factory is None:
        raise CompileError(f"Unknown execution runner strategy: {name!r} (use one of: {', '.join(sorted(_RUNNERS))})")
    if name in ("threads", "thread_pool"):
        return factory(max_workers)  # type: ignore[no-any-return]
    if name == "inline":
        return factory()  # type: ignore[no-any-return]
    return factory(max_workers=max_workers, store=store, executor=executor)  # type: ignore[no-any-return]
