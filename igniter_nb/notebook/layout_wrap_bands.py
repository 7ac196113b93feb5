"""The pieces of a band split by a wrap into rows (``layout_wrap``), each only as tall as what it holds in its row.

A band crossing a cut was drawn once per row with the band's whole height: a piece holding one node of a band
whose other nodes sit in another row stood as tall as the whole band, blank but for that node, and its row with it.
Each piece now reaches from the top of what it holds in its row (its nodes, its nested pieces, its label, the edges
between its own nodes within the row and their labels), less its padding and the strip for its label, to their bottom plus its
padding; never past the band's own rectangle. Only the piece's top and bottom edges move, inward, so a piece holds
what it held in its row and nothing more; an edge running level close to where a new edge would be pushes that edge
past it, so that no edge runs along a band's border. Pure computation, deterministic.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from igniter_nb.diagnostics.geometry import text_width
from igniter_nb.diagnostics.view import FONT_SIZE
from igniter_nb.notebook.layout_bands import BAND_LABEL, BAND_PAD
from igniter_nb.notebook.layout_labels import edge_notes, spots
from igniter_nb.notebook.shapes import Box, Point

if TYPE_CHECKING:
    from igniter_nb.notebook.layout_routes import Route
    from igniter_nb.notebook.layout_wrap import _Wrap

CLEAR = BAND_PAD  # an edge running level within this of a piece's new border pushes the border this far past it
FAR = 10_000.0  # (a wrap's lane beyond the row's end: further than any row reaches)
LABEL_UP, LABEL_DOWN = 14.0, 4.0  # a label's extent above and below its baseline
LABEL_FONT = 10  # (as ``layout_wrap``'s)
EPS = 0.05

Scope = tuple[str, ...]
Edge = tuple[Scope, Scope]  # the scopes of an edge's tail and head


def _under(scope: Scope, inner: Scope) -> bool:
    return inner[:len(scope)] == scope


def fit_pieces(pieces: dict[Scope, list[tuple[int, Box]]], nodes: list[tuple[Scope, int, Box]],
               runs: list[tuple[int, Edge, tuple[Point, ...]]], notes: list[tuple[int, Edge, Point, float]],
               band_labels: dict[Scope, tuple[int, Point]]) -> tuple[dict[Scope, list[tuple[int, Box]]], set[Scope]]:
    """The pieces of every band split into rows, each cut to what it holds in its row (drawing coordinates).

    ``nodes``: (scope, row, box); ``runs``: the points of each edge's runs within a row (row, scopes, points);
    ``notes``: edge labels (row, scopes, anchor, half width); ``band_labels``: each band's label (row, baseline
    start). A band drawn in one row is left as it is. Also returns the bands whose label, in the strip along the top
    of the band, is to be placed anew in the strip along the top of its piece (``layout_labels.spots``)."""
    out = {scope: list(found) for scope, found in pieces.items()}
    relabel: set[Scope] = set()
    for scope in sorted(pieces, key=lambda s: (-len(s), s)):  # nested pieces first: their parents hold them
        if len(pieces[scope]) < 2:
            continue
        fitted = []
        for r, box in out[scope]:
            x0, x1 = box.x, box.x + box.w

            def within(x: float, x0: float = x0, x1: float = x1) -> bool:
                return x0 <= x <= x1

            tops: list[float] = []
            bottoms: list[float] = []
            for s, row, b in nodes:
                if row == r and _under(scope, s):
                    tops.append(b.y - BAND_PAD - BAND_LABEL)
                    bottoms.append(b.y + b.h + BAND_PAD)
            for s, found in out.items():
                if len(s) > len(scope) and _under(scope, s):
                    for row, b in found:
                        if row == r and x0 - EPS <= b.x and b.x + b.w <= x1 + EPS:  # (float sums: 254.6 ≠ 254.60…02)
                            tops.append(b.y - BAND_PAD - BAND_LABEL)
                            bottoms.append(b.y + b.h + BAND_PAD)
            if not tops:  # (a piece holding nothing: none is made, but keep it whole rather than guess)
                fitted.append((r, box))
                continue
            spot = band_labels.get(scope)
            in_strip = bool(spot and spot[0] == r and spot[1][1] - box.y <= BAND_LABEL)
            if spot and spot[0] == r and not in_strip:  # a label drawn as an item, among what the piece holds
                tops.append(spot[1][1] - LABEL_UP)
                bottoms.append(spot[1][1] + LABEL_DOWN)
            for row, (tail, head), pts in runs:
                if row == r and _under(scope, tail) and _under(scope, head):
                    for x, y in pts:
                        if within(x):
                            tops.append(y - BAND_PAD)
                            bottoms.append(y + BAND_PAD)
            for row, (tail, head), (x, y), _half in notes:
                if row == r and _under(scope, tail) and _under(scope, head) and within(x):
                    tops.append(y - LABEL_UP - BAND_PAD)
                    bottoms.append(y + LABEL_DOWN + BAND_PAD)
            top, bottom = max(box.y, min(tops)), min(box.y + box.h, max(bottoms))
            top, bottom = _clear(top, bottom, box, r, runs)
            if in_strip and top > box.y + 0.05:  # its label in the strip it had: placed anew in the piece's strip
                relabel.add(scope)
            fitted.append((r, Box(box.x, round(top, 1), box.w, round(bottom - top, 1))))
        out[scope] = fitted
    return out, relabel


def _clear(top: float, bottom: float, box: Box, r: int, runs: list[tuple[int, Edge, tuple[Point, ...]]]
           ) -> tuple[float, float]:
    """``top`` and ``bottom`` moved outward (never past ``box``) until no level run of an edge in row ``r`` lies
    within ``CLEAR`` of them across the piece."""
    level: list[tuple[float, float, float]] = []  # (y, from x, to x)
    for row, _, pts in runs:
        if row != r:
            continue
        for (xa, ya), (xb, yb) in itertools.pairwise(pts):
            if abs(ya - yb) < 0.5 and min(xa, xb) < box.x + box.w and max(xa, xb) > box.x:
                level.append((ya, min(xa, xb), max(xa, xb)))
    for _ in range(len(level) + 1):
        near_top = [y for y, _, _ in level if abs(y - top) < CLEAR]
        near_bottom = [y for y, _, _ in level if abs(y - bottom) < CLEAR]
        if not near_top and not near_bottom:
            break
        if near_top:
            top = max(box.y, min(near_top) - CLEAR)
        if near_bottom:
            bottom = min(box.y + box.h, max(near_bottom) + CLEAR)
    return top, bottom


def fit_row_pieces(wrap: _Wrap, pieces: dict[Scope, list[tuple[int, Box]]], plans: dict[tuple[str, str], list[tuple]]
                   ) -> tuple[dict[Scope, list[tuple[int, Box]]], set[Scope]]:  # type: ignore[type-arg]
    """``fit_pieces`` for the rows of ``wrap`` (``layout_wrap._Wrap``): what each row holds, read off its plans."""
    if not any(len(found) > 1 for found in pieces.values()):
        return pieces, set()
    lay = wrap.lay
    scope = {node.id: node.scope for node in wrap.view.nodes}
    nodes = [(scope.get(name, ()), wrap.row_of_col[wrap.layer[name]], b) for name, b in sorted(lay.boxes.items())]
    runs: list[tuple[int, Edge, tuple[Point, ...]]] = []
    for key, plan in plans.items():
        # (an edge into another row leaves its tail's piece anyway: it does not hold the piece open)
        wraps = any(step[0] == "wrap" for step in plan)
        ends: Edge = ((), ()) if wraps else (scope.get(key[0], ()), scope.get(key[1], ()))
        route = lay.routes[key]
        row, pts = plan[0][1], [(route.start[0], route.start[1] + route.dy)]
        for step in plan[1:]:
            if step[0] == "seg":
                pts.extend(step[3])
                continue
            # (out of the row to the right, along its lane, and into the next from the left margin, level)
            exit_, entry = step[2], step[3]
            runs.append((row, ends, (*pts, exit_, (exit_[0] + FAR, exit_[1]))))
            row, pts = step[1] + 1, [(entry[0] - FAR, entry[1]), entry]
        runs.append((row, ends, tuple(pts)))
    notes = []
    for key, text in sorted(wrap.labels.items()):
        if key in plans and not wrap._in_gap(lay.routes[key].label_at[0]):
            ax, ay = lay.routes[key].label_at
            half = text_width(text) * LABEL_FONT / FONT_SIZE / 2 + 4
            notes.append((wrap._row_of_x(ax), (scope.get(key[0], ()), scope.get(key[1], ())), (ax, ay), half))
    spots_at = {s: (wrap._row_of_x(x), (x, y)) for s, (x, y) in lay.band_labels.items()}
    return fit_pieces(pieces, nodes, runs, notes, spots_at)


def relabel(wrap: _Wrap, clusters: dict[Scope, Box], continued: dict[Scope, list[Box]], boxes: dict[str, Box],
            routes: dict[tuple[str, str], Route], placed: dict[Scope, Point]) -> dict[Scope, Point]:
    """The labels of the bands whose first piece was cut down (``wrap.relabel``), each in its piece's top strip,
    clear of edges, boxes, other bands and labels (``layout_labels.spots``), else at its top left."""
    if not wrap.relabel:
        return {}
    others = {s: b for s, b in clusters.items() if s not in wrap.relabel}
    others.update({(*(f"{p} (cont.)" for p in s), str(j)): b for s, found in continued.items()
                   for j, b in enumerate(found)})
    mine = {s: clusters[s] for s in sorted(wrap.relabel)}
    kept = {s: p for s, p in placed.items() if s not in wrap.relabel}
    found, _ = spots({**others, **mine}, boxes, routes, frozenset(others), None, frozenset(), kept,
                     edge_notes(wrap.view, routes))
    return {s: found.get(s, (round(b.x + 8, 1), round(b.y + 13, 1))) for s, b in mine.items()}


__all__ = ["fit_pieces", "fit_row_pieces", "relabel"]
