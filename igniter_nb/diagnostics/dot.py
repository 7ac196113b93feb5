"""A graph view in Graphviz form (``graph_to_dot``, ``view_to_dot``).

The drawing model and the visual language live in ``igniter_nb.diagnostics.view`` (re-exported here); this
module only writes DOT. Every label is an HTML-like label built from escaped text (a name shaped like
``<...>``, a quote or a backslash stays text), every identifier is derived from names by ``safe_id`` or from
positions, and plain-string attributes are passed as ``nohtml`` with their backslashes doubled — no
user-provided string can become DOT syntax, an HTML-like label or a link in the SVG.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from igniter_nb.diagnostics.geometry import node_size
from igniter_nb.diagnostics.view import (
    COLLAPSE_ABOVE,
    EDGE_COLOR,
    FONT,
    FONT_SIZE,
    KIND_STYLES,
    NAME_LIMIT,
    STATE_FILLS,
    WAIT_EDGE_COLOR,
    GraphView,
    LegendItem,
    ViewEdge,
    ViewNode,
    clean,
    graph_view,
    node_kind,
    safe_id,
)

if TYPE_CHECKING:
    import graphviz

    from igniter_nb.compiler.graph import CompiledGraph

LEGEND_PER_ROW = 8

#: how ``dot`` draws a shape so that it matches the pure-Python layout: a gentle slant for inputs instead of
#: dot's wide parallelogram. Every node gets the size the pure-Python layout gives it (``fixedsize``), so
#: both engines draw the same boxes around the same text.
_DOT_SHAPES: dict[str, dict[str, str]] = {
    "parallelogram": {"shape": "polygon", "sides": "4", "skew": "0.12"},
}


def html_text(text: str) -> str:
    """``text`` escaped for a Graphviz HTML-like label (and for XML)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("'", "&#39;"))


def _html(body: str) -> str:
    return f"<{body}>"


def _plain(text: str) -> Any:
    """A plain DOT string attribute (an escString): backslashes doubled, never read as an HTML-like label."""
    import graphviz

    return graphviz.nohtml(text.replace("\\", "\\\\"))


def node_label(lines: Iterable[str]) -> str:
    lines = list(lines)
    parts = [f"<B>{html_text(lines[0])}</B>"] if lines else []
    parts.extend(html_text(line) for line in lines[1:])
    return _html("<BR/>".join(parts))


def _chip(item: LegendItem) -> str:
    style = ' STYLE="dashed"' if item.style == "dashed" else ' STYLE="dotted"' if item.style == "dotted" else ""
    return (f'<TD BGCOLOR="{item.fill}" COLOR="{item.border}" BORDER="1"{style} CELLPADDING="2">'
            f'<FONT POINT-SIZE="10">{html_text(item.text)}</FONT></TD>')


