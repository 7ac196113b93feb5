"""A pure-Python layered layout for graph views, used when Graphviz ``dot`` is not installed.

Left to right or top to bottom (``igniter_nb.diagnostics.geometry.choose_direction``), like the ``dot``
rendering: layers by longest path, long edges split into one dummy slot per layer they cross, order within a
layer by barycentric sweeps (fewer crossings), scopes as bands that never overlap, each node as near as its
band allows to its predecessors.

Edges never pass through a node box they do not start or end at. Each layer is a *column* (a row when top to
bottom) and the space between columns holds no node, so an edge runs straight along the layer axis inside a
column only at its own slot — its end node's port, or a dummy slot reserved for it — and bends only in the gaps
(a Bézier whose control points stay in the gap). Edges that go backwards (a "waits for" edge, a cycle between
collapsed scopes) run in the gaps beside their ends and along a lane outside the drawing.

Pure computation: no subprocess, no network, deterministic output (sorted inputs, fixed number formatting).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from igniter_nb.diagnostics.geometry import (
    LAYER_GAP,
    NODE_GAP,
    assign_layers,
    choose_direction,
    node_size,
    text_width,
)
from igniter_nb.diagnostics.view import GraphView, ViewNode
from igniter_nb.notebook.shapes import Box, Point, crossing

BAND_PAD = 10.0
BAND_LABEL = 16.0
MARGIN = 16.0
SLOT = 4.0  # cross size of a dummy slot (an edge passing through a layer)
SLOT_GAP = 6.0
LANE_GAP = 18.0
LANE_STEP = 8.0
LEGEND_MIN_WRAP = 420.0
SWEEPS = 4

Segment = tuple[str, tuple[Point, ...]]  # ("L", (end,)) or ("C", (c1, c2, end))


@dataclass(slots=True)
class Route:
    """An edge's path: a start point and segments (``L`` straight, ``C`` cubic), with a label anchor."""

    start: Point
    segments: list[Segment]
    label_at: Point

    def shift(self, dy: float) -> None:
        """Move the route down by ``dy``."""
        self.start = (self.start[0], self.start[1] + dy)
        self.segments = [(kind, tuple((x, y + dy) for x, y in pts)) for kind, pts in self.segments]
        self.label_at = (self.label_at[0], self.label_at[1] + dy)

    def path(self) -> str:
        from igniter_nb.notebook.shapes import num

        parts = [f"M{num(self.start[0])},{num(self.start[1])}"]
        for kind, pts in self.segments:
            parts.append(kind + " ".join(f"{num(x)},{num(y)}" for x, y in pts))
        return " ".join(parts)

    def polyline(self, steps: int = 12) -> list[Point]:
        """The path as points (curves sampled), for geometric checks."""
        out = [self.start]
        here = self.start
        for kind, pts in self.segments:
            if kind == "L":
                out.append(pts[0])
            else:
                (c1, c2, end) = pts
                for k in range(1, steps + 1):
                    t = k / steps
                    u = 1 - t
                    out.append((u ** 3 * here[0] + 3 * u * u * t * c1[0] + 3 * u * t * t * c2[0] + t ** 3 * end[0],
                                u ** 3 * here[1] + 3 * u * u * t * c1[1] + 3 * u * t * t * c2[1] + t ** 3 * end[1]))
            here = pts[-1]
        return out


@dataclass(slots=True)
class Layout:
    """Node boxes by id, cluster rectangles by scope path, edge routes by (tail, head), the canvas size."""

    boxes: dict[str, Box]
    clusters: dict[tuple[str, ...], Box]
    width: float
    height: float
    title_height: float
    layers: dict[str, int] = field(default_factory=dict)
    routes: dict[tuple[str, str], Route] = field(default_factory=dict)
    direction: str = "LR"
    legend_wrap: float = 940.0


# ----------------------------------------------------------------------------------------------- ordering


