"""Nodes that run child contracts: composition, branch and collection share the pieces here.

A child that is pending or waiting makes the parent node pending/waiting (L-08); the child instance is
kept, so resuming it (through the parent) continues where it stopped. Branch and collection handlers live
in ``branch.py`` and ``collection.py``; other node kinds (remote, ...) add theirs with ``register_handler``.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from contextvars import ContextVar
from importlib import import_module
from typing import TYPE_CHECKING, Any

from igniter_nb.compiler.signatures import analyse
from igniter_nb.errors import IgniterError, ResolutionError
from igniter_nb.events.bus import EMPTY_PAYLOAD
from igniter_nb.model import CompositionNode, Node, OutputNode
from igniter_nb.runtime.branch import resolve_branch
from igniter_nb.runtime.collection import CollectionRun, resolve_collection
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.depth import descend
from igniter_nb.runtime.inputs import same_inputs
from igniter_nb.runtime.resolver import wrap_error
from igniter_nb.runtime.states import NodeState, states_now
from igniter_nb.runtime.status import BLOCKED, FAILED, PENDING, SUCCEEDED, WAITING

if TYPE_CHECKING:
    from igniter_nb.runtime.execution import Execution
    from igniter_nb.runtime.resolver import Resolver


class ChildRuns:
    """The child contract instances of one execution: by node name (composition, branch) and, for
    collections, one ``CollectionRun`` per node holding the item children by key."""

    def __init__(self, execution: Execution) -> None:
        self._execution = weakref.ref(execution)  # the execution owns these runs: no reference cycle
        self.instances: dict[str, Any] = {}
        self.given: dict[str, dict[str, Any]] = {}
        self.collections: dict[str, CollectionRun] = {}
        self.selections: dict[str, dict[str, Any]] = {}

    # -- dispatch -----------------------------------------------------------------

    @property
    def execution(self) -> Execution:
        """The execution these child runs belong to (it owns them, so it is alive while they are used)."""
        return self._execution()  # type: ignore[return-value]

    def resolve(self, node: Node, resolver: Resolver) -> NodeState:
        handler = _HANDLERS.get(node.kind) or _plug_in(node)
        if _outermost.get() is not None:
            state: NodeState = handler(self, node, resolver)
            return state
        token = _outermost.set(self.execution)  # children resolved below know the execution they belong to
        try:
            state = handler(self, node, resolver)
        finally:
            _outermost.reset(token)
        return state

    def success_payload(self, node: Node, state: NodeState) -> Any:
        if node.kind == "collection":
            summary = getattr(state.value, "summary", None)
            return {"summary": summary} if summary is not None else EMPTY_PAYLOAD
        child = self.instances.get(node.name)
        if child is None or node.kind not in ("composition", "branch"):
            return EMPTY_PAYLOAD
        return {"child_execution_id": child.execution_id, "child_graph": child.graph.name}

    # -- shared pieces ------------------------------------------------------------
    def run_child(self, node: Node, cls: Any, inputs: dict[str, Any], resolver: Resolver) -> NodeState:
        """Run (or continue) the child contract for ``node`` and translate its status into a node state.

        As for collection items, a child is one execution of one contract with one set of inputs: the kept
        child continues (pending → resumed, failed → its failed nodes retried) only when the class and the
        inputs are unchanged; otherwise a new child execution (new id) replaces it, and a ``child_replaced``
        event on this execution records both ids.
        """
        slot = node.name
        child = self.instances.get(slot)
        previous = self.given.get(slot)
        if child is not None and type(child) is cls and previous is not None and same_inputs(previous, inputs):
            if child.execution.status_of() is FAILED:
                child.execution.retry()
        else:
            old = child
            child = cls._create(inputs)
            self.instances[slot] = child
            if old is not None:
                ex = self.execution
                ex.bus.emit("child_replaced", node.name, node.path, None, {
                    "previous_child_execution_id": old.execution_id, "previous_child_graph": old.graph.name,
                    "child_execution_id": child.execution_id, "child_graph": child.graph.name,
                    "reason": "inputs changed" if type(old) is cls else "contract changed"})
        self.given[slot] = dict(inputs)
        descend(child.resolve_all)
        return self.child_state(node, child, resolver)

    def child_state(self, node: Node, child: Any, resolver: Resolver) -> NodeState:
        status = child.execution.status_of()
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
            return resolver.failed(reader, state.error)
        return resolver.blocked(reader, state.value, state.status, (out.source_root,))

    def child_for(self, node_name: str) -> Any:
        """The child run behind ``node_name``: a contract instance, or a ``CollectionRun`` for collections.

        Both answer ``resume_by_token(token, value=...)``.
        """
        found = self.instances.get(node_name)
        return found if found is not None else self.collections.get(node_name)

    def node_for_token(self, token: str) -> str | None:
        """The node whose child run (at any depth) holds a pending/waiting node deferred with ``token``."""
        for name, child in self.instances.items():
            if holds_token(child, token):
                return name
        for name, run in self.collections.items():
            if run.holds_token(token):
                return name
        return None

    def selection(self, node_name: str) -> dict[str, Any] | None:
        """The last ``branch_selected`` payload of branch ``node_name`` (what ``states`` and explain show)."""
        return self.selections.get(node_name)


# The outermost execution whose child nodes (composition, branch, collection, remote) are resolving on this thread:
# a remote node inside a composed child or a collection item asks to be called back at the execution stored under
# its own id — that one (server/remote.py).
_outermost: ContextVar[Execution | None] = ContextVar("igniter_outermost_execution", default=None)


def outermost_execution() -> Execution | None:
    """The outermost execution resolving a child node on this thread (None outside any child node)."""
    return _outermost.get()


def holds_token(child: Any, token: str) -> bool:
    """Whether contract ``child`` (or one of its children, at any depth) is blocked on ``token``."""
    stack = [child]
    while stack:  # a loop over the child tree, not recursion: children may nest any number of levels
        ex = stack.pop().execution
        for st in states_now(ex.states):  # (a copy: a threads run may record nodes meanwhile)
            if st.status in BLOCKED and isinstance(st.value, DeferredResult) and st.value.token == token:
                return True
        runs = ex.children
        stack.extend(runs.instances.values())
        for run in runs.collections.values():
            for item in run.blocked_items():
                if item.deferred is not None and item.deferred.token == token:
                    return True
                stack.append(item.contract)
    return False


def call_mapper(execution: Execution, node: Node, mapper: Any, values: dict[str, Any]) -> Mapping[str, Any]:
    """Call ``map_inputs`` (a callable, or a method name of the contract) with the keywords it declares."""
    fn = mapper
    if isinstance(mapper, str):
        fn = getattr(execution.contract, mapper, None)
        if fn is None or not callable(fn):
            raise ResolutionError(
                f"{node.kind} '{node.name}': map_inputs names '{mapper}', but {type(execution.contract).__name__} "
                "has no such method",
                graph=execution.graph.name, node=node.name, path=node.path, execution_id=execution.execution_id,
                source_location=node.source_location,
            )
    sig = analyse(fn)
    if sig is not None and not sig.accepts_any:
        values = {k: v for k, v in values.items() if k in sig.accepted}
    try:
        mapped = fn(**values)
    except Exception as exc:
        raise wrap_error(exc, execution, node)  # noqa: B904 (wrap_error keeps the user's exception as __cause__)
    if not isinstance(mapped, Mapping):
        raise ResolutionError(
            f"{node.kind} '{node.name}': map_inputs must return a dict of child inputs, got {type(mapped).__name__}",
            graph=execution.graph.name, node=node.name, path=node.path, execution_id=execution.execution_id,
            source_location=node.source_location,
        )
    return mapped


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


_HANDLERS: dict[str, Any] = {
    "composition": _composition,
    "branch": resolve_branch,
    "collection": resolve_collection,
}


# Node kinds whose runtime lives in a higher layer, imported by name the first time such a node resolves (the
# one accepted way up the layers); importing the module registers its handler. The extra names what to install.
_PLUG_INS: dict[str, tuple[str, str]] = {"remote": ("igniter_nb.server.remote", "server")}


def register_handler(kind: str, handler: Any) -> None:
    """Add the runtime of a node kind (used by the remote-node module)."""
    _HANDLERS[kind] = handler


def _plug_in(node: Node) -> Any:
    """The handler of ``node.kind`` from its plug-in module; a clear error when the module or its extra is missing."""
    plug_in = _PLUG_INS.get(node.kind)
    if plug_in is None:
        raise ResolutionError(f"node kind '{node.kind}' is not supported by this runtime", node=node.name)
    module, extra = plug_in
    try:
        import_module(module)
    except ImportError as exc:
        raise ResolutionError(
            f"{node.kind} node '{node.name}' needs the igniter_nb[{extra}] extra: pip install 'igniter_nb[{extra}]' "
            f"(importing {module} failed: {exc})", node=node.name, missing_extra=extra) from exc
    handler = _HANDLERS.get(node.kind)
    if handler is None:
        raise ResolutionError(f"{module} did not register a runtime for {node.kind} nodes", node=node.name)
    return handler
