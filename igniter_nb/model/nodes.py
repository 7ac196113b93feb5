"""Node records: the shape of every node a contract declares, and nothing more.

Nodes are frozen, slotted dataclasses. Behaviour (resolving, validating, rendering) lives in the layers
that use them. ``dependencies`` are node *names*; paths only locate a node for people.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from itertools import repeat
from operator import call as _call
from typing import Any, Final


class _Missing:
    """Marker for "no value given" (``None`` is a real value)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

# Node kinds. Strings keep them readable in dicts, events and schemas.
INPUT: Final = "input"
COMPUTE: Final = "compute"
COMPOSITION: Final = "composition"
BRANCH: Final = "branch"
COLLECTION: Final = "collection"
AWAIT: Final = "await"
REMOTE: Final = "remote"
OUTPUT: Final = "output"

RUNTIME_KINDS: Final = (INPUT, COMPUTE, COMPOSITION, BRANCH, COLLECTION, AWAIT, REMOTE)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Node:
    """What every node has. Compared by identity: two declarations are two nodes."""

    id: str
    kind: str
    name: str
    path: str
    dependencies: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    source_location: str | None = None

    @property
    def label(self) -> str:
        return str(self.metadata.get("label") or self.name)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class InputNode(Node):
    """A value supplied from outside. ``type_spec`` is whatever the user gave (name, type, hint, model)."""

    type_spec: Any = None
    type_name: str | None = None
    required: bool = True
    default: Any = MISSING

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ComputeNode(Node):
    """A value computed by a callable from its dependencies.

    ``callable_kind`` is ``function`` (called with the dependencies as keywords), ``executor`` (an
    ``ig.Executor`` subclass, instantiated per call), ``method`` (a method name on the contract) or
    ``object`` (any other object with ``__call__``). ``role`` is ``compute``, ``const`` or ``guard``.
    """

    callable: Any = None
    callable_kind: str = "function"
    callable_name: str = "function"
    role: str = "compute"
    category: str | None = None
    executor_key: str | None = None
    accepts_any: bool = False  # the callable takes **kwargs
    # What the callable accepts (a ``compiler.signatures.CallableSignature``), read once by the builder and
    # used by the compiler's checks; ``None`` when Python cannot tell or the node was built another way.
    signature: Any = None
    guard_message: str | None = None
    type_spec: Any = None


_COMPUTE_SLOTS = tuple(getattr(ComputeNode, f.name).__set__ for f in fields(ComputeNode))


def new_compute_node(
    id: str, kind: str, name: str, path: str, dependencies: tuple[str, ...], metadata: Mapping[str, Any],
    source_location: str | None, callable: Any, callable_kind: str, callable_name: str, role: str,
    category: str | None, executor_key: str | None, accepts_any: bool, signature: Any, guard_message: str | None,
    type_spec: Any,
) -> ComputeNode:
    """``ComputeNode(...)`` for the builder's hottest path: the same frozen node, its slots filled directly (the
    generated ``__init__`` calls ``object.__setattr__`` once per field, which costs twice as much). The
    parameters are the fields in declaration order (``tests/model/test_nodes.py`` checks)."""
    node = object.__new__(ComputeNode)
    any(map(_call, _COMPUTE_SLOTS, repeat(node), (
        id, kind, name, path, dependencies, metadata, source_location, callable, callable_kind, callable_name, role,
        category, executor_key, accepts_any, signature, guard_message, type_spec)))
    return node


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CompositionNode(Node):
    """Runs another contract with inputs taken from this graph (``inputs``: child input → parent name)."""

    contract: Any = None
    inputs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BranchCase:
    match: Any
    contract: Any
    is_predicate: bool = False


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BranchNode(Node):
    """Picks one contract by the selector's value and runs it."""

    selector: str = ""
    cases: tuple[BranchCase, ...] = ()
    default: Any = None
    inputs: Mapping[str, str] | None = None
    map_inputs: Any = None
    context: tuple[str, ...] = ()

    @property
    def possible_contracts(self) -> tuple[Any, ...]:
        seen: list[Any] = []
        for c in [*(case.contract for case in self.cases), self.default]:
            if c is not None and c not in seen:
                seen.append(c)
        return tuple(seen)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CollectionNode(Node):
    """Runs a child contract once per item of a list."""

    source: str = ""
    contract: Any = None
    key: str = "id"
    mode: str = "collect"
    map_inputs: Any = None
    context: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class AwaitNode(Node):
    """Waits for an external event, delivered by correlation."""

    event: str = ""
    schema: Any = None
    timeout: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RemoteNode(Node):
    """Calls a contract served by another igniter_nb server."""

    contract: str = ""
    url: str = ""
    inputs: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 30.0


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class OutputNode(Node):
    """Exposes a node (or a child contract's output, ``"node.child_output"``) as a result."""

    source: str = ""
    source_root: str = ""
    child_output: str | None = None

    @property
    def is_nested(self) -> bool:
        return self.child_output is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reaction:
    """A callback bound to events of an execution (``effect``, ``on_success``, ...)."""

    event_type: str
    path: str | None
    action: Callable[..., Any]
    kind: str = "react_to"
    once_per_execution: bool = False
    target: str | None = None
    source_location: str | None = None


__all__ = [
    "AWAIT",
    "BRANCH",
    "COLLECTION",
    "COMPOSITION",
    "COMPUTE",
    "INPUT",
    "MISSING",
    "OUTPUT",
    "REMOTE",
    "RUNTIME_KINDS",
    "AwaitNode",
    "BranchCase",
    "BranchNode",
    "CollectionNode",
    "ComputeNode",
    "CompositionNode",
    "InputNode",
    "Node",
    "OutputNode",
    "Reaction",
    "RemoteNode",
    "new_compute_node",
]