def _order(ids: list[str], layer: dict[str, int], links: list[tuple[str, str]]) -> dict[str, float]:
    """Barycentric crossing reduction; returns each node's normalised position (0..1) within its layer."""
    by_layer: dict[int, list[str]] = {}
    for i in ids:
        by_layer.setdefault(layer[i], []).append(i)
    preds: dict[str, list[str]] = {i: [] for i in ids}
    succs: dict[str, list[str]] = {i: [] for i in ids}
    for tail, head in links:
        preds[head].append(tail)
        succs[tail].append(head)
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

    for _ in range(SWEEPS if len(ids) <= 2000 else 2):  # a very long or dense graph: fewer, costly sweeps
        sweep(levels[1:], preds)
        sweep(levels[-2::-1], succs)
    return pos


# ----------------------------------------------------------------------------------------------- geometry


@dataclass(slots=True)
class _Item:
    """A node or a dummy slot, in layer-axis (``main``) and cross-axis coordinates."""

    id: str
    layer: int
    scope: tuple[str, ...]
    main_size: float
    cross_size: float
    dummy: bool = False
    main: float = 0.0
    cross: float = 0.0

    @property
    def centre(self) -> float:
        return self.cross + self.cross_size / 2


def layout(view: GraphView, *, direction: str | None = None) -> Layout:
    """Place every node of ``view`` and route every edge (see the module docstring)."""
    direction = direction or choose_direction(view)
    across = direction == "TB"  # layers go down; the cross axis is x
    nodes = {n.id: n for n in view.nodes}
    ids = [n.id for n in view.nodes]
    forward = [e for e in view.edges if not e.wait and e.tail in nodes and e.head in nodes and e.tail != e.head]
    layer = assign_layers(ids, forward)
    items: dict[str, _Item] = {}
    for n in view.nodes:
        w, h = node_size(n)
        items[n.id] = _Item(n.id, layer[n.id], n.scope, h if across else w, w if across else h)

    # long edges become chains through one dummy slot per layer they cross
    chains: dict[tuple[str, str], list[str]] = {}
    links: list[tuple[str, str]] = []
    for e in forward:
        lt, lh = layer[e.tail], layer[e.head]
        if lh <= lt:
            continue
        chain = [e.tail]
        scope = _common(nodes[e.tail].scope, nodes[e.head].scope)  # the passage runs in the scope of both ends
        for lv in range(lt + 1, lh):
            did = f"{e.tail}\x00{e.head}\x00{lv}"
            items[did] = _Item(did, lv, scope, 0.0, SLOT, dummy=True)
            chain.append(did)
        chain.append(e.head)
        chains[(e.tail, e.head)] = chain
        links.extend(itertools.pairwise(chain))
    all_ids = list(items)
    pos = _order(all_ids, {i: items[i].layer for i in all_ids}, links)

    # main axis: one column per layer, as deep as its deepest node
    n_layers = max((it.layer for it in items.values()), default=-1) + 1
    depth = max((len(s) for s in view.clusters), default=0)
    col_size = [0.0] * n_layers
    for it in items.values():
        col_size[it.layer] = max(col_size[it.layer], it.main_size)
    gap = LAYER_GAP[direction]
    main_start = MARGIN + depth * BAND_PAD + (depth * BAND_LABEL if across else 0.0)
    col_at: list[float] = []
    m = main_start
    for size in col_size:
        col_at.append(m)
        m += size + gap
    for it in items.values():
        it.main = col_at[it.layer] + (col_size[it.layer] - it.main_size) / 2

    clusters = _place_cross(view, items, pos, links, direction, MARGIN)
    routes = _routes(view, nodes, items, chains, col_at, col_size, direction)

    boxes = {i: _to_box(items[i], across) for i in ids}
    cluster_boxes = {s: (Box(b.y, b.x, b.h, b.w) if across else b) for s, b in clusters.items()}
    right = max([b.x + b.w for b in (*boxes.values(), *cluster_boxes.values())] or [0.0])
    bottom = max([b.y + b.h for b in (*boxes.values(), *cluster_boxes.values())] or [0.0])
    for r in routes.values():  # a curve stays inside the hull of its points
        for _, pts in r.segments:
            for x, y in pts:
                right, bottom = max(right, x), max(bottom, y)
    for e in view.edges:  # labels are centred on their anchor
        if e.label and (e.tail, e.head) in routes:
            lx, ly = routes[(e.tail, e.head)].label_at
            right = max(right, lx + text_width(e.label) * 10 / 12 / 2 + 4)
            bottom = max(bottom, ly + 4)
    # the title and legend go on top: wrap the legend to the drawing's width, then move the drawing down
    wrap = max(right + MARGIN, LEGEND_MIN_WRAP)
    title_h = title_height(view, wrap)
    for b in (*boxes.values(), *cluster_boxes.values()):
        b.y = round(b.y + title_h, 1)
    for r in routes.values():
        r.shift(title_h)
    width = max(right + MARGIN, title_width(view) + 2 * MARGIN, legend_width(view, wrap) + 2 * MARGIN)
    return Layout(boxes, cluster_boxes, round(width, 1), round(bottom + title_h + MARGIN, 1), title_h, layer,
                  routes, direction, wrap)


