"""A pure-Python layered SVG layout for graph views, used when Graphviz ``dot`` is not installed.

Left to right like the ``dot`` rendering: layers by longest path from the sources, order within a layer by
barycentric sweeps (fewer crossings), scopes as horizontal bands that never overlap, and each node placed as
close as its band allows to the mean height of its predecessors (straight chains). Pure computation: no
subprocess, no network, deterministic output (sorted inputs, fixed number formatting).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from igniter_nb.diagnostics.dot import WAIT_EDGE_COLOR, GraphView, ViewEdge, ViewNode

FONT_FAMILY = "Helvetica,Arial,sans-serif"
FONT_SIZE = 11
CHAR_W = 6.3  # average glyph width of an 11px sans-serif font, generous so text stays inside its shape
LINE_H = 14
LAYER_GAP = 70
NODE_GAP = 16
BAND_PAD = 10
BAND_LABEL = 16
MARGIN = 16
SWEEPS = 4


@dataclass(slots=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass(slots=True)
class Layout:
    """Node boxes by id, cluster rectangles by scope path, and the canvas size."""

    boxes: dict[str, Box]
    clusters: dict[tuple[str, ...], Box]
    width: float
    height: float
    title_height: float
    layers: dict[str, int] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------- sizes


def text_width(text: str) -> float:
    return len(text) * CHAR_W


_EXTRA_W = {"parallelogram": 28, "cds": 22, "hexagon": 26, "octagon": 16, "house": 8, "invhouse": 8,
            "component": 14, "rarrow": 24, "box3d": 8, "note": 10, "folder": 6, "tab": 6, "cylinder": 6}
_EXTRA_H = {"rarrow": 10, "cylinder": 12, "house": 14, "invhouse": 14, "folder": 6, "tab": 6, "box3d": 6, "octagon": 6}


def node_size(node: ViewNode) -> tuple[float, float]:
    w = max(text_width(line) for line in node.label) + 20 + _EXTRA_W.get(node.shape, 0)
    h = len(node.label) * LINE_H + 12 + _EXTRA_H.get(node.shape, 0)
    if node.shape == "ellipse":
        w, h = w * 1.18 + 8, h + 10
    return round(max(w, 60.0), 1), round(h, 1)


# ----------------------------------------------------------------------------------------------- layering


def _layers(ids: list[str], edges: list[ViewEdge]) -> dict[str, int]:
    """Longest path from the sources; cycles (possible after collapsing scopes) are broken deterministically."""
    preds: dict[str, list[str]] = {i: [] for i in ids}
    succs: dict[str, list[str]] = {i: [] for i in ids}
    for e in edges:
        if not e.wait and e.tail in preds and e.head in preds and e.tail != e.head:
            preds[e.head].append(e.tail)
            succs[e.tail].append(e.head)
    indeg = {i: len(preds[i]) for i in ids}
    layer = {i: 0 for i in ids}
    order = {i: k for k, i in enumerate(ids)}
    ready = [i for i in ids if indeg[i] == 0]
    done: set[str] = set()
    while len(done) < len(ids):
        if not ready:  # a cycle: release the earliest remaining node
            ready = [min((i for i in ids if i not in done), key=lambda i: (indeg[i], order[i]))]
        current, ready = ready, []
        for n in current:
            if n in done:
                continue
            done.add(n)
            for s in succs[n]:
                if s in done:
                    continue
                layer[s] = max(layer[s], layer[n] + 1)
                indeg[s] -= 1
                if indeg[s] == 0:
                    ready.append(s)
    return layer


def _order(ids: list[str], layer: dict[str, int], edges: list[ViewEdge]) -> dict[str, float]:
    """Barycentric crossing reduction; returns each node's normalised position (0..1) within its layer."""
    by_layer: dict[int, list[str]] = {}
    for i in ids:
        by_layer.setdefault(layer[i], []).append(i)
    preds: dict[str, list[str]] = {i: [] for i in ids}
    succs: dict[str, list[str]] = {i: [] for i in ids}
    for e in edges:
        if not e.wait and e.tail in preds and e.head in preds and layer[e.tail] < layer[e.head]:
            preds[e.head].append(e.tail)
            succs[e.tail].append(e.head)
    pos: dict[str, float] = {}

    def number(level: int) -> None:
        members = by_layer[level]
        for k, n in enumerate(members):
            pos[n] = (k + 0.5) / len(members)

    levels = sorted(by_layer)
    for level in levels:
        number(level)

    def sweep(sequence: list[int], neighbours: dict[str, list[str]]) -> None:
        for level in sequence:
            members = by_layer[level]
            keys = {}
            for n in members:
                near = neighbours[n]
                keys[n] = sum(pos[m] for m in near) / len(near) if near else pos[n]
            members.sort(key=lambda n: keys[n])
            number(level)

    for _ in range(SWEEPS):
        sweep(levels[1:], preds)
        sweep(levels[-2::-1], succs)
    return pos


