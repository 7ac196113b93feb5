"""Sibling scope bands stacked one after the other along the layers, rather than side by side (``stack_edges``).

Top to bottom, bands that share layers stand side by side, and a graph with three scopes was drawn 1,330 px wide
though no layer of it holds more than four nodes: the bands' rectangles, not the nodes, made it wide. A band can
go wholly below a sibling when no node of the lower one leads (by any path) to a node of the upper one; then its
layers are made to start after the sibling's last, with constraint edges given to the layering only (they are
not drawn). Pairs that lead to each other both ways stay side by side; a drawing still too wide is tried with
each band's nodes as late as they may go (``later_bands``). Part of the pure-Python layout
(``igniter_nb.notebook.layout``).
"""

from __future__ import annotations

from igniter_nb.diagnostics.view import GraphView, ViewEdge

#: stacking is tried on graphs with at most this many nodes (each pair of bands costs a walk of the graph)
STACK_MAX_NODES = 300


def stack_edges(view: GraphView, forward: list[ViewEdge]) -> list[ViewEdge]:
    """Constraint edges putting sibling bands after one another (each sibling pair in the order of the graph's
    paths, else of declaration), only where they keep the graph free of cycles. Empty for a graph too big."""
    ids = [n.id for n in view.nodes]
    if len(ids) > STACK_MAX_NODES or not view.clusters:
        return []
    scope_of = {n.id: n.scope for n in view.nodes}
    within: dict[tuple[str, ...], list[str]] = {}
    for i in ids:
        s = scope_of[i]
        for k in range(1, len(s) + 1):
            within.setdefault(s[:k], []).append(i)
    succs: dict[str, set[str]] = {i: set() for i in ids}
    for e in forward:
        succs[e.tail].add(e.head)
    first = {i: k for k, i in enumerate(ids)}
    extra: list[ViewEdge] = []

    def reaches(sources: list[str], targets: set[str]) -> bool:
        seen, todo = set(sources), list(sources)
        while todo:
            for s in succs[todo.pop()]:
                if s in targets:
                    return True
                if s not in seen:
                    seen.add(s)
                    todo.append(s)
        return False

    siblings: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for scope in sorted(view.clusters, key=len):
        if scope in within:
            siblings.setdefault(scope[:-1], []).append(scope)
    for kids in siblings.values():
        kids.sort(key=lambda s: min(first[i] for i in within[s]))
        for a_k, a in enumerate(kids):
            for b in kids[a_k + 1:]:
                upper, lower = a, b
                if reaches(within[b], set(within[a])):  # b leads to a: b goes first, if a does not lead to b
                    upper, lower = b, a
                if reaches(within[lower], set(within[upper])):
                    continue  # each leads to the other (constraints included): side by side
                for t in within[upper]:
                    for h in within[lower]:
                        succs[t].add(h)
                        extra.append(ViewEdge(t, h))
    return extra




def later_bands(view: GraphView, edges: list[ViewEdge], layer: dict[str, int]) -> dict[str, int]:
    """``layer`` with each node inside a band moved as late as its successors along ``edges`` allow (the last
    nodes first): a band's first nodes come down next to the rest, so it spans fewer layers, and fewer bands
    share a layer (``random_graph(14, 15)`` 1,007 → 922 px top to bottom)."""
    succs: dict[str, list[str]] = {n.id: [] for n in view.nodes}
    for e in edges:
        succs[e.tail].append(e.head)
    new = dict(layer)
    for node in sorted(view.nodes, key=lambda n: -layer[n.id]):
        after = succs[node.id]
        if node.scope and after:
            new[node.id] = max(new[node.id], min(new[s] for s in after) - 1)
    return new


__all__ = ["STACK_MAX_NODES", "later_bands", "stack_edges"]
