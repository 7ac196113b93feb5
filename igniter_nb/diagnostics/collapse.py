"""Big graphs drawn small: above the threshold, groups of nodes become one node each.

First by top-level scope (a scope is a unit the author chose). When that still leaves more than the threshold
visible — a graph without scopes, or with very many — nodes are grouped by *layer block* instead: the graph's
longest-path layers cut into at most ``MAX_BLOCKS`` runs of consecutive layers of similar size, so a long chain
becomes a short chain of blocks and a wide fan becomes one block per layer. Inputs and outputs stay visible
when there are few of them (they are what a reader looks for). Each group says how many nodes it holds,
the first and last of them, and how many are in each state.

Only visible nodes get a full label, and one pass over the dependency plan maps edges to groups, so a
100,000-node graph collapses in well under a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from igniter_nb.diagnostics.view import (
    KIND_STYLES,
    STATE_FILLS,
    STATUS_RANK,
    InstanceFacts,
    ViewEdge,
    ViewNode,
    clean,
    node_id,
    safe_id,
    scope_of,
    view_node,
    wait_edges,
    worst,
)
from igniter_nb.model import InputNode, Node

if TYPE_CHECKING:
    from igniter_nb.compiler.graph import CompiledGraph

MAX_BLOCKS = 40
KEEP_ENDS = 12  # inputs / outputs shown one by one when there are at most this many


def needs_collapse(graph: CompiledGraph, threshold: int) -> bool:
    return len(graph.nodes) + len(graph.outputs) > threshold


def layers(graph: CompiledGraph) -> dict[str, int]:
    """Longest-path layer of every runtime node (dependencies first, in resolution order); outputs excluded."""
    layer: dict[str, int] = {}
    plan = graph.dep_plan
    for name in graph.resolution_order:
        deps = plan[name]
        layer[name] = 1 + max((layer.get(root, 0) for _, root, _ in deps), default=-1)
    for node in graph.nodes:  # nodes outside the resolution order (none today) still get a layer
        layer.setdefault(node.name, 0)
    return layer


def collapse(graph: CompiledGraph, facts: InstanceFacts | None, keep: set[str],
             threshold: int) -> tuple[list[ViewNode], list[ViewEdge], tuple[str, ...]]:
    """Visible nodes, edges between them (merged, without labels except wait edges) and the group names."""
    owner, groups = _by_scope(graph, keep)
    total = len(graph.nodes) + len(graph.outputs)
    if total - len(owner) + len(groups) > threshold:  # scopes are not enough: try layer blocks
        by_block = _by_layer_block(graph)
        if total - len(by_block[0]) + len(by_block[1]) < total - len(owner) + len(groups):
            owner, groups = by_block
    nodes = [view_node(graph, n, facts) for n in (*graph.nodes, *graph.outputs) if node_id(n) not in owner]
    for gid, (name, members, scope) in groups.items():
        nodes.append(_group_node(gid, name, members, scope, facts))
    edges = _merged_edges(graph, facts, owner)
    return nodes, edges, tuple(name for name, _, _ in groups.values())


Groups = dict[str, tuple[str, list[Node], tuple[str, ...]]]  # id → (name, members, scope drawn in)


def _by_scope(graph: CompiledGraph, keep: set[str]) -> tuple[dict[str, str], Groups]:
    owner: dict[str, str] = {}
    members: dict[str, list[Node]] = {}
    for node in (*graph.nodes, *graph.outputs):
        scope = scope_of(node)
        if scope and scope[0] not in keep:
            owner[node_id(node)] = f"s_{safe_id(scope[0])}"
            members.setdefault(scope[0], []).append(node)
    return owner, {f"s_{safe_id(s)}": (s, members[s], ()) for s in sorted(members)}


def _by_layer_block(graph: CompiledGraph) -> tuple[dict[str, str], Groups]:
    layer = layers(graph)
    inputs = [n for n in graph.nodes if isinstance(n, InputNode)]
    show_inputs = len(inputs) <= KEEP_ENDS
    show_outputs = len(graph.outputs) <= KEEP_ENDS
    grouped: list[tuple[int, Node]] = [(layer[n.name], n) for n in graph.nodes
                                       if not (show_inputs and isinstance(n, InputNode))]
    if not show_outputs:
        grouped.extend((layer.get(o.source_root, 0) + 1, o) for o in graph.outputs)
    per_layer: dict[int, int] = {}
    for lv, _ in grouped:
        per_layer[lv] = per_layer.get(lv, 0) + 1
    # cut the layers into runs of about total / MAX_BLOCKS nodes (a layer is never split)
    target = max(1, -(-len(grouped) // MAX_BLOCKS))
    block_of: dict[int, int] = {}
    spans: list[list[int]] = []
    filled = target
    for lv in sorted(per_layer):
        if filled >= target:
            spans.append([lv, lv])
            filled = 0
        spans[-1][1] = lv
        block_of[lv] = len(spans) - 1
        filled += per_layer[lv]
    names = [f"layer {a}" if a == b else f"layers {a}–{b}" for a, b in spans]
    owner: dict[str, str] = {}
    members: dict[int, list[Node]] = {}
    for lv, node in grouped:
        block = block_of[lv]
        owner[node_id(node)] = f"g_{block:03d}"
        members.setdefault(block, []).append(node)
    return owner, {f"g_{b:03d}": (names[b], members[b], ()) for b in sorted(members)}


def _group_node(gid: str, name: str, members: list[Node], scope: tuple[str, ...],
                facts: InstanceFacts | None) -> ViewNode:
    shape, fill, border = KIND_STYLES["scope"]
    first, last = members[0].name, members[-1].name
    span = clean(first, 20) if len(members) == 1 else f"{clean(first, 20)} … {clean(last, 20)}"
    label = [clean(name, 40), f"{len(members):,} nodes: {span}"]
    status = None
    if facts is not None:
        counts: dict[str, int] = {}
        for m in members:
            st = facts.states.get(m.source_root if hasattr(m, "source_root") else m.name)
            s = st.status if st is not None else ("supplied" if isinstance(m, InputNode) and m.name in facts.supplied
                                                  else "unresolved")
            counts[s] = counts.get(s, 0) + 1
        status = worst(counts)
        label.append(", ".join(f"{counts[s]:,} {s}" for s in STATUS_RANK if s in counts))
        fill = STATE_FILLS.get(status or "unresolved", fill)
    return ViewNode(gid, name, "scope", tuple(label), shape, fill, border, "filled", scope, status, 1,
                    clean(f"{len(members)} nodes collapsed: {name}", 200))


def _merged_edges(graph: CompiledGraph, facts: InstanceFacts | None, owner: dict[str, str]) -> list[ViewEdge]:
    merged: dict[tuple[str, str], ViewEdge] = {}

    def add(tail: str, head: str, label: str, style: str = "solid", wait: bool = False) -> None:
        t, h = owner.get(tail, tail), owner.get(head, head)
        if t == h or (t, h) in merged:
            return
        collapsed_edge = t != tail or h != head
        merged[(t, h)] = ViewEdge(t, h, "" if collapsed_edge and not wait else label, style, wait)

    for node in graph.nodes:
        head = f"n_{safe_id(node.name)}"
        for _, root, out in graph.dep_plan[node.name]:
            add(f"n_{safe_id(root)}", head, clean(f".{out.child_output}", 24) if out is not None and out.child_output else "")
    for out in graph.outputs:
        add(f"n_{safe_id(out.source_root)}", f"o_{safe_id(out.name)}", clean(f".{out.child_output}", 24) if out.child_output else "",
            "dashed")
    if facts is not None:
        for e in wait_edges(graph, facts.states).values():
            add(e.tail, e.head, e.label, e.style, True)
    return list(merged.values())


__all__ = ["MAX_BLOCKS", "collapse", "layers", "needs_collapse"]
