"""A pure-Python layered layout for graph views, used when Graphviz ``dot`` is not installed.

Left to right or top to bottom (without one given, the one whose drawing fits the output area: ``layout``), like
the ``dot`` rendering: layers by longest path, long edges split into one dummy slot per layer they cross (the
long edges of one tail share their slots while they run together, like dot's ``concentrate``), order within a
layer by barycentric sweeps (fewer crossings), scopes as bands that never overlap, each node as near as its band
allows to its predecessors.

Edges never pass through a node box they do not start or end at. Each layer is a *column* (a row when top to
bottom) and the space between columns holds no node, so an edge runs straight along the layer axis inside a
column only at its own slot — its end node's port, or a dummy slot reserved for it — and bends only in the gaps
(a Bézier whose control points stay in the gap). Edges that go backwards (a "waits for" edge, a cycle between
collapsed scopes) run in the gaps beside their ends and along a lane outside the drawing. The routing lives in
``igniter_nb.notebook.layout_routes`` (``Route`` is re-exported here); this module places the boxes.

Pure computation: no subprocess, no network, deterministic output (sorted inputs, fixed number formatting).
The hot loops (ordering, packing, routing) work on item objects and indices rather than name lookups: a
300-node graph drawn in full has thousands of slots (B7: its repr within 0.3 s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from igniter_nb.diagnostics.geometry import (
    FIT_WIDTH,
    LAYER_GAP,
    NODE_GAP,
    assign_layers,
    choose_direction,
    glyph_width,
    node_size,
    text_width,
)
from igniter_nb.diagnostics.view import FONT_SIZE, GraphView
from igniter_nb.notebook.layout_bands import BAND_LABEL, BAND_PAD, SLOT_GAP, _place_cross, band_reach
from igniter_nb.notebook.layout_labels import Squeezed, edge_notes, item_spot, label_items, spots
from igniter_nb.notebook.layout_order import _order
from igniter_nb.notebook.layout_routes import Route, _routes, _to_box
from igniter_nb.notebook.layout_stack import later_bands, stack_edges
from igniter_nb.notebook.layout_time import LayoutTimeout, in_time
from igniter_nb.notebook.layout_wrap import WRAP_ABOVE, wrap_rows
from igniter_nb.notebook.shapes import Box

MARGIN = 16.0
SLOT = 4.0  # cross size of a dummy slot (an edge passing through a layer)
#: clear room on each side of a bus slot (the edges of a folded layer running together through a later column):
#: the bundle converges onto the slot, and 6 px from a box it read as entering that box
BUS_CLEAR = 12.0
LABEL_FONT = 10  # edge labels
LABEL_PAD = 8.0
LEGEND_MIN_WRAP = 420.0
#: a layer longer than this across (px, nodes and gaps) is folded into several layers (``_fold``)
FOLD_AT = {"LR": 1200.0, "TB": 900.0}
#: a top-to-bottom drawing at most this many times too wide is tried again with its layers packed close (``_fitted``)
COMPACT_TRY = 1.5
#: left to right, folding adds columns only while the drawing stays this wide (the notebook output area is ~970 px)
FOLD_WIDTH = 900.0
#: top to bottom, a too-wide drawing with folded rows is drawn again with shorter rows, not shorter than this
FOLD_MIN = 300.0
#: top to bottom, at least this much of the gap between rows is left clear of bands' pads and label strips
BAND_ROOM = 4.0
#: left to right, a folded layer whose columns stay taller than this within ``FOLD_WIDTH`` is folded into columns
#: as short as a drawing ``WRAP_ABOVE`` wide allows (``_tall_parts``; drawn smaller by ``render.fit_size``)
TALL_COLUMN = 2 * FOLD_AT["LR"]


@dataclass(slots=True)
class Layout:
    """Node boxes by id, cluster rectangles by scope path, edge routes by (tail, head), the canvas size."""

    boxes: dict[str, Box]
    clusters: dict[tuple[str, ...], Box]
    width: float
    height: float
    layers: dict[str, int] = field(default_factory=dict)
    routes: dict[tuple[str, str], Route] = field(default_factory=dict)
    direction: str = "LR"
    legend_wrap: float = 940.0
    folded: bool = False  # a long layer was folded
    fold_at: float = 0.0  # the fold limit it was drawn with (``_fold``)
    fold_row: float = 0.0  # the longest folded row (column) across, nodes and gaps
    #: where each band's label text starts (x, baseline y): clear of every edge (``layout_labels``)
    band_labels: dict[tuple[str, ...], tuple[float, float]] = field(default_factory=dict)
    #: the labels drawn without room of their own: shortened, or over edges (``layout_labels.spots``)
    squeezed: Squeezed = field(default_factory=Squeezed)
    #: left to right: each column's extent along x, (start, end) (``layout_wrap`` cuts between them)
    columns: list[tuple[float, float]] = field(default_factory=list)
    #: a band split by a wrap into rows: its pieces after the first (``layout_wrap``)
    continued: dict[tuple[str, ...], list[Box]] = field(default_factory=dict)
    continued_labels: dict[tuple[str, ...], list[tuple[float, float]]] = field(default_factory=dict)  # their labels
    rows: int = 1  # the rows a left-to-right drawing is wrapped into (``layout_wrap``)


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
    index: int = 0  # in the item list (the ordering works on indices)
    preds: list[_Item] = field(default_factory=list)  # the items of the layer before linked to this one
    placed: bool = False
    label: bool = False  # a band's label, given room of its own (``layout_labels.label_items``)

    @property
    def centre(self) -> float:
        return self.cross + self.cross_size / 2


def layout(view: GraphView, *, direction: str | None = None, deadline: float | None = None, wrap: bool = True
           ) -> Layout:
    """Place every node of ``view`` and route every edge (see the module docstring). Without ``direction`` (nor
    ``view.direction``) the direction is judged on the drawing itself, folds included: the estimated direction
    first (``choose_direction``), and when its drawing is wider than ``FIT_WIDTH`` the other one too, kept when it
    fits or is narrower. 60 awaits with long names were drawn 1,436 px wide left to right (the estimate did not
    know the layer folds into rows top to bottom, 887 px). With ``deadline`` (``time.monotonic()`` seconds) it
    raises ``LayoutTimeout`` once that has passed, checked between and inside its costly steps (``engine="auto"``
    bounds it by ``IGNITER_NB_DOT_TIMEOUT``, as ``dot``). With ``wrap``, a picture still wider than
    ``layout_wrap.WRAP_ABOVE`` (too wide to be drawn 940 px wide at 0.7 of its size) is drawn left to right in rows
    (``layout_wrap``) when that is narrower: left to right when asked for, or chosen without a direction."""
    chosen = direction or view.direction
    if chosen not in (None, "LR", "TB"):
        raise ValueError(f"direction must be 'LR', 'TB' or None, got {chosen!r}")
    if chosen:
        drawn = _fitted(view, chosen, deadline)
        return _wrapped(view, drawn, deadline) if wrap and chosen == "LR" else drawn
    first = choose_direction(view)
    drawn = _fitted(view, first, deadline)
    if drawn.width <= FIT_WIDTH:
        return drawn
    other = _fitted(view, "TB" if first == "LR" else "LR", deadline)
    kept = other if other.width <= FIT_WIDTH or other.width < drawn.width else drawn
    if not wrap or kept.width <= WRAP_ABOVE:
        return kept
    across = drawn if drawn.direction == "LR" else other  # neither fits legibly: left to right in rows may
    rows = _wrapped(view, across, deadline)
    return rows if rows.width < kept.width else kept


def _wrapped(view: GraphView, drawn: Layout, deadline: float | None) -> Layout:
    """``drawn`` (left to right) in rows when it is wider than ``WRAP_ABOVE`` and the rows are narrower."""
    if drawn.width <= WRAP_ABOVE:
        return drawn
    in_time(deadline)
    rows = wrap_rows(view, drawn)
    return rows if rows is not None and rows.width < drawn.width else drawn


def _fitted(view: GraphView, direction: str, deadline: float | None = None) -> Layout:
    """The drawing in ``direction``; top to bottom, when it is wider than ``FIT_WIDTH``: with folded rows, drawn
    again with rows shorter by the excess (``_refolded``: the bus slots of a folded layer's consumers widen every
    row after the first, so 160 inputs feeding two computes were drawn 969 px wide), and, when it has scope bands
    (and is too wide by at most half: the packing gains 10–20 %, a picture three times too wide is not drawn twice
    more), with the layers beside bands packed close (``compact``: the bands come nearer), then, still too wide (by
    at most half), with sibling bands stacked one below the other where no path leads back (``layout_stack``), and then
    with each band's nodes as late as they may go too; the narrowest is kept. Left to right the bands stack down,
    and the width is the columns': neither changes it."""
    drawn = _layout(view, direction, deadline=deadline)
    if drawn.width <= FIT_WIDTH or direction != "TB":
        return drawn
    if drawn.folded:
        drawn = _refolded(view, drawn, deadline)
    if not view.clusters:
        return drawn
    if drawn.width <= COMPACT_TRY * FIT_WIDTH:
        close = _layout(view, direction, compact=True, fold_at=drawn.fold_at, deadline=deadline)
        drawn = close if close.width < drawn.width else drawn
    if not FIT_WIDTH < drawn.width <= COMPACT_TRY * FIT_WIDTH:
        return drawn
    for late in (False, True):  # stacked, then with each band's nodes as late as they may go (``later_bands``)
        again = _layout(view, direction, fold_at=drawn.fold_at, deadline=deadline, stacked=True, late=late)
        drawn = again if again.width < drawn.width else drawn
        if drawn.width <= FIT_WIDTH:
            break
    return drawn


