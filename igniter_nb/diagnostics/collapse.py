"""Big graphs drawn small: above the threshold, groups of nodes become one node each.

First by top-level scope (a scope is a unit the author chose). When that still leaves more than the threshold
visible — a graph without scopes, or with very many — nodes are grouped into *blocks* instead: the resolution
order (dependencies first) cut into at most ``MAX_BLOCKS`` runs of equal size, so a long chain becomes a short
chain of blocks (chain compression) and every edge between blocks still points forward. Inputs and outputs stay visible
when there are few of them (they are what a reader looks for). Each group says how many nodes it holds,
the first and last of them, and how many are in each state.

Only visible nodes get a full label, and one pass over the dependency plan maps edges to groups, so a
100,000-node graph collapses in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from igniter_nb.diagnostics.view import (
    KIND_STYLES,
    STATE_FILLS,
    STATUS_RANK,
    InstanceFacts,
    ViewEdge,
    ViewNode,
    clean,
    safe_id,
    scope_of,
    view_node,
    wait_edges,
    worst,
)
from igniter_nb.model import InputNode, Node, OutputNode

if TYPE_CHECKING:
    from igniter_nb.compiler.graph import CompiledGraph

MAX_BLOCKS = 40
KEEP_ENDS = 12  # inputs / outputs shown one by one when there are at most this many
EDGE_THRESHOLD = 2_000  # dependency edges: a denser graph is collapsed too, whatever its node count


def edge_count(graph: CompiledGraph) -> int:
    """The graph's dependency edges (one per dependency of each node, one per output)."""
    plan = graph.dep_plan
    return sum(len(plan[n.name]) for n in graph.nodes) + len(graph.outputs)


def needs_collapse(graph: CompiledGraph, threshold: int) -> bool:
    """More than ``threshold`` nodes, or more than ``EDGE_THRESHOLD`` edges: 240 inputs each read by 50 nodes
    (291 nodes, 12,001 edges) drew a 7.7 MB picture of lines no one can follow."""
    return len(graph.nodes) + len(graph.outputs) > threshold or edge_count(graph) > EDGE_THRESHOLD


def collapse(graph: CompiledGraph, facts: InstanceFacts | None, keep: set[str],
             threshold: int) -> tuple[list[ViewNode], list[ViewEdge], tuple[str, ...]]:
    """Visible nodes, edges between them (merged, without labels except wait edges) and the group names."""
    total = len(graph.nodes) + len(graph.outputs)
    grouping = _by_scope(graph, keep)
    # still too dense by scope (or no scopes): blocks, whose edges are at most one per pair of blocks
    dense = edge_count(graph) > EDGE_THRESHOLD and len(_merged_edges(graph, None, grouping)) > EDGE_THRESHOLD
    if dense or total - grouping.size + len(grouping.groups) > threshold:  # scopes are not enough: try layer blocks
        by_block = _by_layer_block(graph)
        if dense or total - by_block.size + len(by_block.groups) < total - grouping.size + len(grouping.groups):
            grouping = by_block
    nodes = [view_node(graph, n, facts) for n in graph.nodes if n.name not in grouping.nodes]
    nodes.extend(view_node(graph, o, facts) for o in graph.outputs if o.name not in grouping.outputs)
    for gid, (name, members, scope) in grouping.groups.items():
        nodes.append(_group_node(gid, name, members, scope, facts))
    edges = _merged_edges(graph, facts, grouping)
    return nodes, edges, tuple(name for name, _, _ in grouping.groups.values())


Groups = dict[str, tuple[str, list[Node], tuple[str, ...]]]  # id → (name, members, scope drawn in)


@dataclass(slots=True)
class _Grouping:
    """Which group holds each grouped runtime node and output (by name), and the groups."""

    nodes: dict[str, str]
    outputs: dict[str, str]
    groups: Groups

    @property
    def size(self) -> int:
        return len(self.nodes) + len(self.outputs)


def _by_scope(graph: CompiledGraph, keep: set[str]) -> _Grouping:
    grouping = _Grouping({}, {}, {})
    members: dict[str, list[Node]] = {}
    for node in (*graph.nodes, *graph.outputs):
        if "." not in node.path:
            continue
        scope = scope_of(node)
        if scope and scope[0] not in keep:
            target = grouping.outputs if isinstance(node, OutputNode) else grouping.nodes
            target[node.name] = f"s_{safe_id(scope[0])}"
            members.setdefault(scope[0], []).append(node)
    grouping.groups = {f"s_{safe_id(s)}": (s, members[s], ()) for s in sorted(members)}
    return grouping


