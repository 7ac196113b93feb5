"""Where a scope band's label goes in the pure-Python layout: somewhere no edge, node or other band's border passes.

A band's label is drawn in the strip along its top (left to right) or above its first row (top to bottom), where
edges bend on their way into the band: ``random_graph(8, 15)``'s ``long_scope_name`` and ``layered_graph(50)``'s
``s001`` were drawn under the lines of the edges entering them. First the label is moved along its strip to the
first place clear of everything drawn; top to bottom, when the strip has none, it goes into the first row of the
band with room beside its nodes (inside a row edges run only at their own slots, never across) (``spots``). A band
whose label has no such place is laid out again with its label as an item of its own (``label_items``): the first
in its band's first layer, so it takes room inside a layer and is clear by construction (twice at most; then every
band's label is an item). A label keeps clear of the edges' labels too (``edge_notes``), and when room of its own
would make a picture that fits the output area too wide, it is shortened to a free place or drawn over the edges
on a white ground instead (``Squeezed``).

Part of the pure-Python layout (``igniter_nb.notebook.layout``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from igniter_nb.diagnostics.geometry import glyph_width, text_width
from igniter_nb.diagnostics.view import FONT_SIZE, GraphView
from igniter_nb.notebook.layout_time import in_time

if TYPE_CHECKING:
    from igniter_nb.notebook.layout import _Item
    from igniter_nb.notebook.layout_routes import Route
    from igniter_nb.notebook.shapes import Box

LABEL_SIZE = 11  # px, the font of a band's label (picture.py)
INSET = 8.0  # from the band's left side to its label, in the strip
BASELINE = 13.0  # from the band's top to the label's baseline, in the strip
ASCENT, DESCENT = 0.8 * LABEL_SIZE, 0.25 * LABEL_SIZE
CLEAR = 2.0  # px kept free around the label's text
BOX_CLEAR = 6.0  # and between it and a node box beside it (2 px read as part of the node)
ITEM_PAD = 4.0  # inside a label item, left and right of the text
ITEM_HEIGHT = 16.0
BOTTOM = 6.0  # from the band's bottom up to the label's baseline, in a strip kept along the bottom

SHORTEST = 3  # letters kept of a shortened label, at least
EDGE_LABEL_SIZE = 10  # px, the font of an edge's label (picture.py)
HALO = 1.5  # px, the white outline drawn around an edge's label (half its stroke width)

Spot = tuple[float, float]  # where the label's text starts: x, baseline y


def label_width(scope: tuple[str, ...]) -> float:
    """The label's text width: Helvetica's letters, or the average estimate when wider."""
    return text_width_of(scope[-1])


def text_width_of(text: str) -> float:
    """A band label's text width (``label_width``)."""
    return max(glyph_width(text, LABEL_SIZE), text_width(text) * LABEL_SIZE / FONT_SIZE)


def shorten(name: str, room: float) -> str | None:
    """The longest start of ``name`` followed by an ellipsis that fits ``room`` px, or ``None`` when not even
    ``SHORTEST`` letters do (fewer say nothing; a name that short is never shortened)."""
    for k in range(len(name) - 1, SHORTEST - 1, -1):
        text = name[:k].rstrip() + "…"
        if text_width_of(text) <= room:
            return text
    return None


