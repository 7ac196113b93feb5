"""What the resolver does for one node, off its fast path: compute it through ``finish`` (inputs, awaits,
children, any callable), settle what a callable returned, and write the new state with its event.

``Resolver`` (``runtime/resolver.py``) inherits these; its loop takes a shorter way for plain function computes
and comes here for everything else.
"""

from __future__ import annotations

import io
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Coroutine, Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

from igniter_nb.errors import IgniterError, ResolutionError
from igniter_nb.events.bus import EMPTY_PAYLOAD, SCALAR_TYPES
from igniter_nb.events.event import Event
from igniter_nb.model import AwaitNode, ComputeNode, InputNode, Node
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.states import NodeState
from igniter_nb.runtime.status import FAILED, PENDING, SUCCEEDED, WAITING

if TYPE_CHECKING:
    from igniter_nb.runtime.execution import Execution
    from igniter_nb.runtime.resolver import Resolver

_new = tuple.__new__
_now = time.time


def exception_text(exc: BaseException) -> str:
    """``str(exc)``, or a stand-in when the exception's own ``__str__`` raises or returns no text (a user's error
    must still fail its node, not escape from ``status``)."""
    try:
        text = str(exc)
    except Exception as broken:
        return f"<str() of {type(exc).__name__} raised {type(broken).__name__}>"
    return text


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
    text = exception_text(exc)
    err = ResolutionError(
        f"{type(exc).__name__}: {text}" if text else type(exc).__name__,
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
    if isinstance(value, Awaitable):  # a coroutine (an async def called and never awaited), a future, a task
        return f"an awaitable ({tp.__qualname__})"
    if isinstance(value, Generator):
        return "a generator"
    if isinstance(value, AsyncIterator | Iterator) and not isinstance(value, io.IOBase):  # files are handles
        return f"an iterator ({tp.__qualname__})"
    if not isinstance(value, DeferredResult) and len(_SETTLED_TYPES) < _SETTLED_LIMIT:
        _SETTLED_TYPES.add(tp)
    return None


def one_shot_advice(kind: str) -> str:
    """What to do instead of giving a value of ``one_shot_kind`` ``kind`` (the end of the refusal's message)."""
    if kind.startswith("an awaitable"):
        return "which is never awaited here; await it first and pass its result"
    return "which only its first reader could read; pass a list instead (e.g. list(...))"


class NodeSteps:
    """One node's way off the fast path; the attributes are set by ``Resolver``."""

    _execution: weakref.ref[Execution]
    nodes: Mapping[str, Node]
    plan: Mapping[str, tuple[tuple[str, str, Any], ...]]
    roots: Mapping[str, tuple[str, ...]]
    simple: Mapping[str, bool]
    recorded: list[Any]

    @property
    def execution(self) -> Execution:
        """The execution this resolver belongs to (it owns the resolver, so it is alive while this is used)."""
        return self._execution()  # type: ignore[return-value]

    # ------------------------------------------------------------------ one node
    def finish(self, name: str) -> None:
        """Compute ``name`` from its (already resolved) dependencies and record the new state."""
        self.write(self.nodes[name], self.settle(name))

    def settle(self, name: str) -> NodeState:
        """The new state of ``name``, computed from its (already resolved) dependencies; not recorded yet (the
        threads runner records it only when the run was not interrupted meanwhile)."""
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
                state = ex.children.resolve(node, cast("Resolver", self))  # only a Resolver is a NodeSteps
        except IgniterError as exc:
            state = self.failed(node, wrap_error(exc, ex, node))
        return state

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
            if isinstance(value, Awaitable):
                if isinstance(value, Coroutine):
                    value.close()  # never awaited: closed here, without Python's "never awaited" warning later
                return self.failed(node, ResolutionError(
                    f"Node '{node.name}' returned {kind}: computes are called synchronously and nothing awaits "
                    "what they return; await it inside the callable (asyncio.run(...)) and return the result",
                    graph=ex.graph.name, node=node.name, path=node.path, execution_id=ex.execution_id,
                    source_location=node.source_location, value_type=type(value).__qualname__,
                ))
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
