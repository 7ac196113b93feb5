"""Nodes that run child contracts: composition (branch and collection build on the same pieces).

A child that is pending or waiting makes the parent node pending/waiting (L-08); the child instance is
kept, so resuming it (through the parent) continues where it stopped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from igniter_nb.errors import IgniterError, ResolutionError
from igniter_nb.events.bus import EMPTY_PAYLOAD
from igniter_nb.model import CompositionNode, Node, OutputNode
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.states import NodeState
from igniter_nb.runtime.status import FAILED, PENDING, SUCCEEDED, WAITING

if TYPE_CHECKING:
    from igniter_nb.runtime.execution import Execution
    from igniter_nb.runtime.resolver import Resolver


class ChildRuns:
    """The child contract instances of one execution, by node name."""

    def __init__(self, execution: Execution) -> None:
        self.execution = execution
        self.instances: dict[str, Any] = {}

    # -- dispatch -----------------------------------------------------------------
    def resolve(self, node: Node, resolver: Resolver) -> NodeState:
        handler = _HANDLERS.get(node.kind)
        if handler is None:
            raise ResolutionError(f"node kind '{node.kind}' is not supported by this runtime", node=node.name)
        state: NodeState = handler(self, node, resolver)
        return state

    def success_payload(self, node: Node, state: NodeState) -> Any:
        child = self.instances.get(node.name)
        if child is None or node.kind not in ("composition", "branch"):
            return EMPTY_PAYLOAD
        return {"child_execution_id": child.execution_id, "child_graph": child.graph.name}

    # -- shared pieces ------------------------------------------------------------
    def run_child(self, node: Node, cls: Any, inputs: dict[str, Any], resolver: Resolver, *, key: str | None = None) -> NodeState:
        """Run (or continue) the child contract for ``node`` and translate its status into a node state."""
        slot = node.name if key is None else f"{node.name}[{key}]"
        child = self.instances.get(slot)
        if child is not None and type(child) is cls:
            child.update_inputs(**inputs)
        else:
            child = cls(inputs, store=None)
            self.instances[slot] = child
        child.resolve_all()
        return self.child_state(node, child, resolver)

    def child_state(self, node: Node, child: Any, resolver: Resolver) -> NodeState:
        status = child.status
        if status is SUCCEEDED:
            return resolver.succeeded(node, child.result)
        if status is FAILED:
            return resolver.failed(node, child.first_error())
        deferred: DeferredResult = child.first_deferred()
        return resolver.blocked(node, deferred, WAITING if status is WAITING else PENDING, (node.name,))

    def read_child_output(self, result: Any, out: OutputNode, reader: Node) -> NodeState | None:
        """``None`` when the child output can be read, else the state ``reader`` gets (failed or blocked)."""
        child = result.contract
        state = child.execution.output_state(out.child_output)
        resolver = self.execution.resolver
        if state.status is SUCCEEDED:
            return None
        if state.status is FAILED:
            return resolver.failed(reader, state.error)  # type: ignore[arg-type]
        return resolver.blocked(reader, state.value, state.status, (out.source_root,))

    def child_for(self, node_name: str) -> Any:
        return self.instances.get(node_name)


def _composition(runs: ChildRuns, node: CompositionNode, resolver: Resolver) -> NodeState:
    values, blocked = resolver.dependency_values(node)
    if blocked is not None:
        return blocked
    assert values is not None
    inputs = {child_input: values[parent] for child_input, parent in node.inputs.items()}
    try:
        return runs.run_child(node, node.contract, inputs, resolver)
    except IgniterError as exc:
        return resolver.failed(node, exc)


_HANDLERS: dict[str, Any] = {"composition": _composition}


def register_handler(kind: str, handler: Any) -> None:
    """Add the runtime of a node kind (used by branch/collection/remote modules)."""
    _HANDLERS[kind] = handler
