"""Resuming a run: a pending (or waiting) node given its value, by name or by the token of its wait, and what
becomes stale after it.

``Execution.resume`` and ``Execution.resume_by_token`` (``execution.py``) hold the execution's lock and refuse a
resume from inside one of its nodes' callables, then call these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from igniter_nb.errors import PayloadValidationError, ResolutionError
from igniter_nb.model import AwaitNode, ComputeNode, Node, OutputNode
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.depth import descend
from igniter_nb.runtime.invalidation import invalidate_dependents
from igniter_nb.runtime.resolver import one_shot_kind, wrap_error
from igniter_nb.runtime.states import NodeState, states_now
from igniter_nb.runtime.status import BLOCKED, STALE
from igniter_nb.runtime.steps import one_shot_advice

if TYPE_CHECKING:
    from igniter_nb.runtime.execution import Execution


def resume(execution: Execution, node_name: str, value: Any) -> None:
    """Give a pending (or waiting) node its value; its dependents become stale and re-resolve on read."""
    node = execution.graph.fetch(node_name)
    if isinstance(node, OutputNode):
        node = execution.graph.node(node.source_root)
    kind = one_shot_kind(value)
    if kind is not None:
        raise ResolutionError(f"The value resuming '{node.name}' is {kind}, {one_shot_advice(kind)}",
                              graph=execution.graph.name,
                              node=node.name, path=node.path, execution_id=execution.execution_id,
                              source_location=node.source_location)
    st = execution.states.get(node.name)
    child = execution.children.child_for(node.name)
    if st is None and isinstance(node, AwaitNode):
        execution.bound_events[node.name] = value
        execution.resolver.write(node, execution.resolver.succeeded(node, value))
        execution.bus.emit("node_resumed", node.name, node.path, "succeeded", {"resumed": True})
        return
    if st is None or st.status not in BLOCKED:
        status = "never resolved" if st is None else str(st.status)
        raise ResolutionError(f"Node '{node.name}' is not pending (it is {status})", graph=execution.graph.name,
                              node=node.name, path=node.path, execution_id=execution.execution_id,
                              source_location=node.source_location)
    if child is not None and isinstance(st.value, DeferredResult):
        descend(child.resume_by_token, st.value.token, value)
        _restale(execution, node.name, cause=node.name)
    else:
        if isinstance(node, AwaitNode):
            execution.bound_events[node.name] = value
        state = _resumed_state(execution, node, st, value)
        execution.resolver.write(node, state)
        execution.bus.emit("node_resumed", node.name, node.path, str(state.status), {"resumed": True})
        invalidate_dependents(execution, (node.name,), node.name)
    _announce_after_resume(execution)
    execution.runner.after_resume(execution)


def _resumed_state(execution: Execution, node: Node, st: NodeState, value: Any) -> NodeState:
    """The state a resumed node takes: ``value``, or what its executor's ``resumed`` makes of it."""
    resolver = execution.resolver
    if not (isinstance(node, ComputeNode) and node.callable_kind == "executor"
            and isinstance(st.value, DeferredResult) and st.value.source_node == node.name
            and node.callable.continues_on_resume()):
        return resolver.succeeded(node, value)
    for dep in resolver.roots[node.name]:
        resolver.resolve(dep)
    values, blocked = resolver.dependency_values(node)
    if blocked is not None:
        return blocked
    assert values is not None
    try:
        result = node.callable(execution.contract, execution, node).resumed(value, st.value, **values)
    except PayloadValidationError as exc:  # the value is refused: the node stays as it was
        exc.with_context(graph=execution.graph.name, node=node.name, path=node.path,
                         execution_id=execution.execution_id, source_location=node.source_location)
        raise
    except Exception as exc:
        return resolver.failed(node, wrap_error(exc, execution, node))
    return resolver._settle(node, result)


def _announce_after_resume(execution: Execution) -> None:
    """If the resume left nothing to recompute for the outputs (the resumed node feeds an output directly), end a
    lifecycle now so reactions (on_success, on_exit) learn the new status (L-13)."""
    targets = execution.targets()
    if all((st := execution.states.get(t)) is not None and st.status is not STALE for t in targets):
        execution.run_lifecycle(targets, force=True)


def resume_by_token(execution: Execution, token: str, value: Any) -> str:
    """Resume the node that deferred ``token`` (the originator first, then any node carrying it); its name."""
    candidates = [st for st in states_now(execution.states)
                  if st.status in BLOCKED and isinstance(st.value, DeferredResult) and st.value.token == token]
    if not candidates:
        owner = execution.children.node_for_token(token)  # held deeper down, e.g. by a second pending collection item
        if owner is not None:
            descend(execution.children.child_for(owner).resume_by_token, token, value)
            _restale(execution, owner, cause=owner)
            execution.runner.after_resume(execution)
            return owner
        known = sorted({st.value.token for st in states_now(execution.states)
                        if st.status in BLOCKED and isinstance(st.value, DeferredResult)})
        raise ResolutionError(
            f"No pending node found for token '{token}' (pending tokens: {', '.join(known) or 'none'})",
            graph=execution.graph.name, execution_id=execution.execution_id)
    # The node that deferred the token here, else the node holding the child that did. A node merely
    # blocked by a dependency is never the origin, even when its name equals the child node that
    # deferred (``source_node`` names a node of whichever contract deferred).
    child_for = execution.children.child_for
    origin = next((st for st in candidates if st.value.source_node == st.name and child_for(st.name) is None
                   and st.waiting_for in ((), (st.name,))), None)
    if origin is None:
        origin = next((st for st in candidates if child_for(st.name) is not None), candidates[0])
    execution.resume(origin.name, value)
    return origin.name


def _restale(execution: Execution, name: str, cause: str) -> None:
    st = execution.states[name]
    execution.states[name] = st._replace(status=STALE, version=st.version + 1, invalidated_by=cause)
    invalidate_dependents(execution, (name,), cause)