def _refolded(view: GraphView, drawn: Layout, deadline: float | None = None) -> Layout:
    """A top-to-bottom drawing with folded rows, too wide: drawn again (three times at most) with every folded row
    shorter than the longest one by what the picture is too wide, down to ``FOLD_MIN``; the narrowest drawing is
    kept (the first when none is narrower: the excess was not the rows')."""
    best = drawn
    for _ in range(3):
        if best.width <= FIT_WIDTH:
            break
        fold_at = round(best.fold_row - (best.width - FIT_WIDTH) - 0.1, 1)
        if fold_at < FOLD_MIN:
            break
        again = _layout(view, "TB", fold_at=fold_at, deadline=deadline)
        if again.width >= best.width:
            break
        best = again
    return best


def folds(view: GraphView) -> bool:
    """Whether the pure-Python layout folds a layer of ``view`` in either direction (a long layer: then its picture
    may be many times shorter, or narrower, than ``dot``'s, which does not fold). Cheap: layers and sizes only."""
    ids = [n.id for n in view.nodes]
    layer = assign_layers(ids, view.edges)
    sizes = {n.id: node_size(n) for n in view.nodes}
    return any(_fold(ids, layer, sizes, d)[1] for d in ("LR", "TB"))


def _layout(view: GraphView, direction: str, compact: bool = False, fold_at: float | None = None,
            labelled: frozenset[tuple[str, ...]] = frozenset(), attempt: int = 0,
            below: frozenset[tuple[str, ...]] = frozenset(), *, deadline: float | None = None,
            stacked: bool = False, late: bool = False) -> Layout:
    """The drawing in ``direction``. Each band's label goes where no edge, node box, other band or label passes:
    its top strip, else top to bottom its first row (``layout_labels.spots``); top to bottom the bands with no such
    place are drawn again with a strip along their bottom (``below``), and the bands still without one again with
    their label as an item of its own (``labelled``, ``layout_labels.label_items``) — twice; the fourth time
    round every band's label is an item, and a fifth drawing is not made. When the drawing made again is wider than
    ``FIT_WIDTH`` and this one is not, this one is kept, each label with no place shortened to the widest free
    one, or drawn over the edges (``layout_labels.Squeezed``): room for a label never makes a fitting picture too
    wide."""
    across = direction == "TB"  # layers go down; the cross axis is x
    nodes = {n.id: n for n in view.nodes}
    ids = [n.id for n in view.nodes]
    forward = [e for e in view.edges if not e.wait and e.tail in nodes and e.head in nodes and e.tail != e.head]
    extra = stack_edges(view, forward) if stacked else []
    layer = assign_layers(ids, forward + extra)
    if late:
        layer = later_bands(view, forward + extra, layer)
    sizes = {n.id: node_size(n) for n in view.nodes}
    fold_at = FOLD_AT[direction] if fold_at is None else fold_at
    layer, folded = _fold(ids, layer, sizes, direction, fold_at)
    rows: dict[int, float] = {}
    for i in folded:
        rows[layer[i]] = rows.get(layer[i], 0.0) + (sizes[i][0] if across else sizes[i][1]) + NODE_GAP[direction]
    items: dict[str, _Item] = {}
    for n in view.nodes:
        w, h = sizes[n.id]
        items[n.id] = _Item(n.id, layer[n.id], n.scope, h if across else w, w if across else h)

    # long edges become chains through one dummy slot per layer they cross; the edges of one tail share their
    # slots as far as they run together (one trunk that branches, as dot's "concentrate" draws it: fewer lines
    # to read, and far fewer slots to place in a big graph)
    chains: dict[tuple[str, str], list[_Item]] = {}
    trunks: dict[tuple[str, tuple[str, ...]], list[_Item]] = {}  # a tail's slots in one scope, layer by layer
    # the edges leaving a folded layer share their slots by head instead: they run together into it (a bus)
    inbound: dict[tuple[str, tuple[str, ...]], dict[int, _Item]] = {}
    links: list[tuple[_Item, _Item]] = []
    for e in forward:
        tail, head = items[e.tail], items[e.head]
        if head.layer <= tail.layer:
            continue
        span = head.layer - tail.layer - 1
        if span and e.tail in folded:
            scope = _common(tail.scope, head.scope)
            bus = inbound.setdefault((e.head, scope), {})
            for lv in range(head.layer - 1, tail.layer, -1):  # from the head back: the bus grows at its far end
                if lv in bus:
                    continue
                did = f"\x00{len(items)}"
                slot = bus[lv] = items[did] = _Item(did, lv, scope, 0.0, SLOT + 2 * BUS_CLEAR, dummy=True)
                after = bus.get(lv + 1, head)
                links.append((slot, after))
                after.preds.append(slot)
            chain = [tail, *(bus[lv] for lv in range(tail.layer + 1, head.layer)), head]
            links.append((tail, chain[1]))
            chain[1].preds.append(tail)
            chains[(e.tail, e.head)] = chain
            continue
        if span:
            scope = _common(tail.scope, head.scope)  # the passage runs in the scope of both ends
            trunk = trunks.setdefault((e.tail, scope), [])
            while len(trunk) < span:  # new slots, each linked once to the one before
                did = f"\x00{len(items)}"
                slot = items[did] = _Item(did, tail.layer + 1 + len(trunk), scope, 0.0, SLOT, dummy=True)
                before = trunk[-1] if trunk else tail
                links.append((before, slot))
                slot.preds.append(before)
                trunk.append(slot)
            chain = [tail, *trunk[:span], head]
        else:
            chain = [tail, head]
        links.append((chain[-2], head))
        head.preds.append(chain[-2])
        chains[(e.tail, e.head)] = chain
    every = list(items.values())
    for k, it in enumerate(every):
        it.index = k
    in_time(deadline)
    pos = _order(every, links, frozenset(items[i].index for i in folded), deadline)
    marks = label_items(every, across, labelled, NODE_GAP[direction]) if labelled else {}
    for mark in marks.values():  # first in its layer, within its band
        mark.index = len(pos)
        pos.append(-1.0)
    placed = [*every, *marks.values()]

    # main axis: one column per layer, as deep as its deepest node
    n_layers = max((it.layer for it in every), default=-1) + 1
    depth = max((len(s) for s in view.clusters), default=0)
    col_size = [0.0] * n_layers
    for it in placed:
        if it.main_size > col_size[it.layer]:
            col_size[it.layer] = it.main_size
    # the gap before each column: wide enough, left to right, for the labels of the edges entering it
    gaps = [LAYER_GAP[direction]] * n_layers
    if not across:
        for e in forward:
            if e.label and (e.tail, e.head) in chains:
                lv = items[e.head].layer
                gaps[lv] = max(gaps[lv], text_width(e.label) * LABEL_FONT / FONT_SIZE + 2 * LABEL_PAD)
    if across:  # room in the gap for the bands starting below it (their pads and label strips) and ending above
        _band_gaps(placed, gaps, labelled, below)
    strips = max((len(s) for s in view.clusters if s not in labelled), default=0)  # nested label strips
    main_start = MARGIN + depth * BAND_PAD + (strips * BAND_LABEL if across else 0.0)
    col_at: list[float] = []
    m = main_start
    for lv, size in enumerate(col_size):
        m += gaps[lv] if lv else 0.0
        col_at.append(m)
        m += size
    for it in placed:
        it.main = col_at[it.layer] + (col_size[it.layer] - it.main_size) / 2
    if not across:  # a label reads from its band's left
        for mark in marks.values():
            mark.main = col_at[mark.layer]

    clusters = _place_cross(view, placed, pos, direction, MARGIN, compact, labelled, below, deadline)
    # ``main_start`` left room for the deepest nesting of band labels before the first column; give back what
    # the bands did not use (nested scopes that start further in would otherwise leave a blank strip on top)
    unused = min([b.x for b in clusters.values()] + [it.main for it in placed]) - MARGIN
    if clusters and unused > 0.05:
        col_at = [at - unused for at in col_at]
        for it in placed:
            it.main -= unused
        clusters = {s: Box(round(b.x - unused, 1), b.y, b.w, b.h) for s, b in clusters.items()}
    buses = frozenset(key for key in chains if key[0] in folded)
    routes = _routes(view, nodes, items, chains, col_at, col_size, gaps, direction, buses, deadline)

    boxes = {i: _to_box(items[i], across) for i in ids}
    cluster_boxes = {s: (Box(b.y, b.x, b.h, b.w) if across else b) for s, b in clusters.items()}
    right = max([b.x + b.w for b in (*boxes.values(), *cluster_boxes.values())] or [0.0])
    bottom = max([b.y + b.h for b in (*boxes.values(), *cluster_boxes.values())] or [0.0])
    # a forward route runs between its ends' boxes and through its slots' centres (a curve stays inside the
    # hull of its points); a backward route runs along a lane outside
    for it in every:
        if it.dummy:
            if across:
                right = max(right, it.cross + it.cross_size / 2)
            else:
                bottom = max(bottom, it.cross + it.cross_size / 2)
    for key, r in routes.items():
        if key not in chains:
            for _, pts in r.segments:
                for x, y in pts:
                    right, bottom = max(right, x), max(bottom, y)
    for e in view.edges:  # labels are centred on their anchor
        if e.label and (e.tail, e.head) in routes:
            lx, ly = routes[(e.tail, e.head)].label_at
            right = max(right, lx + text_width(e.label) * LABEL_FONT / FONT_SIZE / 2 + 4)
            bottom = max(bottom, ly + 4)
    wrap = max(right + MARGIN, LEGEND_MIN_WRAP)
    width = max(right + MARGIN, title_width(view) + 2 * MARGIN, legend_width(view, wrap) + 2 * MARGIN)
    band_labels = {s: item_spot(mark, across) for s, mark in marks.items()}
    cut = Squeezed()  # labels drawn without room of their own (``spots``)
    if len(marks) < len(cluster_boxes):
        extents = [(at, at + size) for at, size in zip(col_at, col_size, strict=True)] if across else None
        notes = edge_notes(view, routes)
        found, failed = spots(cluster_boxes, boxes, routes, labelled, extents, below, band_labels, notes, None,
                              deadline)
        again = None
        if failed and across and not below:  # top to bottom: first a strip along the band's bottom
            again = _layout(view, direction, compact, fold_at, labelled, attempt + 1, failed, deadline=deadline,
                            stacked=stacked, late=late)
        elif failed and attempt < 4:  # (a band holding no item at all has no layer to take its label: bounded)
            more = labelled | failed if attempt < 3 else frozenset(cluster_boxes)
            again = _layout(view, direction, compact, fold_at, more, attempt + 1, below - more, deadline=deadline,
                            stacked=stacked, late=late)
        if again is not None:
            # room for the labels must not make a picture that fits the output area too wide for it: then each
            # label without a place is drawn shortened (an ellipsis, its name in a tooltip) where one is free
            if again.width <= FIT_WIDTH or width > FIT_WIDTH:
                return again
            found, failed = spots(cluster_boxes, boxes, routes, labelled, extents, below, band_labels, notes, cut,
                                  deadline)
            if failed:
                return again
        band_labels.update(found)
    # the title and legend go on top: move the drawing down
    title_h = title_height(view, wrap)
    for b in (*boxes.values(), *cluster_boxes.values()):
        b.y = round(b.y + title_h, 1)
    for r in routes.values():
        r.shift(title_h)
    band_labels = {s: (x, round(y + title_h, 1)) for s, (x, y) in band_labels.items()}
    return Layout(boxes, cluster_boxes, round(width, 1), round(bottom + title_h + MARGIN, 1), layer,
                  routes, direction, wrap, bool(folded), fold_at, max(rows.values(), default=0.0), band_labels, cut,
                  [] if across else [(at, round(at + size, 1)) for at, size in zip(col_at, col_size, strict=True)])