def title_label(view: GraphView) -> str:
    """The title lines and the legend as one HTML-like table (dot has one graph label)."""
    rows = [f'<TR><TD ALIGN="LEFT"><B><FONT POINT-SIZE="14">{html_text(view.title[0])}</FONT></B></TD></TR>']
    rows.extend(f'<TR><TD ALIGN="LEFT">{html_text(t)}</TD></TR>' for t in view.title[1:])
    for start in range(0, len(view.legend), LEGEND_PER_ROW):
        chips = "".join(_chip(i) for i in view.legend[start:start + LEGEND_PER_ROW])
        rows.append(f'<TR><TD ALIGN="LEFT"><TABLE ALIGN="LEFT" BORDER="0" CELLSPACING="3" CELLPADDING="0"><TR>{chips}'
                    "</TR></TABLE></TD></TR>")
    return _html(f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">{"".join(rows)}</TABLE>')


def view_to_dot(view: GraphView, *, direction: str | None = None) -> graphviz.Digraph:
    """A ``graphviz.Digraph`` of a ``GraphView`` (scopes as clusters, sorted attributes). ``direction``
    overrides ``view.direction``; with neither, left to right."""
    import graphviz

    rankdir = direction or view.direction or "LR"
    dot = graphviz.Digraph(name=safe_id(view.title[0].split(" ")[0] or "graph"))
    dot.attr("graph", _attributes=sorted({
        "fontname": FONT, "fontsize": str(FONT_SIZE), "label": title_label(view), "labelloc": "t",
        "labeljust": "l", "nodesep": "0.25", "rankdir": rankdir, "ranksep": "0.45", "pad": "0.15",
    }.items()))
    dot.attr("node", _attributes=sorted({"fontname": FONT, "fontsize": str(FONT_SIZE), "margin": "0.1,0.04",
                                         "penwidth": "1.4"}.items()))
    dot.attr("edge", _attributes=sorted({"arrowsize": "0.7", "color": EDGE_COLOR, "fontname": FONT,
                                         "fontsize": "10", "fontcolor": "#475569"}.items()))

    by_scope: dict[tuple[str, ...], list[ViewNode]] = {}
    for n in view.nodes:
        by_scope.setdefault(n.scope, []).append(n)
    cluster_ids = {scope: f"cluster_{k}" for k, scope in enumerate(view.clusters)}

    def add_nodes(target: graphviz.Digraph, scope: tuple[str, ...]) -> None:
        for n in by_scope.get(scope, ()):
            attrs = {"label": node_label(n.label), "shape": n.shape, "fillcolor": n.fill, "color": n.border,
                     "style": n.style, "tooltip": _plain(n.tooltip or f"{n.kind} {n.name}")}
            attrs.update(_DOT_SHAPES.get(n.shape, {}))
            w, h = node_size(n)
            attrs.update(fixedsize="true", width=f"{w / 72:.3f}", height=f"{h / 72:.3f}")
            if n.peripheries != 1:
                attrs["peripheries"] = str(n.peripheries)
            target.node(n.id, _attributes=sorted(attrs.items()))
        for child in [c for c in view.clusters if len(c) == len(scope) + 1 and c[: len(scope)] == scope]:
            with target.subgraph(name=cluster_ids[child]) as sub:
                sub.attr(_attributes=sorted({"label": _html(html_text(clean(child[-1], NAME_LIMIT))), "style": "rounded,dashed",
                                             "color": "#94a3b8", "fontcolor": "#475569", "fontsize": "11",
                                             "labeljust": "l"}.items()))
                add_nodes(sub, child)

    add_nodes(dot, ())
    for e in view.edges:
        dot.edge(e.tail, e.head, _attributes=sorted(edge_attributes(e).items()))
    return dot


def edge_attributes(e: ViewEdge) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if e.label:
        attrs["label"] = _html(html_text(e.label))
    if e.style != "solid":
        attrs["style"] = e.style
    if e.wait:
        attrs.update(color=WAIT_EDGE_COLOR, constraint="false", fontcolor=WAIT_EDGE_COLOR)
    return attrs


def graph_to_dot(
    graph: CompiledGraph,
    *,
    states: Any = None,
    status: str | None = None,
    title: str | None = None,
    expand: bool | Iterable[str] | None = None,
    collapse_above: int = COLLAPSE_ABOVE,
    direction: str | None = None,
    legend: bool = True,
) -> graphviz.Digraph:
    """``graph`` as a ``graphviz.Digraph``; with ``states`` (a contract, an execution or node name → state)
    coloured by state. See ``igniter_nb.diagnostics.view`` for the visual language. Without ``direction``
    the layout direction is chosen from the graph's shape, as in the notebook picture."""
    view = graph_view(graph, states=states, status=status, title=title, expand=expand,
                      collapse_above=collapse_above, direction=direction, legend=legend)
    if view.direction is None:
        from igniter_nb.diagnostics.geometry import choose_direction

        direction = choose_direction(view)
    return view_to_dot(view, direction=direction)


__all__ = ["COLLAPSE_ABOVE", "KIND_STYLES", "STATE_FILLS", "GraphView", "ViewEdge", "ViewNode", "graph_to_dot",
           "graph_view", "html_text", "node_kind", "view_to_dot"]