def spots(clusters: dict[tuple[str, ...], Box], boxes: dict[str, Box], routes: dict[tuple[str, str], Route],
          skip: frozenset[tuple[str, ...]] = frozenset(), rows: list[tuple[float, float]] | None = None,
          below: frozenset[tuple[str, ...]] = frozenset(), items: dict[tuple[str, ...], Spot] | None = None,
          notes: list[tuple[float, float, float, float]] | None = None, cut: Squeezed | None = None,
          deadline: float | None = None) -> tuple[dict[tuple[str, ...], Spot], frozenset[tuple[str, ...]]]:
    """Each band's label (but ``skip``'s: items) in its top strip, at the leftmost place no edge, node box or other
    band's border comes within ``CLEAR`` px of, else (top to bottom: ``rows``, each layer's y extent) in the first
    row inside the band with such a place, else (``below``) in the strip kept along the band's bottom, clear of the
    labels placed before (``items``: those drawn in label items) and of the edges' labels (``notes``: x from, x to,
    y from, y to, ``edge_notes``); and the bands with no such place (their label becomes an item).

    Given ``cut`` (the picture fits the output area, and room for the label would make it too wide), a label with
    no such place is shortened to the widest free stretch of its places (an ellipsis, ``shorten``), and failing
    that it goes where only edges pass, drawn over them (``Squeezed``). ``deadline``: as ``layout.layout``'s."""
    lines = [route.polyline(12) for route in routes.values()]
    reach = [(min(x for x, _ in pts), max(x for x, _ in pts), min(y for _, y in pts), max(y for _, y in pts))
             for pts in lines]
    borders = {scope: _outline(b) for scope, b in clusters.items()}
    found: dict[tuple[str, ...], Spot] = {}
    failed: set[tuple[str, ...]] = set()
    # the labels placed so far (and those drawn in items), as (x, x + width, y from, y to): labels never overlap
    drawn = [(x, x + label_width(s), y - ASCENT, y + DESCENT) for s, (x, y) in (items or {}).items()]
    drawn.extend(notes or ())  # an edge's label is drawn over what lies under it (a white halo): never a band's

    def blocked_at(scope: tuple[str, ...], base: float, x0: float, x1: float, edges: bool) -> list[tuple[float, float]]:
        y0, y1 = base - ASCENT - CLEAR, base + DESCENT + CLEAR
        blocked: list[tuple[float, float]] = []
        for pts, (lx, hx, ly, hy) in zip(lines, reach, strict=True):
            if not edges or hy < y0 or ly > y1 or hx < x0 - CLEAR or lx > x1 + CLEAR:
                continue
            blocked.extend(_within(pts, y0, y1))
        for other, segs in borders.items():
            if other == scope:
                continue
            if scope[:len(other)] == other:  # a band it is in: its border
                for seg in segs:
                    blocked.extend(_within(list(seg), y0, y1))
            elif (o := clusters[other]).y < y1 and o.y + o.h > y0:  # another band: all of it (a label inside
                blocked.append((o.x - CLEAR, o.x + o.w + CLEAR))  # a nested band reads as that band's)
        for b in boxes.values():
            if b.y < y1 and b.y + b.h > y0:
                blocked.append((b.x - BOX_CLEAR, b.x + b.w + BOX_CLEAR))
        blocked.extend((a - CLEAR, b + CLEAR) for a, b, top, end in drawn if top < y1 and end > y0)
        return sorted(blocked)

    def put(scope: tuple[str, ...], at: float, base: float, text: str) -> None:
        found[scope] = (round(at, 1), round(base, 1))
        drawn.append((at, at + text_width_of(text), base - ASCENT, base + DESCENT))

    for scope, band in clusters.items():
        if scope in skip:
            continue
        in_time(deadline)
        w = label_width(scope)
        x0, x1 = band.x + INSET, band.x + band.w - INSET
        inside = [(a + b) / 2 + 0.35 * LABEL_SIZE for a, b in rows or () if band.y < a and b < band.y + band.h]
        bases = [band.y + BASELINE, *inside[:1]]
        if scope in below:  # a strip kept along the band's bottom
            bases.append(band.y + band.h - BOTTOM)
        for edges in (True, False) if cut is not None else (True,):
            free: list[tuple[list[tuple[float, float]], float]] = []  # the places tried: what blocks them
            at: tuple[float, float] | None = None
            for base in bases:  # (the first place with room: the others are not looked at)
                free.append((blocked_at(scope, base, x0, x1, edges), base))
                if (a := _first_gap(free[-1][0], x0, x1, w)) is not None:
                    at = (a, base)
                    break
            text: str | None = scope[-1]
            if at is None and cut is not None:  # the widest free stretch, the label shortened to it
                (room, start), base = max(((_widest_gap(blocked, x0, x1), base) for blocked, base in free),
                                          key=lambda g: g[0][0])
                text, at = shorten(scope[-1], room), (start, base)
            if at is not None and text is not None:
                put(scope, at[0], at[1], text)
                if cut is not None and text != scope[-1]:
                    cut.texts[scope] = text
                if not edges and cut is not None:
                    cut.over.add(scope)
                break
        else:
            failed.add(scope)
    return found, frozenset(failed)


@dataclass(slots=True)
class Squeezed:
    """The band labels drawn without room of their own (``spots`` given ``cut``): shortened, by scope (their full
    name in a tooltip), and those drawn over edges (with a white halo, as an edge's label)."""

    texts: dict[tuple[str, ...], str] = field(default_factory=dict)
    over: set[tuple[str, ...]] = field(default_factory=set)


def edge_notes(view: GraphView, routes: dict[tuple[str, str], Route]) -> list[tuple[float, float, float, float]]:
    """The text box of each edge's label (x from, x to, y from, y to), its white halo included: as ``picture.py``
    draws it, centred on the route's label anchor, its baseline 4 px above."""
    found = []
    for e in view.edges:
        route = routes.get((e.tail, e.head))
        if not e.label or route is None:
            continue
        x, y = route.label_at
        w = max(glyph_width(e.label, EDGE_LABEL_SIZE), text_width(e.label) * EDGE_LABEL_SIZE / FONT_SIZE)
        base = y - 4
        found.append((x - w / 2 - HALO, x + w / 2 + HALO, base - 0.8 * EDGE_LABEL_SIZE - HALO,
                      base + 0.25 * EDGE_LABEL_SIZE + HALO))
    return found


