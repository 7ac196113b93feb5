"""The order nodes resolve in (dependencies first) and the dependents index, found at compile time; a dependency
cycle is a ``CycleError`` naming it. Split from ``validators.py`` (which re-exports ``resolution_order``)."""

from __future__ import annotations

from igniter_nb.errors import CycleError
from igniter_nb.model import GraphModel


def resolution_order(graph: GraphModel) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """DFS post-order (dependencies first) and the dependents index; ``CycleError`` on any cycle (self-loops too).

    Linear in nodes + dependencies: each node's dependencies (outputs read through to the node they expose) are
    listed once, and the walk keeps a position in that list rather than rebuilding it at every step.
    """
    roots = {o.name: o.source_root for o in graph.outputs if o.source_root != o.name}
    deps_of: dict[str, tuple[str, ...]] = {}
    declared_first = True  # whether every node's dependencies are declared before it (the usual case)
    for n in graph.nodes:
        deps = n.dependencies
        if roots:
            deps = tuple([roots.get(d, d) for d in deps])
        if declared_first:
            for d in deps:
                if d not in deps_of:
                    declared_first = False
                    break
        deps_of[n.name] = deps
    if declared_first:
        # Then the walk below would visit every dependency before its reader and meet no cycle (a cycle needs
        # an edge to a node declared later): the order is the declaration order.
        order: list[str] = list(deps_of)
    else:
        order = _walk_order(graph, deps_of)
    dependents: dict[str, list[str]] = {}
    for n in graph.nodes:
        ds = deps_of[n.name]
        for d in dict.fromkeys(ds) if len(ds) > 1 else ds:
            found = dependents.get(d)
            if found is None:
                dependents[d] = [n.name]
            else:
                found.append(n.name)
    return tuple(order), {k: tuple(v) for k, v in dependents.items()}


def _walk_order(graph: GraphModel, deps_of: dict[str, tuple[str, ...]]) -> list[str]:
    """Depth-first post-order from each node in declaration order; ``CycleError`` on a cycle."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the walk's path, 2 = done
    for start in graph.nodes:
        if start.name in state:
            continue
        state[start.name] = 1
        path = [start.name]  # the nodes being walked, innermost last (a cycle is a slice of it)
        positions = [0]  # how many of each walked node's dependencies were visited
        while path:
            name = path[-1]
            ds = deps_of[name]
            i = positions[-1]
            while i < len(ds):
                d = ds[i]
                i += 1
                st = state.get(d)
                if st is None:
                    break
                if st == 1:
                    _raise_cycle(graph, path, d)
            else:
                path.pop()
                positions.pop()
                state[name] = 2
                order.append(name)
                continue
            positions[-1] = i
            state[d] = 1
            path.append(d)
            positions.append(0)
    return order


def _raise_cycle(graph: GraphModel, path: list[str], d: str) -> None:
    cycle = [*path[path.index(d):], d]
    n = next(x for x in graph.nodes if x.name == d)
    raise CycleError(
        f"Dependency cycle: {' -> '.join(cycle)}",
        cycle=cycle,
        graph=graph.name,
        node=n.name,
        path=n.path,
        source_location=n.source_location,
    )


__all__ = ["resolution_order"]