# ----------------------------------------------------------------------------------------------- geometry


def layout(view: GraphView) -> Layout:
    ids = [n.id for n in view.nodes]
    nodes = {n.id: n for n in view.nodes}
    edges = list(view.edges)
    layer = _layers(ids, edges)
    pos = _order(ids, layer, edges)
    sizes = {i: node_size(nodes[i]) for i in ids}

    # x: one column per layer, as wide as its widest node.
    n_layers = max(layer.values(), default=-1) + 1
    col_w = [0.0] * n_layers
    for i in ids:
        col_w[layer[i]] = max(col_w[layer[i]], sizes[i][0])
    depth = max((len(s) for s in view.clusters), default=0)
    col_x: list[float] = []
    x: float = MARGIN + depth * BAND_PAD
    for w in col_w:
        col_x.append(x)
        x += w + LAYER_GAP
    width = x - LAYER_GAP + MARGIN + depth * BAND_PAD

    # y: scope bands stacked top to bottom; inside a band its own nodes first, then its child bands.
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for scope in view.clusters:
        children.setdefault(scope[:-1], []).append(scope)
    members: dict[tuple[str, ...], list[str]] = {}
    for i in ids:
        members.setdefault(nodes[i].scope, []).append(i)

    def mean_pos(scope: tuple[str, ...]) -> float:
        found = [pos[i] for i in ids if nodes[i].scope[: len(scope)] == scope]
        return sum(found) / len(found) if found else 0.0

    for kids in children.values():
        kids.sort(key=lambda s: (mean_pos(s), s))

    title_h = len(view.title) * 18 + 8
    boxes: dict[str, Box] = {}
    clusters: dict[tuple[str, ...], Box] = {}

    def place(scope: tuple[str, ...], top: float) -> float:
        """Place the nodes of ``scope`` from ``top``; returns the bottom."""
        y: float = top
        own = members.get(scope, [])
        if own:
            per_layer: dict[int, list[str]] = {}
            for i in own:
                per_layer.setdefault(layer[i], []).append(i)
            height = max(sum(sizes[i][1] for i in col) + NODE_GAP * (len(col) - 1) for col in per_layer.values())
            for level in sorted(per_layer):
                col = sorted(per_layer[level], key=lambda i: pos[i])
                _pack(col, level, y, y + height, sizes, col_x, col_w, boxes, edges)
            y += height + NODE_GAP
        for kid in children.get(scope, []):
            band_top = y
            bottom = place(kid, band_top + BAND_LABEL + BAND_PAD)
            inside = [boxes[i] for i in ids if nodes[i].scope[: len(kid)] == kid]
            indent = (len(kid) - 1) * BAND_PAD
            left = min(b.x for b in inside) - BAND_PAD if inside else MARGIN + indent
            right = max(b.x + b.w for b in inside) + BAND_PAD if inside else left + 40
            clusters[kid] = Box(left, band_top, right - left, bottom - band_top)
            y = bottom + BAND_PAD + NODE_GAP
        return y - NODE_GAP + BAND_PAD if (own or children.get(scope)) else top

    bottom = place((), MARGIN + title_h)
    # Nested bands: widen parents to cover their children.
    for scope in sorted(clusters, key=len, reverse=True):
        parent = scope[:-1]
        if parent in clusters:
            p, c = clusters[parent], clusters[scope]
            left, right = min(p.x, c.x - BAND_PAD), max(p.x + p.w, c.x + c.w + BAND_PAD)
            clusters[parent] = Box(left, p.y, right - left, max(p.h, c.y + c.h + BAND_PAD - p.y))
    right_edge = max([b.x + b.w for b in (*boxes.values(), *clusters.values())] or [0.0])
    title_w = max((text_width(t) * 1.3 for t in view.title), default=0.0) + 2 * MARGIN
    width = max(width, right_edge + MARGIN, title_w)
    return Layout(boxes, clusters, round(width, 1), round(bottom + MARGIN, 1), title_h, layer)


