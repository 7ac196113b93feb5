"""Resolving nodes: lazily, dependencies first, without recursion (graphs may be deep).

The loop below is the hot path of igniter_nb; it trades a little elegance for speed (states are named tuples
built with ``tuple.__new__``; with no subscriber, node events are recorded compactly and built into ``Event``
objects when the log is read, see ``EventBus.record_into``; per-node data is looked up once).
"""

from __future__ import annotations

import io
import time
import weakref
from collections.abc import AsyncIterator, Generator, Iterator
from typing import TYPE_CHECKING, Any

from igniter_nb.errors import IgniterError, ResolutionError
from igniter_nb.events.bus import EMPTY_PAYLOAD, SCALAR_TYPES
from igniter_nb.events.event import Event
from igniter_nb.model import AwaitNode, ComputeNode, InputNode, Node
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.states import NodeState
from igniter_nb.runtime.status import FAILED, PENDING, STALE, SUCCEEDED, WAITING

if TYPE_CHECKING:
    from igniter_nb.runtime.execution import Execution

_new = tuple.__new__
_now = time.time
# The mark above a started node on the resolver's stack when it has no fast-plan entry (``finish`` computes it).
_SLOW: tuple[()] = ()


def _marked(stacks: list[list[Any]]) -> set[str]:
    """The started nodes on ``stacks``: each is the name right under a mark (a tuple) on its stack."""
    found: set[str] = set()
    for stack in stacks:
        previous: Any = None
        for entry in list(stack):
            if type(entry) is tuple and previous is not None and type(previous) is not tuple:
                found.add(previous)
            previous = entry
    return found


def wrap_error(exc: BaseException, execution: Execution, node: Node) -> IgniterError:
    """A user exception as a ``ResolutionError`` located at ``node`` (the original stays as ``__cause__``)."""
    if isinstance(exc, IgniterError):
        return exc.with_context(
            graph=execution.graph.name,
            node=node.name,
            path=node.path,
            execution_id=execution.execution_id,
            source_location=node.source_location,
        )
    message = str(exc) or type(exc).__name__
    err = ResolutionError(
        f"{type(exc).__name__}: {message}" if str(exc) else message,
        graph=execution.graph.name,
        node=node.name,
        path=node.path,
        execution_id=execution.execution_id,
        source_location=node.source_location,
        cause_type=f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins."),
    )
    err.__cause__ = exc
    return err


# Types a compute has returned that need nothing from ``_settle`` (not deferred, not one-shot): the fast path
# stores such values directly. Bounded, so a program minting classes in a loop cannot grow it forever.
_SETTLED_TYPES: set[type] = {int, float, str, bool, type(None), list, dict, tuple, set, frozenset, bytes}
_SETTLED_LIMIT = 4096


def one_shot_kind(value: Any) -> str | None:
    """``"a generator"``/``"an iterator (map)"`` when ``value`` can be read only once, else ``None``.

    Node values are read by every dependent (and by snapshots and diagnostics); a generator would give its
    items to the first reader only, so it is refused rather than drained: an endless one would hang.
    """
    tp = type(value)
    if tp in _SETTLED_TYPES:
        return None
    if isinstance(value, Generator):
        return "a generator"
    if isinstance(value, AsyncIterator | Iterator) and not isinstance(value, io.IOBase):  # files are handles
        return f"an iterator ({tp.__qualname__})"
    if not isinstance(value, DeferredResult) and len(_SETTLED_TYPES) < _SETTLED_LIMIT:
        _SETTLED_TYPES.add(tp)
    return None


