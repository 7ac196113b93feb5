"""Selective invalidation: after an input changes, mark exactly the nodes downstream of it stale."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

from igniter_nb.runtime.status import STALE

if TYPE_CHECKING:
    from igniter_nb.runtime.execution import Execution


def invalidate_dependents(execution: Execution, sources: Iterable[str], cause: str) -> list[str]:
    """Breadth-first over the dependents of ``sources``; every cached node met becomes ``stale``.

    Emits ``node_invalidated`` per node (and per output reading it). Returns the invalidated node names.
    Nodes never resolved are walked through but not recorded. Cost follows the affected nodes only.
    """
    graph = execution.graph
    dependents = graph.dependents
    states = execution.states
    nodes_by_name = execution.resolver.nodes
    emit = execution.bus.emit
    output_roots = graph.output_roots
    queue = deque()
    for s in sources:
        queue.extend(dependents.get(s, ()))
    seen: set[str] = set()
    invalidated: list[str] = []
    now = time.time()
    payload = {"cause": cause}
    while queue:
        name = queue.popleft()
        if name in seen:
            continue
        seen.add(name)
        st = states.get(name)
        if st is not None and st.status is not STALE:
            states[name] = st._replace(status=STALE, version=st.version + 1, invalidated_by=cause, resolved_at=now)
            invalidated.append(name)
            node = nodes_by_name[name]
            emit("node_invalidated", name, node.path, "stale", payload)
            for out in output_roots.get(name, ()):
                emit("node_invalidated", out.name, out.path, "stale", payload)
        queue.extend(dependents.get(name, ()))
    return invalidated