def _band_gaps(placed: list[_Item], gaps: list[float], labelled: frozenset[tuple[str, ...]],
               below: frozenset[tuple[str, ...]]) -> None:
    """Top to bottom, widen the gap before each row to hold the tops of the bands starting in it (each nested band
    starting there its padding and label strip: ``layout_bands.band_reach``) and the bottoms of those ending in the
    row before: else the outer band of a nest starting in one row reached into the row before, and stood aside."""
    first: dict[tuple[str, ...], int] = {}
    last: dict[tuple[str, ...], int] = {}
    for it in placed:
        for k in range(1, len(it.scope) + 1):
            s = it.scope[:k]
            first[s] = min(first.get(s, it.layer), it.layer)
            last[s] = max(last.get(s, it.layer), it.layer)
    above = [0.0] * len(gaps)
    after = [0.0] * len(gaps)
    for it in placed:
        chain = [it.scope[:k] for k in range(1, len(it.scope) + 1)]
        top = sum(band_reach(s, True, labelled) for s in chain if first[s] == it.layer)
        end = sum(BAND_PAD + (BAND_LABEL if s in below else 0.0) for s in chain if last[s] == it.layer)
        above[it.layer] = max(above[it.layer], top)
        after[it.layer] = max(after[it.layer], end)
    for lv in range(1, len(gaps)):
        gaps[lv] = max(gaps[lv], above[lv] + after[lv - 1] + BAND_ROOM)


