"""How a contract graph looks: the drawing model (``GraphView``) that both renderers draw.

The visual language (PRODUCT §9): every node kind has its own shape and colour, the node's name is bold, await
nodes show their event, correlation keys (and, for an instance, their values) sit in the title, and scopes
(path prefixes) become clusters. Given ``states`` (an instance view), nodes are filled by state and say what a
person needs to act: what a blocked node waits for, a deferred node's token, an await's deadline, a failed
node's error. A legend lists the kinds and states in the picture. Graphs above ``collapse_above`` nodes are
collapsed (``igniter_nb.diagnostics.collapse``) unless ``expand`` says otherwise. What the states say is read by
``igniter_nb.diagnostics.view_facts`` (re-exported here).

Every user-provided string (names, labels, scope and event names, values) is cleaned by
``igniter_nb.diagnostics.view_text`` (re-exported here) — control characters become spaces and long text is
cut — and escaped by each renderer for its own syntax. Everything
is deterministic: ids come from node names and no memory address or execution id reaches a label.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from igniter_nb._shown_text import cut_text, shown_name
from igniter_nb.diagnostics.view_facts import (  # re-exported: the facts a picture reads
    BLOCKED,
    InstanceFacts,
    NodeFacts,
    facts_of,
    instance_facts,
    outcome_lines,
    pending_summary,
)
from igniter_nb.diagnostics.view_text import (  # re-exported: how user text is cleaned
    BIDI_CONTROLS,
    LINE_LIMIT,
    NAME_LIMIT,
    TITLE_LIMIT,
    clean,
    clean_name,
    writable,
)
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
from igniter_nb.runtime.planner import role_of

if TYPE_CHECKING:
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

#: node status → fill in the instance view (the border keeps the kind's colour). ``supplied`` is not a node
#: status: it marks an input that has a value nothing has read yet.
STATE_FILLS: dict[str, str] = {
    "succeeded": "#bbf7d0",
    "failed": "#fca5a5",
    "pending": "#fde047",
    "waiting": "#fdba74",
    "stale": "#e5e7eb",
    "running": "#93c5fd",
    "supplied": "#eff6ff",
    "unresolved": "#ffffff",
}

# Worst first: what a collapsed group shows when its nodes differ.
STATUS_RANK = ("failed", "waiting", "pending", "running", "stale", "unresolved", "supplied", "succeeded")
LEGEND_STATES = ("succeeded", "running", "pending", "waiting", "failed", "stale", "supplied", "unresolved")
WAIT_EDGE_COLOR = "#c2410c"
EDGE_COLOR = "#64748b"
FONT = "Helvetica"
FONT_SIZE = 12

@dataclass(frozen=True, slots=True)
class ViewNode:
    """One box to draw. ``id`` is stable (derived from the node name); ``scope`` is its cluster path;
    ``label`` its lines (the first, the name, drawn bold); ``tooltip`` the full kind and path."""

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
    tooltip: str = ""


@dataclass(frozen=True, slots=True)
class ViewEdge:
    """``wait`` edges go from a blocked node to what it waits for and do not constrain the layout."""

    tail: str
    head: str
    label: str = ""
    style: str = "solid"
    wait: bool = False


@dataclass(frozen=True, slots=True)
class LegendItem:
    """One chip of the legend: a kind (its fill and border) or a state (its fill)."""

    text: str
    fill: str
    border: str
    style: str = "solid"


@dataclass(frozen=True, slots=True)
class GraphView:
    title: tuple[str, ...]
    nodes: tuple[ViewNode, ...]
    edges: tuple[ViewEdge, ...]
    clusters: tuple[tuple[str, ...], ...]  # every scope path that holds a node, parents before children
    collapsed: tuple[str, ...] = ()  # groups drawn as one node (top-level scopes or layer blocks)
    total_nodes: int = 0
    direction: str | None = None  # "LR" or "TB"; None: chosen by the renderer from the graph's shape
    legend: tuple[LegendItem, ...] = ()


# ----------------------------------------------------------------------------------------------- states


# ----------------------------------------------------------------------------------------------- labels


def node_kind(node: Node) -> str:
    """The drawing kind: the node kind, or for compute nodes their role (guard, const) or category (lookup,
    map, project, aggregate) — the same word the plan shows (``runtime.planner.role_of``)."""
    return role_of(node)


def short_value(value: Any, limit: int = 24) -> str:
    if value is None or isinstance(value, bool | int | float | str):
        text = repr(value)
    else:
        text = type(value).__name__  # never a repr that might carry a memory address
    return clean(text, limit)


def _contract_name(cls: Any) -> str:
    return str(getattr(cls, "__name__", None) or cls)


def _detail(node: Node, kind: str) -> str:
    if isinstance(node, InputNode):
        text = f"input: {node.type_name}" if node.type_name else "input"
        if node.has_default:
            text += f" = {short_value(node.default)}"
        return text
    if isinstance(node, AwaitNode):  # cut in the middle: long event names often differ only at the end
        return f"awaits: {clean_name(node.event, LINE_LIMIT - len('awaits: '))}"
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


def _state_lines(node: Node, st: NodeFacts, deadline: str | None) -> list[str]:
    """The state line, then what a person needs to act on it (token, deadline, error)."""
    lines: list[str]
    if st.status == "waiting" and isinstance(node, AwaitNode):
        lines = [f"waiting for event {clean_name(node.event, LINE_LIMIT - len('waiting for event '))}"]
        if deadline:
            lines.append(f"deadline {deadline}")
        return lines
    if st.status in BLOCKED:
        others = [w for w in st.waiting_for if w != node.name]
        if others:
            return [f"{st.status}: waits for {', '.join(others)}"]
        lines = [f"{st.status}: deferred" if st.status == "pending" else st.status]
        lines.extend(st.pending)
        if st.token:
            lines.append(f"token {st.token}")
        return lines
    if st.status == "failed":
        lines = [f"failed: {st.error_type}" if st.error_type else "failed"]
        if st.error and st.error != st.error_type:
            lines.append(st.error)
        return lines
    return [st.status, *st.outcome]


def scope_of(node: Node) -> tuple[str, ...]:
    parts = node.path.split(".")
    if isinstance(node, OutputNode):
        # output paths are [*scopes, "output", name]
        return tuple(parts[:-2]) if len(parts) >= 2 and parts[-2] == "output" else tuple(parts[:-1])
    return tuple(parts[:-1])


_ENCODED = re.compile(r"h(?:[0-9a-f]{2})*")


def safe_id(text: str) -> str:
    """``text`` as an identifier fit for DOT, SVG ids and Mermaid: ASCII identifiers stay, anything else is
    hex-encoded behind an ``h`` (deterministic, and no quote, bracket or backslash can reach a renderer's
    syntax). One to one: an ASCII identifier spelled like an encoding (``hc3a9``, which ``é`` becomes) is
    encoded too, so two names never share an id — they would be drawn as one box."""
    if text.isascii() and text.isidentifier() and not _ENCODED.fullmatch(text):
        return text
    return "h" + text.encode("utf-8").hex()


def node_id(node: Node) -> str:
    return f"o_{safe_id(node.name)}" if isinstance(node, OutputNode) else f"n_{safe_id(node.name)}"


def _deadline_text(iso: str) -> str:
    """"2026-01-02T03:04:05.123456+00:00" → "2026-01-02 03:04:05 UTC": to the second (a person acts on it; the
    workflow record keeps the exact moment), in UTC. Text that is no ISO moment is shown as it is."""
    try:
        moment = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso.replace("T", " ")
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# ----------------------------------------------------------------------------------------------- the view


def graph_view(
    graph: CompiledGraph,
    *,
    states: Any = None,
    status: str | None = None,
    title: str | None = None,
    expand: bool | Iterable[str] | None = None,
    collapse_above: int = COLLAPSE_ABOVE,
    direction: str | None = None,
    legend: bool = True,
) -> GraphView:
    """The drawing model of ``graph``; with ``states`` (a contract, an execution, or node name → state) an
    instance view.

    ``expand=True`` never collapses; an iterable of top-level scope names keeps those scopes open.
    ``direction`` is ``"LR"``, ``"TB"`` or ``None`` (chosen from the graph's shape when drawn); ``legend``
    adds the kinds and states in the picture.
    """
    from igniter_nb.diagnostics.collapse import EDGE_THRESHOLD, collapse, edge_count, needs_collapse

    if direction is not None and direction not in ("LR", "TB"):
        raise ValueError(f"direction must be 'LR', 'TB' or None, got {direction!r}")
    keep = _scopes_to_keep(graph, expand)
    facts = instance_facts(states, graph)
    total = len(graph.nodes) + len(graph.outputs)
    if expand is not True and needs_collapse(graph, collapse_above):
        nodes, edges, collapsed = collapse(graph, facts, keep, collapse_above)
    else:
        nodes = [view_node(graph, node, facts) for node in (*graph.nodes, *graph.outputs)]
        edges, collapsed = graph_edges(graph, facts), ()

    clusters = sorted({n.scope[:i] for n in nodes for i in range(1, len(n.scope) + 1)})
    heading = clean(title or graph.name, TITLE_LIMIT)
    lines = [heading if status is None else f"{heading} — {clean(status, 20)}"]
    if graph.correlation_keys:
        values = dict(facts.correlation) if facts is not None else {}
        shown = [f"{k}={short_value(values[k], 40)}" if k in values else k for k in graph.correlation_keys]
        lines.append(clean("correlate by: " + ", ".join(shown), TITLE_LIMIT + 40))
    if collapsed:
        shown_groups = ", ".join(collapsed) if len(collapsed) <= 6 else f"{', '.join(collapsed[:3])} … {collapsed[-1]}"
        edges_note = f", {count:,} edges" if (count := edge_count(graph)) > EDGE_THRESHOLD else ""
        lines.append(clean(f"{total:,} nodes{edges_note}; {len(collapsed)} groups collapsed ({shown_groups}); "
                           "expand=True opens them", TITLE_LIMIT + 40))
    items = legend_items(nodes, instance=facts is not None) if legend else ()
    return GraphView(tuple(lines), tuple(nodes), tuple(edges), tuple(clusters), collapsed, total, direction, items)


def _scopes_to_keep(graph: CompiledGraph, expand: bool | Iterable[str] | None) -> set[str]:
    """The top-level scopes ``expand`` keeps open. One name may be given as a string (``expand="billing"``, which
    as an iterable was its letters and opened nothing); a name that is no top-level scope of the graph raises
    ``ValueError`` listing those there are — a typo silently left everything collapsed."""
    if expand is None or isinstance(expand, bool):
        return set()
    names = {expand} if isinstance(expand, str) else {str(name) for name in expand}
    if not names:
        return names
    scopes = {node.path.split(".", 1)[0] for node in (*graph.nodes, *graph.outputs) if scope_of(node)}
    unknown = sorted(names - scopes)
    if unknown:
        known = (", ".join(shown_name(scope) for scope in sorted(scopes)[:20]) + (", …" if len(scopes) > 20 else "")
                 if scopes else "none")
        listed = cut_text(", ".join(shown_name(name) for name in unknown), 400, say_how_much=True)
        raise ValueError(f"expand names no top-level scope of graph {shown_name(graph.name)}: {listed} "
                         f"(its scopes: {known})")
    return names


def view_node(graph: CompiledGraph, node: Node, facts: InstanceFacts | None) -> ViewNode:
    kind = node_kind(node)
    shape, fill, border = KIND_STYLES.get(kind, KIND_STYLES["compute"])
    label = [clean_name(node.label)]
    if label[0] != clean_name(node.name):  # a label= hides the name errors, the API and the code use: say both
        label.append(f"name: {clean_name(node.name)}")
    label.append(clean(_detail(node, kind)))
    style = "filled,rounded" if shape == "box" else "filled"
    status = None
    if facts is not None:
        key = node.source_root if isinstance(node, OutputNode) else node.name
        st = facts.states.get(node.name) if isinstance(node, OutputNode) and node.name in facts.states else None
        st = st or facts.states.get(key)
        if st is None:
            supplied = isinstance(node, InputNode) and node.name in facts.supplied
            st = NodeFacts("supplied" if supplied else "unresolved")
        status = st.status
        fill = STATE_FILLS.get(status, STATE_FILLS["unresolved"])
        subject = graph.fetch(key) if isinstance(node, OutputNode) else node
        deadline = dict(facts.deadlines).get(subject.name)
        label.extend(clean(line) for line in _state_lines(subject, st, deadline and _deadline_text(deadline)))
        if status == "stale":
            style += ",dashed"
        elif status == "unresolved":
            style += ",dotted"
    return ViewNode(node_id(node), node.name, kind, tuple(label), shape, fill, border, style, scope_of(node),
                    status, 2 if kind == "output" else 1, _tooltip(node, kind))


def _tooltip(node: Node, kind: str) -> str:
    """The kind and full path; an await adds the event it waits for (cleaned, cut in the middle at 120)."""
    text = clean(f"{kind} {node.path}", 200)
    if isinstance(node, AwaitNode):
        text = clean(f"{text} — awaits event {clean_name(node.event, 120)}", 200)
    return text


def graph_edges(graph: CompiledGraph, facts: InstanceFacts | None) -> list[ViewEdge]:
    edges: dict[tuple[str, str], ViewEdge] = {}
    for node in graph.nodes:
        for dep, root, out in graph.dep_plan[node.name]:
            label = ""
            if out is not None and out.child_output is not None:
                label = clean(f".{out.child_output}", 24)
            elif isinstance(node, BranchNode) and dep == node.selector:
                label = "selector"
            elif isinstance(node, CollectionNode) and dep == node.source:
                label = "items"
            key = (f"n_{safe_id(root)}", f"n_{safe_id(node.name)}")
            if key not in edges:
                edges[key] = ViewEdge(key[0], key[1], label)
    for out in graph.outputs:  # unlabelled: the output's own label says what it reads ("output ← quote.price")
        key = (f"n_{safe_id(out.source_root)}", f"o_{safe_id(out.name)}")
        edges[key] = ViewEdge(key[0], key[1], "", "dashed")
    if facts is not None:
        edges.update(wait_edges(graph, facts.states))
    return list(edges.values())


def wait_edges(graph: CompiledGraph, states: Mapping[str, NodeFacts],
               id_of: Callable[[str], str] | None = None) -> dict[tuple[str, str], ViewEdge]:
    """From each blocked node with no blocked dependent (the edge of the blocked region) to what it waits for.
    ``id_of`` maps a node name to the id drawn for it (a collapsed group's id)."""
    id_of = id_of or (lambda name: f"n_{safe_id(name)}")
    found: dict[tuple[str, str], ViewEdge] = {}
    for node in graph.nodes:
        st = states.get(node.name)
        if st is None or st.status not in BLOCKED:
            continue
        if any((d := states.get(dep)) is not None and d.status in BLOCKED for dep in graph.dependents.get(node.name, ())):
            continue
        direct = {root for _, root, _ in graph.dep_plan[node.name]}
        for target in st.waiting_for:
            if target != node.name and target not in direct and graph.has_node(target):
                key = (id_of(node.name), id_of(target))
                found[key] = ViewEdge(key[0], key[1], "waits for", "dotted", wait=True)
    return found


def worst(statuses: Iterable[str | None]) -> str | None:
    present = {s for s in statuses if s is not None}
    return next((s for s in STATUS_RANK if s in present), None) if present else None


def legend_items(nodes: Iterable[ViewNode], *, instance: bool) -> tuple[LegendItem, ...]:
    """One chip per kind in the picture (in ``KIND_STYLES`` order), then — for an instance — one per state."""
    nodes = list(nodes)
    kinds = {n.kind for n in nodes}
    items = [LegendItem("collapsed" if kind == "scope" else kind, KIND_STYLES[kind][1], KIND_STYLES[kind][2])
             for kind in KIND_STYLES if kind in kinds]
    if instance:
        present = {n.status for n in nodes if n.status}
        for status in LEGEND_STATES:
            if status in present and not any(i.text == status for i in items):
                style = "dashed" if status == "stale" else "dotted" if status == "unresolved" else "solid"
                items.append(LegendItem(status, STATE_FILLS.get(status, "#ffffff"), "#475569", style))
    return tuple(items)


__all__ = ["BIDI_CONTROLS", "BLOCKED", "COLLAPSE_ABOVE", "LINE_LIMIT", "NAME_LIMIT", "TITLE_LIMIT", "outcome_lines",
           "pending_summary", "KIND_STYLES", "STATE_FILLS", "GraphView", "InstanceFacts", "LegendItem", "NodeFacts",
           "ViewEdge", "ViewNode", "clean", "clean_name", "writable", "facts_of", "node_id", "safe_id", "scope_of", "graph_edges", "graph_view", "instance_facts", "node_kind",
           "view_node", "wait_edges"]
