"""Selective invalidation: after an input changes, mark exactly the nodes downstream of it stale."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

from igniter_nb.events.bus import SCALAR_TYPES, Unnumbered
from igniter_nb.runtime.states import NodeState
from igniter_nb.runtime.status import STALE

_new = tuple.__new__

if TYPE_CHECKING:
    from igniter_nb.runtime.execution import Execution


def invalidate_dependents(execution: Execution, sources: Iterable[str], cause: str) -> list[str]:
    """Breadth-first over the dependents of ``sources``; every cached node met becomes ``stale``.

    Emits ``node_invalidated`` per node (and per output reading it). Returns the invalidated node names.
    Nodes never resolved are walked through but not recorded. Cost follows the affected nodes only: with no
    subscriber, the events are recorded compactly (see ``EventBus.record_into``) and built when the log is read,
    so an update does not build the events of the runs before it — unless a recorded state holds a value
    outside ``SCALAR_TYPES`` (``bus.pinned``): then it builds them first, so that the values a node held before
    recomputing are not kept alive by records of the log (a data frame per update).
    """
    graph = execution.graph
    sources = tuple(sources)
    if len(sources) == 1:
        return _invalidate_walk(execution, graph.invalidation_walk(sources[0]), cause)
    dependents = graph.dependents
    states = execution.states
    stored = states.stored  # (raw: a compact entry is turned into its stale state below, not read as a NodeState)
    nodes_by_name = graph.nodes_by_name
    bus = execution.bus
    if bus.pinned:
        bus.log  # noqa: B018  (builds the recorded events: they would keep superseded values alive)
    record = bus.recorded.append
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
        st = stored(name)
        if st is not None and (type(st) is tuple or st.status is not STALE):
            if type(st) is tuple:  # held compactly (runtime/states.py): succeeded, its value a scalar
                states[name] = stale = _new(NodeState, (name, STALE, st[1], None, st[2] + 1, now, cause, ()))
                scalar = True
            else:
                states[name] = stale = _new(NodeState, (name, STALE, st.value, st.error, st.version + 1, now,
                                                        cause, st.waiting_for))
                scalar = type(st.value) in SCALAR_TYPES
            invalidated.append(name)
            if bus.subscribers or bus.lock is not None or cause is None:
                bus.emit("node_invalidated", name, nodes_by_name[name].path, "stale", payload)
                for out in output_roots.get(name, ()):
                    bus.emit("node_invalidated", out.name, out.path, "stale", payload)
            else:  # built when the log is read
                if scalar:
                    record(stale)  # the state is the record
                else:
                    record(_new(Unnumbered, ("node_invalidated", name, nodes_by_name[name].path, "stale", payload,
                                             now)))
                for out in output_roots.get(name, ()):
                    record(_new(Unnumbered, ("node_invalidated", out.name, out.path, "stale", payload, now)))
        deps = dependents.get(name)
        if deps:
            queue.extend(deps)
    return invalidated


def _invalidate_walk(execution: Execution, walk: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...],
                     cause: str) -> list[str]:
    """The same as the breadth-first walk above, over the graph's precomputed order for one source."""
    states = execution.states
    stored = states.stored
    bus = execution.bus
    if bus.pinned:
        bus.log  # noqa: B018  (builds the recorded events: they would keep superseded values alive)
    record = bus.recorded.append
    plain = not bus.subscribers and bus.lock is None and cause is not None  # (a stale record names its cause)
    invalidated: list[str] = []
    now = time.time()
    payload = {"cause": cause}
    for name, path, outputs in walk:
        st = stored(name)
        if st is None:
            continue
        if type(st) is tuple:  # held compactly (runtime/states.py): succeeded, its value a scalar
            states[name] = stale = _new(NodeState, (name, STALE, st[1], None, st[2] + 1, now, cause, ()))
            scalar = True
        elif st.status is STALE:
            continue
        else:
            states[name] = stale = _new(NodeState, (name, STALE, st.value, st.error, st.version + 1, now, cause,
                                                    st.waiting_for))
            scalar = type(st.value) in SCALAR_TYPES
        invalidated.append(name)
        if plain:  # built when the log is read
            if scalar:
                record(stale)  # the state is the record
            else:
                record(_new(Unnumbered, ("node_invalidated", name, path, "stale", payload, now)))
            for out_name, out_path in outputs:
                record(_new(Unnumbered, ("node_invalidated", out_name, out_path, "stale", payload, now)))
        else:
            bus.emit("node_invalidated", name, path, "stale", payload)
            for out_name, out_path in outputs:
                bus.emit("node_invalidated", out_name, out_path, "stale", payload)
    return invalidated