def _pack(col: list[str], level: int, top: float, bottom: float, sizes: dict[str, tuple[float, float]],
          col_x: list[float], col_w: list[float], boxes: dict[str, Box], edges: list[ViewEdge]) -> None:
    """Stack ``col`` between ``top`` and ``bottom`` in order, each as near as possible to its predecessors."""
    want: list[float] = []
    for i in col:
        ys = [boxes[e.tail].cy for e in edges if e.head == i and not e.wait and e.tail in boxes]
        h = sizes[i][1]
        want.append(sum(ys) / len(ys) - h / 2 if ys else top)
    ys_out: list[float] = []
    cursor = top
    for i, w in zip(col, want, strict=True):
        y = max(w, cursor)
        ys_out.append(y)
        cursor = y + sizes[i][1] + NODE_GAP
    limit = bottom
    for k in range(len(col) - 1, -1, -1):
        h = sizes[col[k]][1]
        ys_out[k] = min(ys_out[k], limit - h)
        limit = ys_out[k] - NODE_GAP
    for k, i in enumerate(col):
        w, h = sizes[i]
        x = col_x[level] + (col_w[level] - w) / 2
        boxes[i] = Box(round(x, 1), round(max(ys_out[k], top), 1), w, h)


# ----------------------------------------------------------------------------------------------- drawing


def _n(v: float) -> str:
    text = f"{v:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _points(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in points)