def _common(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    k = 0
    while k < min(len(a), len(b)) and a[k] == b[k]:
        k += 1
    return a[:k]


def _to_box(it: _Item, across: bool) -> Box:
    if across:
        return Box(round(it.cross, 1), round(it.main, 1), it.cross_size, it.main_size)
    return Box(round(it.main, 1), round(it.cross, 1), it.main_size, it.cross_size)


def title_height(view: GraphView, wrap: float) -> float:
    from igniter_nb.notebook.picture import legend_rows

    return len(view.title) * 18 + len(legend_rows(view, wrap)) * 22 + 8


def legend_width(view: GraphView, wrap: float) -> float:
    from igniter_nb.notebook.picture import legend_rows, row_width

    return max((row_width(row) for row in legend_rows(view, wrap)), default=0.0)


def title_width(view: GraphView) -> float:
    return max((text_width(t) * (1.25 if k == 0 else 1.05) for k, t in enumerate(view.title)), default=0.0)


def _place_cross(view: GraphView, items: dict[str, _Item], pos: dict[str, float], links: list[tuple[str, str]],
                 direction: str, start: float) -> dict[tuple[str, ...], Box]:
    """Cross-axis positions: scope bands stacked, inside a band its own nodes first, then its child bands.
    Returns the bands in (main, cross) form: ``Box(main, cross, main size, cross size)``."""
    across = direction == "TB"
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for scope in view.clusters:
        children.setdefault(scope[:-1], []).append(scope)
    members: dict[tuple[str, ...], list[str]] = {}
    for i, it in items.items():
        members.setdefault(it.scope, []).append(i)
    preds: dict[str, list[str]] = {}
    for tail, head in links:
        preds.setdefault(head, []).append(tail)

    within: dict[tuple[str, ...], list[_Item]] = {}  # every item in a scope or below it
    for it in items.values():
        for k in range(1, len(it.scope) + 1):
            within.setdefault(it.scope[:k], []).append(it)

    def mean_pos(scope: tuple[str, ...]) -> float:
        found = [pos[it.id] for it in within.get(scope, ()) if not it.dummy]
        return sum(found) / len(found) if found else 0.0

    for kids in children.values():
        kids.sort(key=lambda s: (mean_pos(s), s))
    placed: set[str] = set()
    bands: dict[tuple[str, ...], Box] = {}
    gap = NODE_GAP[direction]

    def place(scope: tuple[str, ...], top: float) -> float:
        """Place the items of ``scope`` from ``top``; returns the far end."""
        c = top
        own = members.get(scope, [])
        if own:
            per_layer: dict[int, list[str]] = {}
            for i in own:
                per_layer.setdefault(items[i].layer, []).append(i)
            size = max(_column_size([items[i] for i in col], gap) for col in per_layer.values())
            for level in sorted(per_layer):
                col = sorted(per_layer[level], key=lambda i: pos[i])
                _pack([items[i] for i in col], c, c + size, gap, items, preds, placed)
            c += size + gap
        first = c
        far = c
        taken: list[tuple[float, float, float]] = []  # (main from, main to, cross end) of placed sibling bands
        for kid in children.get(scope, []):
            inside = within[kid]
            lo = min(it.main for it in inside) - BAND_PAD - (BAND_LABEL if across else 0.0)
            hi = max(it.main + it.main_size for it in inside) + BAND_PAD
            # a band goes beside the siblings it shares layers with, and level with those it does not
            band_top = max([first, *(end + gap for a, b, end in taken if a < hi + gap and lo < b + gap)])
            label_room = 0.0 if across else BAND_LABEL
            end = place(kid, band_top + label_room + BAND_PAD)
            if across:  # the band's label runs along the cross axis: leave it room
                end = max(end, band_top + text_width(kid[-1]) + 2 * BAND_PAD)
            bands[kid] = Box(lo, band_top, hi - lo, end - band_top)
            taken.append((lo, hi, end + BAND_PAD))
            far = max(far, end + BAND_PAD + gap)
        c = far
        return c - gap + BAND_PAD if (own or children.get(scope)) else top

    place((), start)
    # nested bands: widen parents to cover their children
    for scope in sorted(bands, key=len, reverse=True):
        parent = scope[:-1]
        if parent in bands:
            p, ch = bands[parent], bands[scope]
            lo, hi = min(p.x, ch.x - BAND_PAD), max(p.x + p.w, ch.x + ch.w + BAND_PAD)
            bands[parent] = Box(lo, p.y, hi - lo, max(p.h, ch.y + ch.h + BAND_PAD - p.y))
    return bands


def _column_size(col: list[_Item], gap: float) -> float:
    total = sum(it.cross_size for it in col)
    return total + sum(_gap(a, b, gap) for a, b in itertools.pairwise(col))


def _gap(a: _Item, b: _Item, gap: float) -> float:
    return SLOT_GAP if a.dummy or b.dummy else gap


def _pack(col: list[_Item], top: float, bottom: float, gap: float, items: dict[str, _Item],
          preds: dict[str, list[str]], placed: set[str]) -> None:
    """Stack ``col`` between ``top`` and ``bottom`` in order, each as near as possible to its predecessors."""
    want: list[float] = []
    for it in col:
        near = [items[p].centre for p in preds.get(it.id, ()) if p in placed]
        want.append(sum(near) / len(near) - it.cross_size / 2 if near else top)
    at: list[float] = []
    cursor = top
    for k, (it, w) in enumerate(zip(col, want, strict=True)):
        if k:
            cursor += _gap(col[k - 1], it, gap)
        c = max(w, cursor)
        at.append(c)
        cursor = c + it.cross_size
    limit = bottom
    for k in range(len(col) - 1, -1, -1):
        at[k] = min(at[k], limit - col[k].cross_size)
        if k:
            limit = at[k] - _gap(col[k - 1], col[k], gap)
    for k, it in enumerate(col):
        it.cross = round(max(at[k], top), 1)
        placed.add(it.id)


# ----------------------------------------------------------------------------------------------- routing


def _routes(view: GraphView, nodes: dict[str, ViewNode], items: dict[str, _Item],
            chains: dict[tuple[str, str], list[str]], col_at: list[float], col_size: list[float],
            direction: str) -> dict[tuple[str, str], Route]:
    across = direction == "TB"
    gap = LAYER_GAP[direction]

    def xy(main: float, cross: float) -> Point:
        return (cross, main) if across else (main, cross)

    def col_end(lv: int) -> float:
        return col_at[lv] + col_size[lv]

    # ports: the edges leaving (entering) a node spread along its side, ordered by where they go (come from)
    outs: dict[str, list[tuple[float, tuple[str, str]]]] = {}
    ins: dict[str, list[tuple[float, tuple[str, str]]]] = {}
    for key, chain in chains.items():
        outs.setdefault(chain[0], []).append((items[chain[1]].centre, key))
        ins.setdefault(chain[-1], []).append((items[chain[-2]].centre, key))
    port_out = {key: c for node, found in outs.items() for key, c in _ports(items[node], found)}
    port_in = {key: c for node, found in ins.items() for key, c in _ports(items[node], found)}

    def boundary(node_id: str, cross: float, last: bool) -> float:
        it = items[node_id]
        return crossing(nodes[node_id].shape, _to_box(it, across), cross=cross, horizontal=not across, last=last)

    routes: dict[tuple[str, str], Route] = {}
    for key, chain in chains.items():
        tail, head = chain[0], chain[-1]
        c = port_out[key]
        start = xy(boundary(tail, c, True), c)
        segments: list[Segment] = [("L", (xy(col_end(items[tail].layer), c),))]
        label_at = start
        for k in range(1, len(chain)):
            it = items[chain[k]]
            nc = port_in[key] if k == len(chain) - 1 else it.centre
            m0, m1 = col_end(items[chain[k - 1]].layer), col_at[it.layer]
            mid = (m0 + m1) / 2
            segments.append(("C", (xy(mid, c), xy(mid, nc), xy(m1, nc))))
            label_at = xy(mid, (c + nc) / 2)
            if k == len(chain) - 1:
                segments.append(("L", (xy(boundary(head, nc, False), nc),)))
            else:
                segments.append(("L", (xy(col_end(it.layer), nc),)))
            c = nc
        routes[key] = Route(start, segments, label_at)

    # backward edges (waits for, cycles): out of the tail into the gap, along a lane outside, into the head
    far = max((it.cross + it.cross_size for it in items.values()), default=0.0) + LANE_GAP
    lane = 0
    for e in view.edges:
        key = (e.tail, e.head)
        if key in routes or e.tail not in items or e.head not in items or e.tail == e.head:
            continue
        t, h = items[e.tail], items[e.head]
        back = h.layer <= t.layer
        tm = col_at[t.layer] - gap / 2 if back else col_end(t.layer) + gap / 2
        hm = col_end(h.layer) + gap / 2 if back else col_at[h.layer] - gap / 2
        if back and h.layer == t.layer:
            hm = tm
        lc = far + lane * LANE_STEP
        lane += 1
        start = xy(boundary(e.tail, t.centre, not back), t.centre)
        end = xy(boundary(e.head, h.centre, back), h.centre)
        segments = [("L", (xy(tm, t.centre),)), ("L", (xy(tm, lc),)), ("L", (xy(hm, lc),)),
                    ("L", (xy(hm, h.centre),)), ("L", (end,))]
        routes[key] = Route(start, segments, xy((tm + hm) / 2, lc))
    return routes


def _ports(it: _Item, found: list[tuple[float, tuple[str, str]]]) -> list[tuple[tuple[str, str], float]]:
    found.sort(key=lambda f: (f[0], f[1]))
    n = len(found)
    if n == 1:
        return [(found[0][1], it.centre)]
    span = min(it.cross_size * 0.6, (n - 1) * 10.0)
    first = it.centre - span / 2
    return [(key, first + span * k / (n - 1)) for k, (_, key) in enumerate(found)]


def layout_svg(view: GraphView, *, direction: str | None = None, fit: bool = True) -> str:
    """The view as a standalone SVG document (UTF-8 text); see ``igniter_nb.notebook.picture``."""
    from igniter_nb.notebook.picture import layout_svg as draw

    return draw(view, direction=direction, fit=fit)


__all__ = ["Box", "Layout", "Route", "layout", "layout_svg", "node_size"]