class Resolver:
    """Resolves nodes of one execution into ``execution.states``."""

    def __init__(self, execution: Execution) -> None:
        self._execution = weakref.ref(execution)  # the execution owns this resolver: no reference cycle
        graph = execution.graph
        self.nodes = graph.nodes_by_name
        self.plan = graph.dep_plan
        self.roots = graph.dep_roots
        self.simple = graph.simple_deps
        self.fast = graph.fast_plan
        self._stacks: list[list[Any]] = []  # the stacks of the resolve calls in progress (see ``running``)
        self.recorded = execution.bus.record_into(self.nodes)  # node_started/node_succeeded, built when read

    # ------------------------------------------------------------------ driving

    @property
    def execution(self) -> Execution:
        """The execution this resolver belongs to (it owns the resolver, so it is alive while this is used)."""
        return self._execution()  # type: ignore[return-value]

    def resolve(self, target: str) -> NodeState:
        """Resolve ``target`` (and what it needs); returns its state. Never leaves a node ``running`` (L-16).

        A node met for the first time emits ``node_started``; if a dependency still needs resolving, the node
        waits on the stack under its dependencies, else it is computed at once. Plain function computes, with
        no subscriber listening, take a fast path: the same states and events as ``finish`` builds, without its
        calls, recording their two events as a name and the new state (the bus builds the ``Event`` objects
        when the log is read). The clock is read once per computed node (after its callable returns); the
        events in between share that reading, so events cost no clock call of their own.

        A started node is marked on the stack itself: right above its name sits its fast-plan entry (``_SLOW``
        for a node ``finish`` computes), and that mark is what ``running`` reads. So the loop does no per-node
        set operations and looks each node up in the plan once: at 100,000 nodes every lookup in a table that
        size is a cache miss, and they were most of what a node cost more there than at 1,000 (docs/performance.md).
        """
        ex = self.execution
        states = ex.states
        st = states.get(target)
        if st is not None and st.status is not STALE:
            return st
        bus = ex.bus
        fast_get = self.fast.get
        roots = self.roots
        nodes = self.nodes
        settled = _SETTLED_TYPES
        scalars = SCALAR_TYPES
        record = self.recorded.append
        now = _now()
        stamp = True  # the next node_started records ``now``: the clock was read since the last recorded time
        stack: list[Any] = [target]
        push = stack.append
        # What the loop has just looked up or written, so the next turn need not look it up in ``states`` again
        # (at 100,000 nodes each lookup in a table that size is a cache miss): the dependency it pushed and its
        # state; the node it computed last and that node's new state.
        pushed: str | None = None
        found: NodeState | None = None
        just_name: str | None = None
        just: Any = None
        active = self._stacks
        active.append(stack)
        nested = len(active) > 1  # called from inside a node's callable (it read this contract's own results)
        try:
            while stack:
                top = stack[-1]
                plain = not bus.subscribers and bus.lock is None
                if type(top) is tuple:  # a mark (names are never tuples): back to the started node under it
                    name = stack[-2]
                    if not top:  # _SLOW: finish() computes it
                        info = None
                    elif type(top[0]) is tuple:  # (entry,): the node had a state when it started: read it again
                        info = top[0]
                        st = states.get(name)
                    else:  # its plan entry: it had no state when it started (nothing else can start it meanwhile)
                        info = top
                        st = None
                    ready = info is not None and plain  # whether the fast path can compute it now
                    if ready:
                        if info[3] == 1:  # type: ignore[index]  # its one dependency, by position
                            dep = info[2][0]  # type: ignore[index]
                            # the node computed last, when no user code ran since (a chain's usual case)
                            dst = just if dep is just_name else states[dep]
                            if dst.status is SUCCEEDED:
                                last = dst.value
                            else:
                                ready = False  # a dependency failed or waits: finish() says how
                        else:
                            values = {}
                            for dep in info[2]:  # type: ignore[index]
                                dst = states[dep]
                                if dst.status is not SUCCEEDED:
                                    ready = False  # a dependency failed or waits: finish() says how
                                    break
                                values[dep] = dst.value
                else:
                    name = top
                    if name is pushed:  # the one dependency pushed last turn: ``found`` is its state
                        st = found
                        pushed = None
                    else:
                        st = states.get(name)
                    if st is not None and st.status is not STALE:
                        stack.pop()
                        continue
                    if nested and name in self._started_outside(stack):
                        raise self._reentered(name)
                    info = fast_get(name)
                    if plain:  # node_started at ``now``, built when the log is read (events/bus.py)
                        if stamp:
                            record((name, now))
                            stamp = False
                        else:
                            record(name)
                    else:
                        bus.emit("node_started", name, nodes[name].path, "running", EMPTY_PAYLOAD)
                        just_name = None  # a subscriber ran: read states again
                    # started: marked running (with what the way back needs to know)
                    push(_SLOW if info is None else info if st is None else (info,))
                    ready = info is not None and plain  # whether the fast path can compute it now
                    if ready and info[3] == 1:  # type: ignore[index]  # its one dependency, by position
                        dep = info[2][0]  # type: ignore[index]
                        found = states.get(dep)
                        if found is None or found.status is STALE:
                            push(dep)
                            pushed = dep  # the next turn starts it: no need to look its state up again
                            continue
                        if found.status is SUCCEEDED:
                            last = found.value
                        else:
                            ready = False  # a dependency failed or waits: finish() says how
                    else:
                        missing: list[str] | None = None
                        values = {}
                        for dep in info[2] if info is not None else roots[name]:
                            found = states.get(dep)
                            if found is None or found.status is STALE:
                                if missing is None:
                                    missing = [dep]
                                else:
                                    missing.append(dep)
                            elif ready:
                                if found.status is SUCCEEDED:
                                    values[dep] = found.value
                                else:
                                    ready = False  # a dependency failed or waits: finish() says how
                        if missing is not None:
                            missing.reverse()  # the first dependency resolves first
                            stack.extend(missing)
                            continue
                if not ready:  # the general path: finish() computes it (or says why it cannot)
                    self.finish(name)
                    now = _now()
                    stamp = True
                    just_name = None  # user code ran: read states again
                    del stack[-2:]  # the node and its mark
                    continue
                # A plain function compute whose dependencies all succeeded: what finish() and write() do.
                try:
                    # By position when the dependencies are exactly the function's parameters (the same call
                    # for Python, without a keyword dictionary): ``last`` is the one dependency's value.
                    # (``values`` is only built for the others.)
                    by_position = info[3]  # type: ignore[index]
                    if by_position == 1:
                        value = info[0](last)  # type: ignore[index]
                    elif by_position:
                        value = info[0](*values.values())  # type: ignore[index]
                    else:
                        value = info[0](**values)  # type: ignore[index]
                except Exception as exc:
                    node = nodes[name]
                    self.write(node, self.failed(node, wrap_error(exc, ex, node)))
                    now = _now()
                    stamp = True
                    just_name = None
                else:
                    now = _now()
                    if type(value) in scalars:
                        # the state is also the node_succeeded record: its ``resolved_at`` is the event's time
                        states[name] = just = _new(NodeState, (name, SUCCEEDED, value, None,
                                                               st.version + 1 if st is not None else 1, now, None,
                                                               ()))
                        record(just)
                        just_name = name
                    elif type(value) in settled:  # the same, and the record keeps a value alive: say so
                        states[name] = just = _new(NodeState, (name, SUCCEEDED, value, None,
                                                               st.version + 1 if st is not None else 1, now, None,
                                                               ()))
                        record(just)
                        just_name = name
                        bus.pinned = True
                    else:  # deferred, one-shot, or a type not seen yet
                        self.write(nodes[name], self._settle(nodes[name], value))  # type: ignore[arg-type]
                        stamp = True
                        just_name = None
                del stack[-2:]  # the node and its mark
        finally:
            # Also on KeyboardInterrupt & co: the nodes this call started stop being "running" with its stack
            # (states keep their last value).
            for i, found_stack in enumerate(active):
                if found_stack is stack:
                    del active[i]
                    break
        return states[target]

    @property
    def running(self) -> set[str]:
        """The nodes started and not finished yet by the resolve calls in progress (a node waiting on its
        dependencies, or being computed)."""
        return _marked(list(self._stacks))

    def _started_outside(self, stack: list[Any]) -> set[str]:
        return _marked([other for other in list(self._stacks) if other is not stack])

    def _reentered(self, name: str) -> ResolutionError:
        """The error for a node asked for again, from inside a node's callable, while it waits for that very
        callable: without it the inner call would start the node again, and so the callable, without end."""
        ex = self.execution
        node = self.nodes[name]
        return ResolutionError(
            f"Node '{name}' was asked for while it is being resolved: a node's callable read this contract's own "
            f"results, and they need '{name}', which is still waiting for that callable (a cycle through the "
            "contract's results; pass the value as a dependency instead)",
            graph=ex.graph.name, node=name, path=node.path, execution_id=ex.execution_id,
            source_location=node.source_location,
        )

    # ------------------------------------------------------------------ one node
    def finish(self, name: str) -> None:
        """Compute ``name`` from its (already resolved) dependencies and record the new state."""
        ex = self.execution
        node = self.nodes[name]
        kind = node.kind
        try:
            if kind == "compute":
                state = self._compute(node)  # type: ignore[arg-type]
            elif kind == "input":
                state = self._input(node)  # type: ignore[arg-type]
            elif kind == "await":
                state = self._await(node)  # type: ignore[arg-type]
            else:
                state = ex.children.resolve(node, self)
        except IgniterError as exc:
            state = self.failed(node, wrap_error(exc, ex, node))
        self.write(node, state)

    def write(self, node: Node, state: NodeState) -> None:
        """Store ``state`` (built by ``succeeded``/``failed``/``blocked``) and emit the matching event."""
        ex = self.execution
        ex.states[node.name] = state
        status = state.status
        bus = ex.bus
        if status is SUCCEEDED:
            payload = ex.children.success_payload(node, state) if node.kind != "compute" else EMPTY_PAYLOAD
            if bus.subscribers or bus.lock is not None:
                bus.emit("node_succeeded", node.name, node.path, "succeeded", payload)
            elif payload is EMPTY_PAYLOAD:  # at the state's time, built when the log is read
                self.recorded.append(state)
                if type(state.value) not in SCALAR_TYPES:
                    bus.pinned = True
            else:
                bus.log.append(_new(Event, (next(bus.seq), "node_succeeded", bus.execution_id, node.name,
                                               node.path, "succeeded", payload, _now())))
        elif status is FAILED:
            bus.emit("node_failed", node.name, node.path, "failed", {"error": str(state.error)})
        else:
            value = state.value
            payload = value.to_dict() if isinstance(value, DeferredResult) else {}
            if state.waiting_for:
                payload["waiting_for"] = list(state.waiting_for)
            bus.emit("node_waiting" if status is WAITING else "node_pending", node.name, node.path, str(status), payload)

    def _version(self, name: str) -> int:
        prev = self.execution.states.get(name)
        return prev.version + 1 if prev is not None else 1

    def succeeded(self, node: Node, value: Any) -> NodeState:
        prev = self.execution.states.get(node.name)
        return _new(NodeState, (node.name, SUCCEEDED, value, None, prev.version + 1 if prev is not None else 1,
                                _now(), None, ()))

    def failed(self, node: Node, error: BaseException) -> NodeState:
        return _new(NodeState, (node.name, FAILED, None, error, self._version(node.name), _now(), None, ()))

    def blocked(self, node: Node, deferred: DeferredResult, status: Any, waiting_for: tuple[str, ...]) -> NodeState:
        return _new(NodeState, (node.name, status, deferred, None, self._version(node.name), _now(), None, waiting_for))

    # ------------------------------------------------------------------ dependencies
    def dependency_values(self, node: Node) -> tuple[dict[str, Any] | None, NodeState | None]:
        """``(values, None)`` when every dependency succeeded, else ``(None, state)`` for the blocked/failed node."""
        states = self.execution.states
        name = node.name
        values: dict[str, Any] = {}
        if self.simple[name]:
            for dep in self.roots[name]:
                st = states[dep]
                if st.status is SUCCEEDED:
                    values[dep] = st.value
                else:
                    return None, self._not_ready(node)
            return values, None
        for dep, root, out in self.plan[name]:
            st = states[root]
            if st.status is not SUCCEEDED:
                return None, self._not_ready(node)
            if out is not None and out.child_output is not None:
                child_state = self.execution.children.read_child_output(st.value, out, node)
                if child_state is not None:
                    return None, child_state
                values[dep] = st.value.read(out.child_output)
            else:
                values[dep] = st.value
        return values, None

    def _not_ready(self, node: Node) -> NodeState:
        """The state of a node some dependency of which failed (same error) or is pending/waiting."""
        states = self.execution.states
        first: DeferredResult | None = None
        waiting_for: list[str] = []
        any_waiting = False
        for root in self.roots[node.name]:
            st = states[root]
            if st.status is FAILED:
                return self.failed(node, st.error)  # type: ignore[arg-type]
        for root in self.roots[node.name]:
            st = states[root]
            if st.status is PENDING or st.status is WAITING:
                any_waiting = any_waiting or st.status is WAITING
                first = first or st.value
                for w in st.waiting_for or (root,):
                    if w not in waiting_for:
                        waiting_for.append(w)
        assert first is not None
        return self.blocked(node, first, WAITING if any_waiting else PENDING, tuple(waiting_for))

    # ------------------------------------------------------------------ kinds
    def _input(self, node: InputNode) -> NodeState:
        ex = self.execution
        value = ex.input_validator.value_of(node.name, ex.inputs, ex.execution_id)
        return self.succeeded(node, value)

    def _compute(self, node: ComputeNode) -> NodeState:
        values, blocked = self.dependency_values(node)
        if blocked is not None:
            return blocked
        assert values is not None
        ex = self.execution
        try:
            kind = node.callable_kind
            if kind == "function" or kind == "object":
                value = node.callable(**values)
            elif kind == "executor":
                value = node.callable(ex.contract, ex, node).call(**values)
            else:
                value = getattr(ex.contract, node.callable)(**values)
        except Exception as exc:
            return self.failed(node, wrap_error(exc, ex, node))
        return self._settle(node, value)

    def _settle(self, node: ComputeNode, value: Any) -> NodeState:
        """The state for a value a compute callable returned (deferred → pending; a one-shot iterator →
        failure; guards → True or failure)."""
        if isinstance(value, DeferredResult):
            if value.source_node is None:
                value = DeferredResult(value.token, value.payload, node.name, None, value.event)
            return self.blocked(node, value, PENDING, (node.name,))
        kind = one_shot_kind(value)
        if kind is not None:
            ex = self.execution
            return self.failed(node, ResolutionError(
                f"Node '{node.name}' returned {kind}, which its first reader would drain and every later reader "
                "would find empty; return a list instead (e.g. list(...))",
                graph=ex.graph.name, node=node.name, path=node.path, execution_id=ex.execution_id,
                source_location=node.source_location, value_type=type(value).__qualname__,
            ))
        if node.role == "guard":
            if not value:
                ex = self.execution
                return self.failed(node, ResolutionError(
                    node.guard_message or f"Guard '{node.name}' failed",
                    graph=ex.graph.name, node=node.name, path=node.path,
                    execution_id=ex.execution_id, source_location=node.source_location,
                ))
            value = True
        return self.succeeded(node, value)

    def _await(self, node: AwaitNode) -> NodeState:
        ex = self.execution
        bound = ex.bound_events.get(node.name)
        if bound is not None:
            return self.succeeded(node, bound)
        deferred = ex.await_deferred(node)
        return self.blocked(node, deferred, WAITING, (node.name,))
