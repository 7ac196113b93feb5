"""Selective invalidation: after an input changes, mark exactly the nodes downstream of it stale."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

from igniter_nb.events.event import Event
from igniter_nb.runtime.states import NodeState
from igniter_nb.runtime.status import STALE

_new = tuple.__new__

if TYPE_CHECKING:
    from igniter_nb.runtime.execution import Execution


def invalidate_dependents(execution: Execution, sources: Iterable[str], cause: str) -> list[str]:
    """Breadth-first over the dependents of ``sources``; every cached node met becomes ``stale``.

    Emits ``node_invalidated`` per node (and per output reading it). Returns the invalidated node names.
    Nodes never resolved are walked through but not recorded. Cost follows the affected nodes only.
    """
    graph = execution.graph
    sources = tuple(sources)
    if len(sources) == 1:
        return _invalidate_walk(execution, graph.invalidation_walk(sources[0]), cause)
    dependents = graph.dependents
    states = execution.states
    nodes_by_name = graph.nodes_by_name
    bus = execution.bus
    events = bus.log
    seq = bus.seq
    exec_id = bus.execution_id
    output_roots = graph.output_roots
    queue: deque[str] = deque()
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
            states[name] = _new(NodeState, (name, STALE, st.value, st.error, st.version + 1, now, cause, st.waiting_for))
            invalidated.append(name)
            path = nodes_by_name[name].path
            if bus.subscribers or bus.lock is not None:
                bus.emit("node_invalidated", name, path, "stale", payload)
                for out in output_roots.get(name, ()):
                    bus.emit("node_invalidated", out.name, out.path, "stale", payload)
            else:
                events.append(_new(Event, (next(seq), "node_invalidated", exec_id, name, path, "stale", payload, now)))
                for out in output_roots.get(name, ()):
                    events.append(_new(Event, (next(seq), "node_invalidated", exec_id, out.name, out.path, "stale",
                                               payload, now)))
        deps = dependents.get(name)
        if deps:
            queue.extend(deps)
    return invalidated


def _invalidate_walk(execution: Execution, walk: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...],
                     cause: str) -> list[str]:
    """The same as the breadth-first walk above, over the graph's precomputed order for one source."""
    states = execution.states
    bus = execution.bus
    events = bus.log
    seq = bus.seq
    exec_id = bus.execution_id
    plain = not bus.subscribers and bus.lock is None
    invalidated: list[str] = []
    now = time.time()
    payload = {"cause": cause}
    for name, path, outputs in walk:
        st = states.get(name)
        if st is None or st.status is STALE:
            continue
        states[name] = _new(NodeState, (name, STALE, st.value, st.error, st.version + 1, now, cause, st.waiting_for))
        invalidated.append(name)
        if plain:
            events.append(_new(Event, (next(seq), "node_invalidated", exec_id, name, path, "stale", payload, now)))
            for out_name, out_path in outputs:
                events.append(_new(Event, (next(seq), "node_invalidated", exec_id, out_name, out_path, "stale",
                                           payload, now)))
        else:
            bus.emit("node_invalidated", name, path, "stale", payload)
            for out_name, out_path in outputs:
                bus.emit("node_invalidated", out_name, out_path, "stale", payload)
    return invalidated
