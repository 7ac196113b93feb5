"""One run of a contract: inputs, node states, events, and the operations on them."""

from __future__ import annotations

import contextlib
import functools
import threading
import time
import uuid
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from igniter_nb._shown_text import shown_name
from igniter_nb.compiler.graph import CompiledGraph
from igniter_nb.errors import IgniterError, ResolutionError
from igniter_nb.events.bus import EventBus
from igniter_nb.model import AwaitNode
from igniter_nb.runtime import resuming
from igniter_nb.runtime.children import ChildRuns
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.inputs import InputValidator, is_immutable, same_value
from igniter_nb.runtime.invalidation import invalidate_dependents
from igniter_nb.runtime.resolver import Resolver
from igniter_nb.runtime.runners import Runner, make_runner
from igniter_nb.runtime.states import NodeState, States, named_states_now, states_now
from igniter_nb.runtime.status import BLOCKED, FAILED, PENDING, STALE, SUCCEEDED, WAITING, Status
from igniter_nb.runtime.workers import abandoned_worker, lock_to_take

#: How many times one read resolves a target again when callbacks keep making it stale before giving up.
MAX_REREADS = 100


def _validator(graph: CompiledGraph) -> InputValidator:
    """The graph's input validator, made once per graph (kept on the graph: freed with it)."""
    found: InputValidator | None = graph.runtime_cache.get("input_validator")
    if found is None:
        found = graph.runtime_cache["input_validator"] = InputValidator(graph)
    return found


# The executions whose reaction callbacks this thread (context) is running (extensions/reactive.py): one of them may
# change inputs, retry or resume during a lifecycle; a node callable on another threads-runner worker, at the same
# time, may not. A worker starts in a fresh context, so it never inherits its caller's reactions.
_reacting_for: ContextVar[tuple[Execution, ...]] = ContextVar("igniter_reacting_for", default=())


@contextlib.contextmanager
def reacting(execution: Execution) -> Iterator[None]:
    """Marks the current thread (context) as running a reaction callback of ``execution`` while the block runs."""
    token = _reacting_for.set((*_reacting_for.get(), execution))
    try:
        yield
    finally:
        _reacting_for.reset(token)