def _fold(ids: list[str], layer: dict[str, int], sizes: dict[str, tuple[float, float]],
          direction: str, fold_at: float | None = None) -> tuple[dict[str, int], set[str]]:
    """Layers longer across than ``FOLD_AT`` folded into several consecutive layers of about equal length, nodes
    kept in their order (200 inputs of one node made a picture 370 × 11,266 px). Left to right each fold adds a
    column, so a layer folds only into as many as keep the drawing within ``FOLD_WIDTH``. Returns the new layers
    and the nodes in folded layers; a graph with no long layer gets its layers back unchanged. ``fold_at``, when
    given (``_refolded``), is the length the long layers fold to; which layers are long is ``FOLD_AT``'s to say (the
    8 consumers of a folded layer were folded into two rows too, with more buses)."""
    limit_at = FOLD_AT[direction] if fold_at is None else fold_at
    across = direction == "TB"
    gap, step = NODE_GAP[direction], LAYER_GAP[direction]
    by_layer: dict[int, list[str]] = {}
    for i in ids:
        by_layer.setdefault(layer[i], []).append(i)
    # each node's length across its layer with the gap after it (a layer is a row top to bottom, else a column)
    cross = {i: sizes[i][0] + gap if across else sizes[i][1] + gap for i in ids}
    extent = {lv: sum(cross[i] for i in members) for lv, members in by_layer.items()}
    if all(size <= FOLD_AT[direction] for size in extent.values()):
        return layer, set()
    col = {lv: max(sizes[i][1] if across else sizes[i][0] for i in members) for lv, members in by_layer.items()}
    width = sum(col.values()) + step * (len(col) - 1)  # left to right: the drawing's width so far
    tall = {} if across else _tall_parts(extent, col, width, step, limit_at)
    new: dict[str, int] = {}
    folded: set[str] = set()
    offset = 0
    for lv in sorted(by_layer):
        members, length = by_layer[lv], extent[lv]
        parts = math.ceil(length / limit_at) if length > FOLD_AT[direction] else 1  # (a short layer never folds)
        if tall:
            parts = tall.get(lv, 1)
        elif not across:
            parts = max(1, min(parts, 1 + int((FOLD_WIDTH - width) // (col[lv] + step))))
        # in order, into parts of about equal length (10 nodes fold 5 + 5, not 9 + 1), none past the limit
        target = length / parts
        limit = max(limit_at, target)
        part, filled = 0, 0.0
        for i in members:
            if tall:  # each node in the part its middle falls in: never more parts than the width was shared for
                part = min(parts - 1, int((filled + cross[i] / 2) / target))
            elif filled and (filled + cross[i] / 2 > target or filled + cross[i] > limit + 0.05):
                part, filled = part + 1, 0.0
            filled += cross[i]
            new[i] = offset + part
        if part:
            folded.update(members)
            width += part * (col[lv] + step)  # (only read left to right)
        offset += part + 1
    return new, folded


def _tall_parts(extent: dict[int, float], col: dict[int, float], width: float, step: float, limit_at: float
                ) -> dict[int, int]:
    """Left to right, the columns each long layer folds into when folding within ``FOLD_WIDTH`` (each layer in
    turn taking the columns the ones before left, as ``_fold`` does) leaves a column taller than ``TALL_COLUMN``;
    else ``{}`` (the drawing as it was). Then every long layer folds into columns at most ``h`` tall, ``h`` the
    shortest (not below ``limit_at``) whose drawing stays ``WRAP_ABOVE`` wide — wide enough to be shown 940 px wide
    with its text at 0.7 of its size — and the long layers share the width: 200 inputs with 34-letter names were one
    column 11,266 px tall (no fold column fitted in ``FOLD_WIDTH``), a picture 586 px wide; 100 two-node pipelines
    two columns each, 5,666 px tall."""
    long = sorted(lv for lv, size in extent.items() if size > FOLD_AT["LR"])
    used, tallest = width, 0.0
    for lv in long:  # the columns ``_fold`` gives within ``FOLD_WIDTH``
        parts = max(1, min(math.ceil(extent[lv] / limit_at), 1 + int((FOLD_WIDTH - used) // (col[lv] + step))))
        used += (parts - 1) * (col[lv] + step)
        tallest = max(tallest, extent[lv] / parts)
    if tallest <= TALL_COLUMN:
        return {}

    def parts_at(h: float) -> dict[int, int]:
        return {lv: max(1, math.ceil(extent[lv] / h - 1e-9)) for lv in long}

    def wide(parts: dict[int, int]) -> float:
        return width + sum((parts[lv] - 1) * (col[lv] + step) for lv in long)

    budget = WRAP_ABOVE - 2 * MARGIN  # (the drawing's margins)
    lo, hi = limit_at, max(extent[lv] for lv in long)  # (one column each: the drawing as wide as unfolded)
    if wide(parts_at(lo)) <= budget:
        hi = lo
    for _ in range(30):  # bisection on the height: fewer columns as it grows
        if hi - lo < 1.0:
            break
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if wide(parts_at(mid)) <= budget else (mid, hi)
    found = parts_at(hi)
    return found if max(extent[lv] / found[lv] for lv in long) < tallest else {}


def _common(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    k = 0
    while k < min(len(a), len(b)) and a[k] == b[k]:
        k += 1
    return a[:k]


def title_height(view: GraphView, wrap: float) -> float:
    from igniter_nb.notebook.picture import legend_rows

    return len(view.title) * 18 + len(legend_rows(view, wrap)) * 22 + 8


def legend_width(view: GraphView, wrap: float) -> float:
    from igniter_nb.notebook.picture import legend_rows, row_width

    return max((row_width(row) for row in legend_rows(view, wrap)), default=0.0)


def title_width(view: GraphView) -> float:
    """The widest title line (the first 14 px bold, the others 12 px): the average estimate, or the letters' own
    widths when wider, so a title of wide letters (a 200-character ``GGGG…`` graph name) is not cut at the edge."""
    return max((max(text_width(t) * (1.25 if k == 0 else 1.05), glyph_width(t, 14 if k == 0 else 12, bold=k == 0))
                for k, t in enumerate(view.title)), default=0.0)


__all__ = ["BAND_LABEL", "BAND_PAD", "SLOT_GAP", "Box", "Layout", "LayoutTimeout", "Route", "in_time", "layout",
           "node_size"]
