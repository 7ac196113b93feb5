"""A value the codec cannot store fails its node, instead of failing every save (PRODUCT §8).

Saving an execution encodes every node value. When one cannot be encoded (an open file, a lock, an object of a
class the codec does not know), refusing the save would leave a stored workflow ``waiting`` for ever, failing
alike on every retry. Instead the node that holds the value fails with a ``SnapshotEncodingError`` naming it and
the value's type, the value is dropped from what is saved, its dependents resolve again (and fail with it), and
the save goes on: the failure is stored and visible like any other.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from igniter_nb.errors import SnapshotEncodingError

if TYPE_CHECKING:
    from igniter_nb.runtime.execution import Execution

# Where snapshot_execution encodes values held for a node: the node's name is the first key after the prefix.
_NODE_PATH = re.compile(r"^(?:inputs|bound_events|children\.given|children\.selections)\.([^.\[<]+)")


def node_of(error: SnapshotEncodingError) -> str | None:
    """The node whose value ``error`` is about, if it is about one."""
    owner = error.context.get("owner_node")  # a child's or collection item's value: the parent node holding it
    if isinstance(owner, str):
        return owner
    path = error.full_path or error.context.get("path")  # (the whole path: a long one is cut in ``path``)
    if isinstance(path, str):
        found = _NODE_PATH.match(path)
        if found:
            return found.group(1)
    node = error.context.get("node")
    return node if isinstance(node, str) else None


def fail_unstorable(execution: Execution, error: SnapshotEncodingError) -> bool:
    """Fail the node holding the value ``error`` is about and drop that value; False when ``error`` names no
    node of this execution (nothing changed). The caller resolves again, so dependents fail with the node."""
    name = node_of(error)
    graph = execution.graph
    if name is None or not graph.has_node(name):
        return False
    node = graph.node(name)
    kind = error.context.get("value_type", "a value")
    failure = SnapshotEncodingError(
        f"node '{name}' holds a value of type {kind} that cannot be stored: {error.message}",
        graph=graph.name, node=name, path=node.path, execution_id=execution.execution_id,
        source_location=node.source_location, value_type=error.context.get("value_type"),
        value_path=error.context.get("path"),
    )
    failure.full_path = error.full_path
    execution.inputs.pop(name, None)
    execution.bound_events.pop(name, None)
    children = execution.children
    for held in (children.instances, getattr(children, "given", {}), getattr(children, "selections", {}),
                 getattr(children, "collections", {})):
        held.pop(name, None)
    execution.resolver.write(node, execution.resolver.failed(node, failure))
    from igniter_nb.runtime.invalidation import invalidate_dependents

    invalidate_dependents(execution, (name,), name)
    return True