def _outline(b: Box) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    corners = [(b.x, b.y), (b.x + b.w, b.y), (b.x + b.w, b.y + b.h), (b.x, b.y + b.h)]
    return [(corners[k], corners[(k + 1) % 4]) for k in range(4)]


def _within(pts: list[tuple[float, float]], y0: float, y1: float) -> list[tuple[float, float]]:
    """The x extents (widened by ``CLEAR``) of the pieces of the polyline ``pts`` between ``y0`` and ``y1``."""
    out = []
    for (ax, ay), (bx, by) in itertools.pairwise(pts):
        lo, hi = min(ay, by), max(ay, by)
        if hi < y0 or lo > y1:
            continue
        if hi - lo < 1e-9:
            xs = [ax, bx]
        else:  # clip the piece to the strip
            t0 = max(0.0, min(1.0, (y0 - ay) / (by - ay)))
            t1 = max(0.0, min(1.0, (y1 - ay) / (by - ay)))
            xs = [ax + (bx - ax) * t0, ax + (bx - ax) * t1]
        out.append((min(xs) - CLEAR, max(xs) + CLEAR))
    return out


def _widest_gap(blocked: list[tuple[float, float]], x0: float, x1: float) -> tuple[float, float]:
    """The longest free stretch between ``x0`` and ``x1`` (its length, where it starts)."""
    best, at = (0.0, x0), x0
    for lo, hi in blocked:
        if lo > at and min(lo, x1) - at > best[0]:
            best = (min(lo, x1) - at, at)
        at = max(at, hi)
        if at >= x1:
            break
    if x1 - at > best[0]:
        best = (x1 - at, at)
    return best


def _first_gap(blocked: list[tuple[float, float]], x0: float, x1: float, w: float) -> float | None:
    at = x0
    for lo, hi in blocked:
        if hi <= at:
            continue
        if lo >= at + w:
            break
        at = hi
    return at if at + w <= x1 + 1e-9 else None


def label_items(items: list[_Item], across: bool, scopes: frozenset[tuple[str, ...]], gap: float
                ) -> dict[tuple[str, ...], _Item]:
    """An item for the label of each band of ``scopes``, in the band's own scope, as wide as its text (top to
    bottom: across the row; left to right: along the column, one line high). It goes first in the layer of the
    band's own nodes where it widens the drawing least (top to bottom the band is as wide as its widest row of own
    nodes: a short row takes the label for nothing), the earliest of those; a band with no own node: its first."""
    from igniter_nb.notebook.layout import _Item

    first: dict[tuple[str, ...], int] = {}
    own: dict[tuple[str, ...], dict[int, float]] = {}  # a scope's own items across each layer, gaps included
    column: dict[int, float] = {}  # each layer along its axis (its widest item)
    for it in items:
        column[it.layer] = max(column.get(it.layer, 0.0), it.main_size)
        for k in range(1, len(it.scope) + 1):
            scope = it.scope[:k]
            if scope not in first or it.layer < first[scope]:
                first[scope] = it.layer
        if it.scope in scopes:
            row = own.setdefault(it.scope, {})
            row[it.layer] = row.get(it.layer, -gap) + it.cross_size + gap
    made: dict[tuple[str, ...], _Item] = {}
    for scope in sorted(scopes):
        if scope not in first:
            continue
        w = round(label_width(scope) + 2 * ITEM_PAD, 1)
        main, cross = (ITEM_HEIGHT, w) if across else (w, ITEM_HEIGHT)
        rows = own.get(scope, {})
        widest = max(rows.values(), default=0.0)

        def cost(layer: int, rows: dict[int, float] = rows, widest: float = widest,
                 main: float = main, cross: float = cross) -> tuple[float, float, int]:
            wider = max(0.0, rows[layer] + gap + cross - widest)  # across the band
            longer = max(0.0, main - column[layer])  # along the layer
            return (wider, longer, layer) if across else (longer, wider, layer)

        layer = min(rows, key=cost) if rows else first[scope]
        made[scope] = _Item("\x01" + ".".join(scope), layer, scope, main, cross, label=True)
    return made


def item_spot(it: _Item, across: bool) -> Spot:
    """Where the text of a label item starts (x, baseline y), in drawing coordinates."""
    x, y = (it.cross, it.main) if across else (it.main, it.cross)
    return (round(x + ITEM_PAD, 1), round(y + ITEM_HEIGHT / 2 + 0.35 * LABEL_SIZE, 1))


__all__ = ["Squeezed", "edge_notes", "label_items", "spots"]