def _by_layer_block(graph: CompiledGraph) -> _Grouping:
    """Runs of consecutive nodes in resolution order (dependencies first), at most ``MAX_BLOCKS`` of them:
    a chain becomes a short chain of blocks, a fan a few blocks side by side. Every edge between blocks goes
    forward, so the collapsed picture is still a DAG; no layering pass over the whole graph is needed."""
    show_inputs = sum(1 for n in graph.nodes if isinstance(n, InputNode)) <= KEEP_ENDS
    show_outputs = len(graph.outputs) <= KEEP_ENDS
    nodes = {n.name: n for n in graph.nodes}
    order: list[Node] = [nodes[name] for name in graph.resolution_order]
    if show_inputs:
        order = [n for n in order if not isinstance(n, InputNode)]
    if not show_outputs:
        order.extend(graph.outputs)
    size = max(1, -(-len(order) // MAX_BLOCKS))
    grouping = _Grouping({}, {}, {})
    # inputs in blocks of their own: cut with the rest, the last inputs shared a block with the node reading them
    # (300 inputs of one node drew "block 38: dep_296 … sink", the node itself nowhere); a block of one node is
    # that node, drawn as itself
    parts: tuple[list[Node], list[Node]] = ([n for n in order if isinstance(n, InputNode)],
                                           [n for n in order if not isinstance(n, InputNode)])
    k = 0
    for part in parts:
        for start in range(0, len(part), size):
            members = part[start:start + size]
            if len(members) == 1:
                continue
            gid = f"g_{k:03d}"
            for node in members:
                (grouping.outputs if isinstance(node, OutputNode) else grouping.nodes)[node.name] = gid
            grouping.groups[gid] = (f"block {k + 1}", members, ())
            k += 1
    return grouping


def _group_node(gid: str, name: str, members: list[Node], scope: tuple[str, ...],
                facts: InstanceFacts | None) -> ViewNode:
    shape, fill, border = KIND_STYLES["scope"]
    first, last = members[0].name, members[-1].name
    span = clean(first, 20) if len(members) == 1 else f"{clean(first, 20)} … {clean(last, 20)}"
    noun = "input" if all(isinstance(m, InputNode) for m in members) else "node"
    label = [clean(name, 40), f"{len(members):,} {noun}{'' if len(members) == 1 else 's'}: {span}"]
    status = None
    if facts is not None:
        counts: dict[str, int] = {}
        for m in members:
            st = facts.states.get(m.source_root if isinstance(m, OutputNode) else m.name)
            s = st.status if st is not None else ("supplied" if isinstance(m, InputNode) and m.name in facts.supplied
                                                  else "unresolved")
            counts[s] = counts.get(s, 0) + 1
        status = worst(counts)
        label.append(", ".join(f"{counts[s]:,} {s}" for s in STATUS_RANK if s in counts))
        fill = STATE_FILLS.get(status or "unresolved", fill)
    return ViewNode(gid, name, "scope", tuple(label), shape, fill, border, "filled", scope, status, 1,
                    clean(f"{len(members)} nodes collapsed: {name}", 200))


def _merged_edges(graph: CompiledGraph, facts: InstanceFacts | None, grouping: _Grouping) -> list[ViewEdge]:
    """One edge per pair of visible ends. Only visible nodes get an id; grouped ones are looked up by name."""
    merged: dict[tuple[str, str], ViewEdge] = {}
    owner = grouping.nodes
    ids: dict[str, str] = {}

    def visible(name: str) -> str:
        found = ids.get(name)
        if found is None:
            found = ids[name] = f"n_{safe_id(name)}"
        return found

    plan = graph.dep_plan
    for node in graph.nodes:
        head = owner.get(node.name)
        for _, root, out in plan[node.name]:
            tail = owner.get(root)
            if tail is not None and tail == head:
                continue
            key = (tail or visible(root), head or visible(node.name))
            if key not in merged:
                label = "" if tail or head or out is None or not out.child_output else clean(f".{out.child_output}", 24)
                merged[key] = ViewEdge(key[0], key[1], label)
    for out in graph.outputs:
        tail, head = owner.get(out.source_root), grouping.outputs.get(out.name)
        if tail is not None and tail == head:
            continue
        key = (tail or visible(out.source_root), head or f"o_{safe_id(out.name)}")
        if key not in merged:  # unlabelled, as in the full view: the output's label names its source
            merged[key] = ViewEdge(key[0], key[1], "", "dashed")
    if facts is not None:
        for e in wait_edges(graph, facts.states, lambda name: owner.get(name) or visible(name)).values():
            if e.tail != e.head and (e.tail, e.head) not in merged:
                merged[(e.tail, e.head)] = e
    return list(merged.values())


__all__ = ["EDGE_THRESHOLD", "MAX_BLOCKS", "collapse", "edge_count", "needs_collapse"]