def shape_svg(shape: str, b: Box, fill: str, stroke: str, dash: str, peripheries: int = 1) -> str:
    """SVG elements drawing ``shape`` inside box ``b``."""
    x, y, w, h = b.x, b.y, b.w, b.h
    common = f'fill="{fill}" stroke="{stroke}" stroke-width="1.4"{dash}'
    r, s = x + w, y + h
    if shape == "ellipse":
        out = f'<ellipse cx="{_n(b.cx)}" cy="{_n(b.cy)}" rx="{_n(w / 2)}" ry="{_n(h / 2)}" {common}/>'
        if peripheries > 1:
            out += (f'<ellipse cx="{_n(b.cx)}" cy="{_n(b.cy)}" rx="{_n(w / 2 - 4)}" ry="{_n(h / 2 - 4)}" '
                    f'fill="none" stroke="{stroke}" stroke-width="1.4"{dash}/>')
        return out
    if shape == "box":
        return f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" rx="6" {common}/>'
    if shape == "cylinder":
        e = 6.0
        return (f'<path d="M{_n(x)},{_n(y + e)} A{_n(w / 2)},{_n(e)} 0 0 1 {_n(r)},{_n(y + e)} '
                f'L{_n(r)},{_n(s - e)} A{_n(w / 2)},{_n(e)} 0 0 1 {_n(x)},{_n(s - e)} Z" {common}/>'
                f'<path d="M{_n(x)},{_n(y + e)} A{_n(w / 2)},{_n(e)} 0 0 0 {_n(r)},{_n(y + e)}" fill="none" '
                f'stroke="{stroke}" stroke-width="1.4"{dash}/>')
    if shape == "box3d":
        d = 5.0
        return (f'<polygon points="{_points([(x, y + d), (r - d, y + d), (r - d, s), (x, s)])}" {common}/>'
                f'<polyline points="{_points([(x, y + d), (x + d, y), (r, y), (r, s - d), (r - d, s)])}" '
                f'fill="{fill}" stroke="{stroke}" stroke-width="1.4"{dash}/>'
                f'<line x1="{_n(r - d)}" y1="{_n(y + d)}" x2="{_n(r)}" y2="{_n(y)}" stroke="{stroke}" stroke-width="1.4"/>')
    if shape == "note":
        f_ = 9.0
        return (f'<polygon points="{_points([(x, y), (r - f_, y), (r, y + f_), (r, s), (x, s)])}" {common}/>'
                f'<polyline points="{_points([(r - f_, y), (r - f_, y + f_), (r, y + f_)])}" fill="none" '
                f'stroke="{stroke}" stroke-width="1.4"/>')
    if shape == "component":
        return (f'<rect x="{_n(x + 5)}" y="{_n(y)}" width="{_n(w - 5)}" height="{_n(h)}" {common}/>'
                f'<rect x="{_n(x)}" y="{_n(y + 6)}" width="10" height="6" {common}/>'
                f'<rect x="{_n(x)}" y="{_n(s - 12)}" width="10" height="6" {common}/>')
    if shape in ("folder", "tab"):
        t = 7.0
        tab = [(x, y + t), (x + 4, y), (x + 30, y), (x + 34, y + t)] if shape == "folder" else \
              [(x, y + t), (x, y), (x + 22, y), (x + 22, y + t)]
        return f'<polygon points="{_points([*tab, (r, y + t), (r, s), (x, s)])}" {common}/>'
    polygons: dict[str, list[tuple[float, float]]] = {
        "parallelogram": [(x + 14, y), (r, y), (r - 14, s), (x, s)],
        "cds": [(x, y), (r - 14, y), (r, y + h / 2), (r - 14, s), (x, s)],
        "hexagon": [(x + 13, y), (r - 13, y), (r, y + h / 2), (r - 13, s), (x + 13, s), (x, y + h / 2)],
        "octagon": [(x + 8, y), (r - 8, y), (r, y + 8), (r, s - 8), (r - 8, s), (x + 8, s), (x, s - 8), (x, y + 8)],
        "rarrow": [(x, y + 5), (r - 16, y + 5), (r - 16, y), (r, y + h / 2), (r - 16, s), (r - 16, s - 5), (x, s - 5)],
        "house": [(x + w / 2, y), (r, y + 14), (r, s), (x, s), (x, y + 14)],
        "invhouse": [(x, y), (r, y), (r, s - 14), (x + w / 2, s), (x, s - 14)],
    }
    pts = polygons.get(shape, [(x, y), (r, y), (r, s), (x, s)])
    return f'<polygon points="{_points(pts)}" {common}/>'


def _text(lines: tuple[str, ...] | list[str], cx: float, cy: float, size: int = FONT_SIZE, *, bold_first: bool = True,
          anchor: str = "middle", fill: str = "#0f172a") -> str:
    top = cy - (len(lines) - 1) * LINE_H / 2 + size * 0.35
    parts = []
    for k, line in enumerate(lines):
        weight = ' font-weight="bold"' if bold_first and k == 0 else ""
        parts.append(f'<text x="{_n(cx)}" y="{_n(top + k * LINE_H)}" text-anchor="{anchor}" font-size="{size}"'
                     f'{weight} fill="{fill}">{escape(line)}</text>')
    return "".join(parts)


def _edge_path(a: Box, b: Box, wait: bool) -> tuple[str, tuple[float, float]]:
    if not wait and b.x >= a.x + a.w:
        x1, y1, x2, y2 = a.x + a.w, a.cy, b.x, b.cy
        dx = max((x2 - x1) / 2, 20)
        return (f"M{_n(x1)},{_n(y1)} C{_n(x1 + dx)},{_n(y1)} {_n(x2 - dx)},{_n(y2)} {_n(x2)},{_n(y2)}",
                ((x1 + x2) / 2, (y1 + y2) / 2))
    # backwards or a wait edge: leave from the bottom, arc below, arrive at the bottom.
    x1, y1, x2, y2 = a.cx, a.y + a.h, b.cx, b.y + b.h
    sag = max(y1, y2) + 30
    return (f"M{_n(x1)},{_n(y1)} C{_n(x1)},{_n(sag)} {_n(x2)},{_n(sag)} {_n(x2)},{_n(y2)}",
            ((x1 + x2) / 2, sag - 6))


