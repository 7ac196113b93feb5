"""How a contract graph looks: one drawing model (``GraphView``) and its Graphviz form (``graph_to_dot``).

The visual language (PRODUCT §9): every node kind has its own shape and colour, await nodes show their event,
correlation keys sit in the title and scopes (path prefixes) become clusters. Given ``states`` (an instance
view), nodes are filled by state and blocked nodes say — and point to — what they wait for. Graphs above
``collapse_above`` nodes collapse each top-level scope into one node unless ``expand`` says otherwise.

Everything here is deterministic: ids come from node names, attributes are sorted, and no memory address,
execution id, token or timestamp ever reaches a label. The pure-Python SVG layout in
``igniter_nb.notebook.layout`` draws the same ``GraphView``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from igniter_nb.model import (
    AwaitNode,
    BranchNode,
    CollectionNode,
    CompositionNode,
    ComputeNode,
    InputNode,
    Node,
    OutputNode,
    RemoteNode,
)

if TYPE_CHECKING:
    import graphviz

    from igniter_nb.compiler.graph import CompiledGraph

COLLAPSE_ABOVE = 300

#: kind → (shape, fill, border). ``compute`` nodes use their category (lookup, map, project, aggregate) or
#: role (guard, const) as their kind.
KIND_STYLES: dict[str, tuple[str, str, str]] = {
    "input": ("parallelogram", "#dbeafe", "#1d4ed8"),
    "compute": ("box", "#f1f5f9", "#334155"),
    "lookup": ("cylinder", "#ccfbf1", "#0f766e"),
    "map": ("box3d", "#cffafe", "#0e7490"),
    "project": ("invhouse", "#ecfccb", "#4d7c0f"),
    "aggregate": ("house", "#dcfce7", "#15803d"),
    "guard": ("octagon", "#fef3c7", "#b45309"),
    "const": ("note", "#f5f5f4", "#57534e"),
    "output": ("ellipse", "#e0e7ff", "#4338ca"),
    "composition": ("component", "#ede9fe", "#6d28d9"),
    "branch": ("hexagon", "#fce7f3", "#be185d"),
    "collection": ("folder", "#f3e8ff", "#7e22ce"),
    "await": ("cds", "#ffedd5", "#c2410c"),
    "remote": ("rarrow", "#e0f2fe", "#0369a1"),
    "scope": ("tab", "#f8fafc", "#64748b"),
}

#: node status → fill in the instance view (the border keeps the kind's colour).
STATE_FILLS: dict[str, str] = {
    "succeeded": "#bbf7d0",
    "failed": "#fca5a5",
    "pending": "#fde047",
    "waiting": "#fdba74",
    "stale": "#e5e7eb",
    "running": "#93c5fd",
    "unresolved": "#ffffff",
}

# Worst first: what a collapsed scope shows when its nodes differ.
_STATUS_RANK = ("failed", "waiting", "pending", "running", "stale", "unresolved", "succeeded")
_BLOCKED = frozenset({"pending", "waiting"})
WAIT_EDGE_COLOR = "#c2410c"
FONT = "Helvetica"


@dataclass(frozen=True, slots=True)
class ViewNode:
    """One box to draw. ``id`` is stable (derived from the node name); ``scope`` is its cluster path."""

    id: str
    name: str
    kind: str
    label: tuple[str, ...]
    shape: str
    fill: str
    border: str
    style: str
    scope: tuple[str, ...]
    status: str | None = None
    peripheries: int = 1


@dataclass(frozen=True, slots=True)
class ViewEdge:
    """``wait`` edges go from a blocked node to what it waits for and do not constrain the layout."""

    tail: str
    head: str
    label: str = ""
    style: str = "solid"
    wait: bool = False


@dataclass(frozen=True, slots=True)
class GraphView:
    title: tuple[str, ...]
    nodes: tuple[ViewNode, ...]
    edges: tuple[ViewEdge, ...]
    clusters: tuple[tuple[str, ...], ...]  # every scope path that holds a node, parents before children
    collapsed: tuple[str, ...] = ()  # top-level scopes drawn as one node
    total_nodes: int = 0


# ----------------------------------------------------------------------------------------------- states


@dataclass(frozen=True, slots=True)
class _State:
    status: str
    waiting_for: tuple[str, ...] = ()
    event: str | None = None
    error: str | None = None


def _state_of(value: Any) -> _State:
    """Accept a ``NodeState``, a states-view dict, a replay dict or a bare status string."""
    if isinstance(value, str):
        return _State(str(value))
    if isinstance(value, Mapping):
        deferred = value.get("value")
        event = value.get("event")
        if event is None and isinstance(deferred, Mapping):
            event = deferred.get("event")
        return _State(str(value.get("status") or "unresolved"), tuple(value.get("waiting_for") or ()),
                      event, value.get("error_type") or value.get("error"))
    status = str(getattr(value, "status", "unresolved"))
    deferred = getattr(value, "value", None)
    error = getattr(value, "error", None)
    return _State(status, tuple(getattr(value, "waiting_for", ()) or ()), getattr(deferred, "event", None),
                  type(error).__name__ if error is not None else None)


def _states_from(source: Any) -> dict[str, _State] | None:
    if source is None:
        return None
    if hasattr(source, "execution"):  # a contract instance
        source = source.execution.states
    elif hasattr(source, "states") and not isinstance(source, Mapping):  # an Execution
        source = source.states
    return {str(k): _state_of(v) for k, v in dict(source).items()}


# ----------------------------------------------------------------------------------------------- labels


def node_kind(node: Node) -> str:
    """The drawing kind: the node kind, or for compute nodes their role/category when it has a style."""
    if isinstance(node, ComputeNode):
        if node.role in ("guard", "const"):
            return node.role
        if node.category in KIND_STYLES:
            return node.category
        return "compute"
    return node.kind


def _short(value: Any, limit: int = 24) -> str:
    if value is None or isinstance(value, bool | int | float | str):
        text = repr(value)
    else:
        text = type(value).__name__  # never a repr that might carry a memory address
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _contract_name(cls: Any) -> str:
    return str(getattr(cls, "__name__", None) or cls)


def _detail(node: Node, kind: str) -> str:
    if isinstance(node, InputNode):
        text = f"input: {node.type_name}" if node.type_name else "input"
        if node.has_default:
            text += f" = {_short(node.default)}"
        return text
    if isinstance(node, AwaitNode):
        return f"awaits: {node.event}"
    if isinstance(node, ComputeNode):
        if kind == "const":
            return "const"
        if kind == "compute" and node.category:
            return f"compute ({node.category})"
        return kind
    if isinstance(node, CompositionNode):
        return f"compose: {_contract_name(node.contract)}"
    if isinstance(node, BranchNode):
        names = " | ".join(_contract_name(c) for c in node.possible_contracts)
        return f"branch on {node.selector}: {names}"
    if isinstance(node, CollectionNode):
        return f"each {_contract_name(node.contract)} by {node.key}"
    if isinstance(node, RemoteNode):
        return f"remote: {node.contract}"
    if isinstance(node, OutputNode):
        return "output" if node.source == node.name else f"output ← {node.source}"
    return kind


def _state_line(node: Node, st: _State) -> str:
    if st.status == "waiting" and isinstance(node, AwaitNode):
        return f"waiting for event {node.event}"
    if st.status in _BLOCKED:
        others = [w for w in st.waiting_for if w != node.name]
        if others:
            return f"{st.status}: waits for {', '.join(others)}"
        return f"{st.status}: deferred" if st.status == "pending" else st.status
    if st.status == "failed" and st.error:
        error = str(st.error)
        return f"failed: {error if len(error) <= 32 else error[:31] + '…'}"
    return st.status


def _scope_of(node: Node) -> tuple[str, ...]:
    parts = node.path.split(".")
    if isinstance(node, OutputNode):
        # output paths are [*scopes, "output", name]
        return tuple(parts[:-2]) if len(parts) >= 2 and parts[-2] == "output" else tuple(parts[:-1])
    return tuple(parts[:-1])


def _node_id(node: Node) -> str:
    return f"o_{node.name}" if isinstance(node, OutputNode) else f"n_{node.name}"


# ----------------------------------------------------------------------------------------------- the view


def graph_view(
    graph: CompiledGraph,
    *,
    states: Any = None,
    status: str | None = None,
    title: str | None = None,
    expand: bool | Iterable[str] | None = None,
    collapse_above: int = COLLAPSE_ABOVE,
) -> GraphView:
    """The drawing model of ``graph``; with ``states`` (node name → state) an instance view.

    ``expand=True`` never collapses; an iterable of top-level scope names keeps those scopes open.
    """
    state_map = _states_from(states)
    everything: list[Node] = [*graph.nodes, *graph.outputs]
    nodes: list[ViewNode] = []
    for node in everything:
        nodes.append(_view_node(graph, node, state_map))

    edges = _edges(graph, state_map)
    collapsed: tuple[str, ...] = ()
    if expand is not True and len(everything) > collapse_above:
        keep = set(expand or ())
        nodes, edges, collapsed = _collapse(nodes, edges, keep)

    clusters = sorted({n.scope[:i] for n in nodes for i in range(1, len(n.scope) + 1)})
    heading = title or graph.name
    lines = [heading if status is None else f"{heading} — {status}"]
    if graph.correlation_keys:
        lines.append("correlate by: " + ", ".join(graph.correlation_keys))
    if collapsed:
        shown = ", ".join(collapsed) if len(collapsed) <= 6 else f"{', '.join(collapsed[:3])} … {collapsed[-1]}"
        lines.append(f"{len(everything)} nodes; {len(collapsed)} scopes collapsed ({shown}); expand=True opens them")
    return GraphView(tuple(lines), tuple(nodes), tuple(edges), tuple(clusters), collapsed, len(everything))


def _view_node(graph: CompiledGraph, node: Node, state_map: dict[str, _State] | None) -> ViewNode:
    kind = node_kind(node)
    shape, fill, border = KIND_STYLES.get(kind, KIND_STYLES["compute"])
    label = [node.label, _detail(node, kind)]
    style = "filled,rounded" if shape == "box" else "filled"
    status = None
    if state_map is not None:
        key = node.source_root if isinstance(node, OutputNode) else node.name
        st = state_map.get(node.name) if isinstance(node, OutputNode) and node.name in state_map else None
        st = st or state_map.get(key) or _State("unresolved")
        status = st.status
        fill = STATE_FILLS.get(status, STATE_FILLS["unresolved"])
        label.append(_state_line(node if not isinstance(node, OutputNode) else graph.fetch(key), st))
        if status == "stale":
            style += ",dashed"
        elif status == "unresolved":
            style += ",dotted"
    return ViewNode(_node_id(node), node.name, kind, tuple(label), shape, fill, border, style, _scope_of(node),
                    status, 2 if kind == "output" else 1)


def _edges(graph: CompiledGraph, state_map: dict[str, _State] | None) -> list[ViewEdge]:
    edges: dict[tuple[str, str], ViewEdge] = {}
    for node in graph.nodes:
        for dep, root, out in graph.dep_plan[node.name]:
            label = ""
            if out is not None and out.child_output is not None:
                label = f".{out.child_output}"
            elif isinstance(node, BranchNode) and dep == node.selector:
                label = "selector"
            elif isinstance(node, CollectionNode) and dep == node.source:
                label = "items"
            key = (f"n_{root}", f"n_{node.name}")
            if key not in edges:
                edges[key] = ViewEdge(key[0], key[1], label)
    for out in graph.outputs:
        key = (f"n_{out.source_root}", f"o_{out.name}")
        edges[key] = ViewEdge(key[0], key[1], f".{out.child_output}" if out.child_output else "", "dashed")
    if state_map:
        edges.update(_wait_edges(graph, state_map))
    return list(edges.values())


def _wait_edges(graph: CompiledGraph, state_map: dict[str, _State]) -> dict[tuple[str, str], ViewEdge]:
    """From each blocked node with no blocked dependent (the edge of the blocked region) to what it waits for."""
    found: dict[tuple[str, str], ViewEdge] = {}
    for node in graph.nodes:
        st = state_map.get(node.name)
        if st is None or st.status not in _BLOCKED:
            continue
        if any((d := state_map.get(dep)) is not None and d.status in _BLOCKED for dep in graph.dependents.get(node.name, ())):
            continue
        direct = {root for _, root, _ in graph.dep_plan[node.name]}
        for target in st.waiting_for:
            if target != node.name and target not in direct and graph.has_node(target):
                key = (f"n_{node.name}", f"n_{target}")
                found[key] = ViewEdge(key[0], key[1], "waits for", "dotted", wait=True)
    return found


def _worst(statuses: Iterable[str | None]) -> str | None:
    present = {s for s in statuses if s is not None}
    return next((s for s in _STATUS_RANK if s in present), None) if present else None


def _collapse(nodes: list[ViewNode], edges: list[ViewEdge], keep: set[str]) -> tuple[list[ViewNode], list[ViewEdge], tuple[str, ...]]:
    groups: dict[str, list[ViewNode]] = {}
    for n in nodes:
        if n.scope and n.scope[0] not in keep:
            groups.setdefault(n.scope[0], []).append(n)
    if not groups:
        return nodes, edges, ()
    owner: dict[str, str] = {}
    shape, fill, border = KIND_STYLES["scope"]
    out: list[ViewNode] = [n for n in nodes if not (n.scope and n.scope[0] in groups)]
    for scope, members in sorted(groups.items()):
        sid = f"s_{scope}"
        for m in members:
            owner[m.id] = sid
        status = _worst(m.status for m in members)
        label = [scope, f"scope: {len(members)} nodes"]
        if status is not None:
            counts: dict[str, int] = {}
            for m in members:
                counts[m.status or "unresolved"] = counts.get(m.status or "unresolved", 0) + 1
            label.append(", ".join(f"{counts[s]} {s}" for s in _STATUS_RANK if s in counts))
        out.append(ViewNode(sid, scope, "scope", tuple(label), shape,
                            STATE_FILLS[status] if status else fill, border, "filled", (), status))
    merged: dict[tuple[str, str], ViewEdge] = {}
    for e in edges:
        tail, head = owner.get(e.tail, e.tail), owner.get(e.head, e.head)
        if tail == head:
            continue
        key = (tail, head)
        if key not in merged:
            collapsed_edge = tail != e.tail or head != e.head
            merged[key] = ViewEdge(tail, head, "" if collapsed_edge and not e.wait else e.label, e.style, e.wait)
    return out, list(merged.values()), tuple(sorted(groups))


# ----------------------------------------------------------------------------------------------- graphviz


def _dot_text(lines: Iterable[str]) -> str:
    # python-graphviz quotes but keeps backslashes: escape them, then join lines with dot's centred break.
    return "\\n".join(line.replace("\\", "\\\\") for line in lines)


def view_to_dot(view: GraphView) -> graphviz.Digraph:
    """A ``graphviz.Digraph`` of a ``GraphView`` (left to right, scopes as clusters, sorted attributes)."""
    import graphviz

    dot = graphviz.Digraph(name=view.title[0].split(" ")[0] or "graph")
    dot.attr("graph", _attributes=sorted({
        "fontname": FONT, "fontsize": "14", "label": _dot_text(view.title), "labelloc": "t", "labeljust": "l",
        "nodesep": "0.3", "rankdir": "LR", "ranksep": "0.5",
    }.items()))
    dot.attr("node", _attributes=sorted({"fontname": FONT, "fontsize": "11", "margin": "0.12,0.05",
                                         "penwidth": "1.4"}.items()))
    dot.attr("edge", _attributes=sorted({"arrowsize": "0.7", "color": "#64748b", "fontname": FONT,
                                         "fontsize": "9"}.items()))

    by_scope: dict[tuple[str, ...], list[ViewNode]] = {}
    for n in view.nodes:
        by_scope.setdefault(n.scope, []).append(n)

    def add_nodes(target: graphviz.Digraph, scope: tuple[str, ...]) -> None:
        for n in by_scope.get(scope, ()):
            attrs = {"label": _dot_text(n.label), "shape": n.shape, "fillcolor": n.fill, "color": n.border,
                     "style": n.style, "tooltip": f"{n.kind} {n.name}"}
            if n.shape == "cds":
                attrs["margin"] = "0.3,0.12"  # room for the flag's point and its lines
            if n.peripheries != 1:
                attrs["peripheries"] = str(n.peripheries)
            target.node(n.id, _attributes=sorted(attrs.items()))
        for child in [c for c in view.clusters if len(c) == len(scope) + 1 and c[: len(scope)] == scope]:
            with target.subgraph(name="cluster_" + "__".join(child)) as sub:
                sub.attr(_attributes=sorted({"label": child[-1], "style": "rounded,dashed", "color": "#94a3b8",
                                             "fontcolor": "#475569", "fontsize": "11"}.items()))
                add_nodes(sub, child)

    add_nodes(dot, ())
    for e in view.edges:
        attrs: dict[str, str] = {}
        if e.label:
            attrs["label"] = _dot_text([e.label])
        if e.style != "solid":
            attrs["style"] = e.style
        if e.wait:
            attrs.update(color=WAIT_EDGE_COLOR, constraint="false", fontcolor=WAIT_EDGE_COLOR)
        dot.edge(e.tail, e.head, _attributes=sorted(attrs.items()))
    return dot


def graph_to_dot(
    graph: CompiledGraph,
    *,
    states: Any = None,
    status: str | None = None,
    title: str | None = None,
    expand: bool | Iterable[str] | None = None,
    collapse_above: int = COLLAPSE_ABOVE,
) -> graphviz.Digraph:
    """``graph`` as a ``graphviz.Digraph``; with ``states`` (a contract, an execution or node name → state)
    coloured by state. See the module docstring for the visual language."""
    return view_to_dot(graph_view(graph, states=states, status=status, title=title, expand=expand,
                                  collapse_above=collapse_above))


__all__ = ["COLLAPSE_ABOVE", "KIND_STYLES", "STATE_FILLS", "GraphView", "ViewEdge", "ViewNode", "graph_to_dot",
           "graph_view", "node_kind", "view_to_dot"]