def _one_at_a_time(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` run while holding the execution's lock (see ``Execution.lock``)."""

    @functools.wraps(method)
    def locked(self: Execution, *args: Any, **kwargs: Any) -> Any:
        lock = lock_to_take(self)
        if lock is None:
            return method(self, *args, **kwargs)
        with lock:
            return method(self, *args, **kwargs)

    return locked


def _worst(found: set[Status]) -> Status:
    """failed > waiting > pending > succeeded, over a set of node statuses."""
    for status in (FAILED, WAITING, PENDING):
        if status in found:
            return status
    return SUCCEEDED


def _all_targets(graph: CompiledGraph) -> tuple[str, ...]:
    """The nodes behind every output of ``graph``, each once (a compiled graph never changes: computed once)."""
    found: tuple[str, ...] | None = graph.runtime_cache.get("all_targets")
    if found is None:
        found = graph.runtime_cache["all_targets"] = tuple(dict.fromkeys(o.source_root for o in graph.outputs))
    return found


class Execution:
    """The state of one contract run. Most users go through the ``Contract`` instance instead."""

    def __init__(
        self,
        graph: CompiledGraph,
        contract: Any,
        inputs: Mapping[str, Any],
        *,
        runner: str | Runner | None = None,
        max_workers: int | None = None,
        store: Any = None,
        executor: Any = None,
        execution_id: str | None = None,
    ) -> None:
        self.graph = graph
        # The Contract owns its Execution; the way back is a weak reference, so a finished contract is freed by
        # reference counting as soon as its last user lets go (no cycle for the garbage collector to find).
        self._contract = weakref.ref(contract) if contract is not None else None
        self.contract_class: type = type(contract)
        self.execution_id = execution_id or str(uuid.uuid4())
        self.input_validator = _validator(graph)
        self.inputs: dict[str, Any] = self.input_validator.initial(inputs, self.execution_id)
        self.states: States = States()  # (compact entries read as NodeStates: runtime/states.py)
        self.bus = EventBus(self.execution_id)
        self.bound_events: dict[str, Any] = {}
        self.workflow: dict[str, Any] | None = None
        self.store = store
        self.runner = make_runner(runner, max_workers=max_workers, store=store, executor=executor)
        self.resolver = Resolver(self)  # (both refer back to this execution weakly: no reference cycle)
        self.children = ChildRuns(self)
        self.store_version: int | None = None  # the store version this execution last wrote or was read at
        self.saved_seq = -1  # seq of the last event included in this execution's last save
        self.encoded_events: list[dict[str, Any]] = []  # snapshot form of bus.events, filled as saves need it
        self.event_chunks: Any = None  # EventChunks: the events before ``encoded_events``, as a store keeps them
        # node name -> (state, its encoded form) for states known unchanged since restored or last encoded: a save
        # encodes only the states that changed (runtime/snapshot.py)
        self.encoded_states: dict[str, tuple[NodeState, dict[str, Any]]] = {}
        self.graph_changes: Any = None  # GraphChanges, when restored into a graph that changed since the save
        # How many lifecycles (run_lifecycle calls) are in progress: more than one while a callback run by one
        # reads outputs that need work (the reactive engine's on_success/on_failure/on_exit follow the outer one).
        self.lifecycle_depth = 0
        # Held while a lifecycle, an update, a resume or a retry runs: threads sharing this contract take turns
        # (a reader arriving meanwhile waits and reads the result) instead of resolving the same nodes at once.
        self.lock = threading.RLock()

    def __repr__(self) -> str:
        """``<Execution Order 3f2a… failed (3 succeeded, 1 failed)>``: the graph name, the execution id (both cut as
        ``shown_name`` cuts), the status of the nodes resolved so far and how many are in each status, in
        ``Status`` order. Resolves nothing (``status_of``, not ``status``) and holds no memory address, so a
        notebook cell showing it compares equal run after run."""
        found = states_now(self.states)
        if not found:
            return f"<Execution {shown_name(self.graph.name)} {shown_name(self.execution_id)} unresolved " \
                   "(no node resolved)>"
        counts = Counter(st.status for st in found)
        listed = ", ".join(f"{counts[s]} {s}" for s in Status if counts[s])
        return f"<Execution {shown_name(self.graph.name)} {shown_name(self.execution_id)} " \
               f"{_worst(set(counts))} ({listed})>"

    @property
    def reacting(self) -> bool:
        """Whether the calling thread (context) runs one of this execution's reaction callbacks: they may change
        inputs during a lifecycle, whose targets are then resolved again; a node's own callable may not
        (_changed_while_resolving), nor one on another threads-runner worker while a reaction runs."""
        return self in _reacting_for.get()

    @property
    def contract(self) -> Any:
        """The ``Contract`` instance this execution belongs to."""
        ref = self._contract
        contract = ref() if ref is not None else None
        if contract is None and ref is not None:
            raise ReferenceError(
                f"the {self.graph.name} contract of execution {self.execution_id} no longer exists: keep a reference "
                "to the contract (not only to contract.execution) while you use its execution"
            )
        return contract

    # ------------------------------------------------------------------ reading
    def resolve(self, name: str) -> NodeState:
        """Resolve one runtime node (no lifecycle events)."""
        return self.resolver.resolve(name)

    def output_state(self, name: str) -> NodeState:
        """The state behind output ``name`` (resolving it if needed); nested outputs read the child."""
        execution = self
        while True:  # a loop, not recursion: a nested output may go through any number of child levels
            out = execution.graph.output(name)
            root = out.source_root
            execution.run_lifecycle((root,))
            st = execution.states[root]
            rounds = 1
            while st.status is STALE:  # a callback run by the lifecycle's last event changed its inputs
                if rounds == MAX_REREADS:
                    raise execution._unsettled(root)
                execution.run_lifecycle((root,))
                st = execution.states[root]
                rounds += 1
            if out.child_output is None or st.status is not SUCCEEDED:
                return st
            execution, name = st.value.contract.execution, out.child_output

    def output_value(self, name: str) -> Any:
        """The value of output ``name``: raises the node's error if it failed; a ``DeferredResult`` if blocked."""
        st = self.output_state(name)
        if st.status is FAILED:
            raise st.error  # type: ignore[misc]
        return st.value

    def targets(self, outputs: Iterable[str] | None = None) -> tuple[str, ...]:
        if outputs is None:
            return _all_targets(self.graph)
        return tuple(dict.fromkeys(self.graph.output(o).source_root for o in outputs))

    def run_lifecycle(self, targets: tuple[str, ...], *, force: bool = False) -> None:
        """Resolve ``targets`` with lifecycle events when any of them needs work (or when ``force``).

        One thread at a time: another thread arriving meanwhile waits, then finds the targets resolved."""
        states = self.states
        if not force and all((st := states.get(t)) is not None and st.status is not STALE for t in targets):
            return
        lock = lock_to_take(self)  # (None on a threads-runner worker: under its caller's)
        if lock is not None and not lock.acquire(False):  # another thread resolves: wait, then look again
            lock.acquire()
            if not force and all((st := states.get(t)) is not None and st.status is not STALE for t in targets):
                lock.release()
                return
        try:
            payload = {"graph": self.graph.name, "targets": list(targets)}
            self.lifecycle_depth += 1
            try:
                self.bus.emit("execution_started", payload=payload)
                try:
                    self.runner.resolve(self, targets)
                    found = {states[t].status for t in targets if t in states}  # (what status_of reads: one pass)
                    rounds = 1
                    # A reaction may change inputs while the targets resolve (an effect calling update_inputs):
                    # a target it made stale is resolved again, so the run ends on current values.
                    while STALE in found:
                        if rounds == MAX_REREADS:
                            raise self._unsettled(next(t for t in targets if t in states and states[t].status is STALE))
                        self.runner.resolve(self, targets)
                        found = {states[t].status for t in targets if t in states}
                        rounds += 1
                except BaseException as exc:
                    # Interrupted (KeyboardInterrupt, a runner bug): report it as a failed lifecycle, never as success
                    # (unless this thread is a worker whose caller was interrupted: that caller reported it).
                    if lock is not None or not abandoned_worker(self):
                        self.bus.emit("execution_failed", status="failed", payload={
                            **payload, "error": f"interrupted: {type(exc).__name__}", "status": "failed"})
                    raise
                status = _worst(found)
                if status is FAILED:
                    err = next((states[t].error for t in targets if states[t].status is FAILED), None)
                    self.bus.emit("execution_failed", status="failed",
                                  payload={**payload, "error": str(err), "status": "failed"})
                else:
                    self.bus.emit("execution_finished", status=str(status), payload={**payload, "status": str(status)})
            finally:
                self.lifecycle_depth -= 1
            self.runner.after_lifecycle(self)
        finally:
            if lock is not None:
                lock.release()

    def _unsettled(self, name: str) -> ResolutionError:
        node = self.resolver.nodes[name]
        return ResolutionError(
            f"Node '{name}' changed while it was being resolved, {MAX_REREADS} times in a row: a reaction or "
            "subscriber keeps changing the inputs it depends on (update_inputs in an effect?), so it never settles",
            graph=self.graph.name, node=name, path=node.path, execution_id=self.execution_id,
            source_location=node.source_location,
        )

    def resolve_all(self) -> Execution:
        self.run_lifecycle(self.targets())
        return self

    def status_of(self, targets: Iterable[str] | None = None) -> Status:
        """failed > waiting > pending > succeeded, over the given nodes (default: every resolved node)."""
        states = self.states
        if targets is None:  # (a copy: a threads run's workers may record nodes meanwhile, see ``states_now``)
            found = {st.status for st in states_now(states)}
        else:  # (one comprehension, no generator: asked several times per delivery; looks names up, walks nothing)
            found = {states[t].status for t in targets if t in states}
        return _worst(found)

    @property
    def status(self) -> Status:
        """The execution's status after resolving every output. Never raises."""
        self.resolve_all()
        return self.status_of()

    def first_error(self) -> IgniterError:
        """The error of the first failed node (in the order nodes were first resolved); ``LookupError`` if none.
        Safe from another thread while a threads run records nodes (it reads a copy: ``states_now``)."""
        for st in states_now(self.states):
            if st.status is FAILED:
                return st.error  # type: ignore[return-value]
        raise LookupError("no failed node")

    def first_deferred(self) -> DeferredResult:
        """The wait of the first pending or waiting node; ``LookupError`` if none (reads a copy, as ``first_error``)."""
        for st in states_now(self.states):
            if st.status in BLOCKED and isinstance(st.value, DeferredResult):
                return st.value
        raise LookupError("no pending node")

    # ------------------------------------------------------------------ changing
    def update_inputs(self, values: Mapping[str, Any]) -> list[str]:
        """Set inputs; each changed one invalidates its downstream nodes. Returns the invalidated names."""
        # (the lock is taken here, not by a wrapper: B2 counts every call)
        lock = lock_to_take(self)
        if lock is not None:
            lock.acquire()
        try:
            if self.lifecycle_depth and not self.reacting:
                raise self._changed_while_resolving("update_inputs()")
            self.input_validator.updates(values, self.execution_id)
            changed: list[str] = []
            for name, value in values.items():
                current = self.states.get(name)
                old = self.inputs.get(name, current.value if current is not None else _UNSET)
                # The very object given before, when mutable, is a change: the caller may have changed it in place
                # (``items.append(x); update_inputs(items=items)``), and it equals itself whatever it now holds.
                if old is not _UNSET and same_value(old, value) and (old is not value or is_immutable(value)):
                    continue
                self.inputs[name] = value
                changed.append(name)
            invalidated: list[str] = []
            for name in changed:
                node = self.resolver.nodes[name]
                prev = self.states.get(name)
                self.states[name] = NodeState(name, SUCCEEDED, self.inputs[name], None,
                                              (prev.version + 1) if prev else 1, time.time(), name)
                self.bus.emit("input_updated", name, node.path, "succeeded", {"value": self.inputs[name]})
                invalidated.extend(invalidate_dependents(self, (name,), name))
            return invalidated
        finally:
            if lock is not None:
                lock.release()

    @_one_at_a_time
    def resume(self, node_name: str, value: Any) -> None:
        """Give a pending (or waiting) node its value; its dependents become stale and re-resolve on read
        (``runtime/resuming.py``)."""
        if self.lifecycle_depth and not self.reacting:
            raise self._changed_while_resolving("resume()")
        resuming.resume(self, node_name, value)

    def loaded_from_store(self, version: int) -> None:
        """Record that this execution is what the store holds at ``version`` (for compare-and-set saves)."""
        self.store_version = version
        self.saved_seq = self.bus.last_seq()

    def to_dict(self) -> dict[str, Any]:
        """Plain data about this execution; never raises for failed nodes (L-05)."""
        from igniter_nb.diagnostics.states import states_view

        self.resolve_all()
        status = self.status_of()
        return {
            "graph": self.graph.name,
            "execution_id": self.execution_id,
            "inputs": dict(self.inputs),
            **self.runner.to_dict(),
            "status": str(status),
            "succeeded": status is SUCCEEDED,
            "failed": status is FAILED,
            "pending": status is PENDING,
            "waiting": status is WAITING,
            "states": states_view(self),
            "event_count": self.bus.count(),
            "workflow": self.workflow,
        }

    @_one_at_a_time
    def resume_by_token(self, token: str, value: Any) -> str:
        """Resume the node that deferred ``token`` (the originator first, then any node carrying it): its name
        (``runtime/resuming.py``)."""
        if self.lifecycle_depth and not self.reacting:
            raise self._changed_while_resolving("resume_by_token()")
        return resuming.resume_by_token(self, token, value)

    @_one_at_a_time
    def retry(self, node: str | None = None) -> list[str]:
        """Mark failed nodes (all, or ``node`` and the failures downstream of it) stale so they resolve again."""
        if self.lifecycle_depth and not self.reacting:
            raise self._changed_while_resolving("retry()")
        if node is not None:
            self.graph.fetch(node)
            names = [node, *self.graph.downstream_of(node)]
            failed = [n for n in names if (st := self.states.get(n)) is not None and st.status is FAILED]
        else:
            failed = [n for n, st in named_states_now(self.states).items() if st.status is FAILED]
        for name in failed:
            st = self.states[name]
            self.states[name] = st._replace(status=STALE, version=st.version + 1, invalidated_by=name)
            node_ = self.resolver.nodes[name]
            self.bus.emit("node_invalidated", name, node_.path, "stale", {"cause": "retry"})
        return failed

    def _changed_while_resolving(self, operation: str) -> ResolutionError:
        """Changing inputs or states (update_inputs, retry, resume) from inside a node's callable (while this
        execution resolves, outside a reaction) would leave the nodes being computed with values from before the
        change, marked fresh: refused."""
        return ResolutionError(
            f"{operation} was called on {self.graph.name} while it is resolving (from inside one of its nodes' "
            "callables): the nodes being computed would keep values computed before the change. Change inputs "
            "before or after reading results, or compute the value as a node",
            graph=self.graph.name, execution_id=self.execution_id, operation=operation,
        )

    def await_deferred(self, node: AwaitNode) -> DeferredResult:
        """The wait record of an await node; its token is stable for the execution (``<id>:<node>``)."""
        return DeferredResult(f"{self.execution_id}:{node.name}", {"event": node.event}, node.name, None, node.event)



class _Unset:
    pass


_UNSET = _Unset()