def layout_svg(view: GraphView) -> str:
    """The view as a standalone SVG document (UTF-8 text)."""
    lay = layout(view)
    w, h = lay.width, lay.height + 30 * any(e.wait for e in view.edges)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(w)}pt" height="{_n(h)}pt" '
           f'viewBox="0 0 {_n(w)} {_n(h)}" font-family="{FONT_FAMILY}">',
           '<defs><marker id="igniter-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker>'
           '<marker id="igniter-arrow-wait" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{WAIT_EDGE_COLOR}"/></marker></defs>',
           f'<rect x="0" y="0" width="{_n(w)}" height="{_n(h)}" fill="#ffffff"/>',
           '<g class="title">' + "".join(
               f'<text x="{MARGIN}" y="{_n(MARGIN + 12 + k * 18)}" font-size="{14 if k == 0 else 12}" fill="#0f172a">'
               f"{escape(t)}</text>" for k, t in enumerate(view.title)) + "</g>",
           '<g class="clusters">']
    for scope in sorted(lay.clusters):
        b = lay.clusters[scope]
        out.append(f'<g class="cluster" data-scope="{escape(".".join(scope))}"><rect x="{_n(b.x)}" y="{_n(b.y)}" '
                   f'width="{_n(b.w)}" height="{_n(b.h)}" rx="8" fill="none" stroke="#94a3b8" stroke-dasharray="5,3"/>'
                   f'<text x="{_n(b.x + 8)}" y="{_n(b.y + 13)}" font-size="11" fill="#475569">{escape(scope[-1])}</text></g>')
    out.append('</g><g class="edges">')
    for e in view.edges:
        if e.tail not in lay.boxes or e.head not in lay.boxes:
            continue
        d, (lx, ly) = _edge_path(lay.boxes[e.tail], lay.boxes[e.head], e.wait)
        color = WAIT_EDGE_COLOR if e.wait else "#64748b"
        dash = {"dashed": ' stroke-dasharray="6,4"', "dotted": ' stroke-dasharray="2,3"'}.get(e.style, "")
        marker = "igniter-arrow-wait" if e.wait else "igniter-arrow"
        out.append(f'<g class="edge" data-tail="{escape(e.tail)}" data-head="{escape(e.head)}"><path d="{d}" fill="none" '
                   f'stroke="{color}" stroke-width="1.2"{dash} marker-end="url(#{marker})"/>')
        if e.label:
            out.append(_text([e.label], lx, ly - 4, 9, bold_first=False, fill=color))
        out.append("</g>")
    out.append('</g><g class="nodes">')
    for n in view.nodes:
        b = lay.boxes[n.id]
        dash = ' stroke-dasharray="5,3"' if "dashed" in n.style else (' stroke-dasharray="2,2"' if "dotted" in n.style else "")
        out.append(f'<g class="node" data-id="{escape(n.id)}" data-kind="{escape(n.kind)}" '
                   f'data-box="{_n(b.x)} {_n(b.y)} {_n(b.w)} {_n(b.h)}"'
                   + (f' data-status="{escape(n.status)}"' if n.status else "")
                   + f"><title>{escape(n.kind)} {escape(n.name)}</title>")
        out.append(shape_svg(n.shape, b, n.fill, n.border, dash, n.peripheries))
        label_cy = b.cy + (6 if n.shape in ("house", "cylinder") else -6 if n.shape == "invhouse" else 0)
        out.append(_text(n.label, b.cx + (3 if n.shape == "component" else 0), label_cy))
        out.append("</g>")
    out.append("</g></svg>")
    return "\n".join(out) + "\n"


__all__ = ["Box", "Layout", "layout", "layout_svg", "node_size", "shape_svg"]
