"""A left-to-right drawing too wide to be shown legibly, wrapped into rows (a "snake" read like text).

A chain of 30 computes drawn left to right was 3,980 px wide; shown in a ~940 px output it was scaled to a quarter,
its 12 px names 3 px tall. ``wrap_rows`` cuts the drawing's columns into rows, each read left to right, one below
the other, with the edges between rows drawn as lines of their own: out of the last column of a row to the right,
down into the gap below it, back along that gap to the left, down and into the next row's first column (as a
line of text continues on the next). The cuts are chosen for the fewest rows, then the fewest edges crossing a cut
and bands split by one (a band crossing a cut is drawn as one rectangle per row, the later ones labelled
``name (cont.)``), each row at most ``FIT_WIDTH`` wide when it can be (the text at full size), else at most
``FIT_WIDTH / MIN_SCALE`` (drawn smaller by ``render.fit_size``, every text at least 0.7 of its size).

The rows are the drawing's own pieces translated: within a row nothing moves relative to anything else, so every
edge inside a row runs as it ran (clear of boxes and labels). Pure computation, deterministic.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from igniter_nb.diagnostics.geometry import FIT_WIDTH, text_width
from igniter_nb.diagnostics.view import FONT_SIZE, GraphView
from igniter_nb.notebook.layout_bands import BAND_PAD
from igniter_nb.notebook.layout_labels import edge_notes, spots
from igniter_nb.notebook.layout_routes import LANE_GAP, LANE_STEP, Route, Segment
from igniter_nb.notebook.layout_wrap_bands import fit_row_pieces, relabel
from igniter_nb.notebook.render import MIN_SCALE
from igniter_nb.notebook.shapes import Box, Point

if TYPE_CHECKING:
    from igniter_nb.notebook.layout import Layout

#: a left-to-right drawing wider than this (it cannot be drawn 940 px wide with its text at least 0.7 of its
#: size) is wrapped into rows; one narrower keeps its single row (drawn smaller by ``render.fit_size``)
WRAP_ABOVE = FIT_WIDTH / MIN_SCALE
ROW_GAP = 30.0  # at least this between two rows
CORNER = 6.0  # radius of the rounded corners of an edge between rows
ROW_COST = 10.0  # a row more costs as much as ten edges crossing a cut (``_cuts``)
SPLIT_COST = 4.0  # a band split by a cut costs as much as four edges crossing it
EPS = 0.05
MARGIN = 16.0
LABEL_FONT = 10
LABEL_PAD = 8.0


def wrap_rows(view: GraphView, lay: Layout) -> Layout | None:
    """``lay`` (left to right) with its columns wrapped into rows that fit the output area, or ``None`` when it
    has a single column, or no cut makes rows at most ``WRAP_ABOVE`` wide."""
    cols = lay.columns
    if lay.direction != "LR" or len(cols) < 2:
        return None
    return _Wrap(view, lay).build()


class _Wrap:
    def __init__(self, view: GraphView, lay: Layout) -> None:
        self.view, self.lay, self.cols = view, lay, lay.columns
        self.layer = lay.layers
        n = len(self.cols)
        waits = {(e.tail, e.head) for e in view.edges if e.wait}
        self.forward = {(t, h) for t, h in lay.routes
                        if (t, h) not in waits and self.layer.get(h, 0) > self.layer.get(t, 0)}
        # each band's columns (the columns its rectangle overlaps)
        self.span: dict[tuple[str, ...], tuple[int, int]] = {}
        for scope, b in lay.clusters.items():
            inside = [k for k, (at, end) in enumerate(self.cols) if at < b.x + b.w and end > b.x]
            if inside:
                self.span[scope] = (inside[0], inside[-1])
        self.crossing = [0] * (n - 1)  # edges crossing the cut after column k
        for tail, head in self.forward:
            for k in range(self.layer[tail], self.layer[head]):
                self.crossing[k] += 1
        self.splits = [sum(1 for a, b in self.span.values() if a <= k < b) for k in range(n - 1)]
        self.labels = {(e.tail, e.head): e.label for e in view.edges if e.label}
        self.relabel: set[tuple[str, ...]] = set()  # bands whose label is placed anew (``layout_wrap_bands``)

    # ------------------------------------------------------------------------------------------ the cuts

    def _clip_pad(self, cut: int, scope: tuple[str, ...]) -> float:
        """How far a band split by the cut after column ``cut`` reaches past it: one pad, and one more for each
        level of its nested bands split there too (the pieces stay nested)."""
        deeper = [len(t) - len(scope) for t, (a, b) in self.span.items()
                  if t[:len(scope)] == scope and a <= cut < b]
        return BAND_PAD * (1 + max(deeper, default=0))

    def _row_width(self, first: int, last: int) -> float:
        cols, n = self.cols, len(self.cols)
        lo, hi = cols[first][0], cols[last][1]
        for scope, (a, b) in self.span.items():
            box = self.lay.clusters[scope]
            if a <= last and b >= first:
                lo = min(lo, box.x if a >= first else cols[first][0] - self._clip_pad(first - 1, scope))
                hi = max(hi, box.x + box.w if b <= last else cols[last][1] + self._clip_pad(last, scope))
        left = MARGIN if first == 0 else MARGIN + self._lanes(self.crossing[first - 1]) + self._label_room(first)
        right = MARGIN if last == n - 1 else MARGIN + self._lanes(self.crossing[last])
        return left + (hi - lo) + right

    @staticmethod
    def _lanes(count: int) -> float:
        return LANE_GAP + max(count - 1, 0) * LANE_STEP if count else 0.0

    def _label_room(self, first: int) -> float:
        """Room before a row's first column for the labels of the edges wrapped into it."""
        widths = [text_width(text) * LABEL_FONT / FONT_SIZE + 2 * LABEL_PAD for (t, h), text in self.labels.items()
                  if (t, h) in self.forward and self.layer[t] < first <= self.layer[h]]
        return max(widths, default=0.0)

    def _cuts(self) -> list[tuple[int, int]] | None:
        """The rows (first, last column): the fewest, then the fewest edges crossing a cut and bands split by one,
        then the narrowest widest row; each row at most ``FIT_WIDTH`` wide, else at most ``WRAP_ABOVE``."""
        n = len(self.cols)
        for limit in (float(FIT_WIDTH), WRAP_ABOVE):
            best: list[tuple[float, float, int] | None] = [None] * (n + 1)  # (cost, widest, previous end)
            best[0] = (0.0, 0.0, -1)
            for j in range(1, n + 1):
                for i in range(j - 1, -1, -1):
                    if best[i] is None:
                        continue
                    width = self._row_width(i, j - 1)
                    if width > limit:
                        if self.cols[j - 1][1] - self.cols[i][0] > limit:
                            break  # a row from further back is wider still
                        continue
                    prev = best[i]
                    assert prev is not None
                    cut = (self.crossing[i - 1] + SPLIT_COST * self.splits[i - 1]) if i else 0.0
                    found = (prev[0] + ROW_COST + cut, max(prev[1], width), i)
                    if best[j] is None or found[:2] < best[j][:2]:  # type: ignore[index]
                        best[j] = found
            if best[n] is not None:
                rows: list[tuple[int, int]] = []
                j = n
                while j > 0:
                    entry = best[j]
                    assert entry is not None
                    rows.append((entry[2], j - 1))
                    j = entry[2]
                return rows[::-1]
        return None

    # ----------------------------------------------------------------------------------------- the rows

    def build(self) -> Layout | None:
        rows = self._cuts()
        if rows is None or len(rows) < 2:
            return None
        self.rows = rows
        lay, cols = self.lay, self.cols
        self.row_of_col = {c: r for r, (a, b) in enumerate(rows) for c in range(a, b + 1)}
        self.cut_x = [(cols[b][1], cols[rows[r + 1][0]][0]) for r, (_, b) in enumerate(rows[:-1])]
        # the pieces of every band, in drawing coordinates before the move (row, box)
        pieces: dict[tuple[str, ...], list[tuple[int, Box]]] = {}
        for scope, (a, z) in sorted(self.span.items()):
            box = lay.clusters[scope]
            for r, (first, last) in enumerate(rows):
                if a > last or z < first:
                    continue
                x0 = box.x if a >= first else cols[first][0] - self._clip_pad(first - 1, scope)
                x1 = box.x + box.w if z <= last else cols[last][1] + self._clip_pad(last, scope)
                pieces.setdefault(scope, []).append((r, Box(x0, box.y, x1 - x0, box.h)))
        _nest(pieces)
        # every forward route cut into pieces per row and the wraps between them
        plans = {key: self._plan(route) for key, route in lay.routes.items() if key in self.forward}
        pieces, self.relabel = fit_row_pieces(self, pieces, plans)
        backward = [key for key in lay.routes if key not in self.forward]
        # each row's extent before the move
        ext: list[list[float]] = [[float("inf"), float("inf"), float("-inf"), float("-inf")] for _ in rows]

        def grow(r: int, x: float, y: float) -> None:
            e = ext[r]
            e[0], e[1], e[2], e[3] = min(e[0], x), min(e[1], y), max(e[2], x), max(e[3], y)

        for name, node in lay.boxes.items():
            r = self.row_of_col[self.layer[name]]
            grow(r, node.x, node.y)
            grow(r, node.x + node.w, node.y + node.h)
        for found in pieces.values():
            for r, piece in found:
                grow(r, piece.x, piece.y)
                grow(r, piece.x + piece.w, piece.y + piece.h)
        for plan in plans.values():
            for step in plan:
                if step[0] == "seg":
                    for p in step[3]:
                        grow(step[1], *p)
        for (tail, head), route in lay.routes.items():
            text = self.labels.get((tail, head))
            if text and (tail, head) in self.forward:
                ax, ay = route.label_at
                if not self._in_gap(ax):
                    half = text_width(text) * LABEL_FONT / FONT_SIZE / 2 + 4
                    r = self._row_of_x(ax)
                    grow(r, ax - half, ay - 14)
                    grow(r, ax + half, ay)
        for x, y in lay.band_labels.values():
            grow(self._row_of_x(x), x, y - 12)
        # the wraps of each cut: those leaving at one point (one tail's edges sharing their way) share a lane, down
        # to their lowest head; lanes in the order of (exit y, lowest entry y), so that they cross the least
        wraps: dict[int, dict[float, list[tuple[float, tuple[str, str], int]]]] = {}
        for key, plan in plans.items():
            for k, step in enumerate(plan):
                if step[0] == "wrap":
                    wraps.setdefault(step[1], {}).setdefault(round(step[2][1], 1), []).append((step[3][1], key, k))
        lane_of: dict[tuple[tuple[str, str], int], int] = {}
        for groups in wraps.values():
            ordered = sorted(groups, key=lambda y: (y, max(g[0] for g in groups[y])))
            for n, y in enumerate(ordered):  # the lowest exit turns innermost, on the top lane
                for _, key, k in groups[y]:
                    lane_of[(key, k)] = len(ordered) - 1 - n
        back_rows = {key: (self.row_of_col[self.layer[key[0]]], self.row_of_col[self.layer[key[1]]])
                     for key in backward}
        back_lanes = [0] * len(rows)
        across = sorted(key for key, (rt, rh) in back_rows.items() if rt != rh)  # run along the left margin
        for rt, rh in back_rows.values():
            back_lanes[rt] += 1
            if rh != rt:
                back_lanes[rh] += 1
        back_room = len(across) * LANE_STEP + (LANE_GAP if across else 0.0)
        # the moves: row r's (dx, dy)
        moves: list[tuple[float, float]] = []
        lane_y: list[float] = []  # the first lane below each row
        bottom = 0.0
        for r in range(len(rows)):
            lo_x, lo_y, _, hi_y = ext[r]
            if r == 0:
                dx, dy = back_room, 0.0
            else:
                count = len(wraps.get(r - 1, ()))
                left = MARGIN + back_room + self._lanes(count) + self._label_room(rows[r][0])
                lanes = back_lanes[r - 1] + count
                gap = max(ROW_GAP, 2 * LANE_GAP + max(lanes - 1, 0) * LANE_STEP) if lanes else ROW_GAP
                dx, dy = left - lo_x, bottom + gap - lo_y
            moves.append((dx, dy))
            bottom = hi_y + dy
            lane_y.append(bottom + LANE_GAP)
        self.moves = moves

        # the edges: forward ones moved piece by piece, wrapped between rows; backward ones re-routed
        routes: dict[tuple[str, str], Route] = {}
        right_end = 0.0
        row_right = [ext[r][2] + moves[r][0] for r in range(len(rows))]
        for key, plan in plans.items():
            route = lay.routes[key]
            start = self._move(plan[0][1], route.start[0], route.start[1] + route.dy)
            segments: list[Segment] = []
            anchor: Point | None = None
            for index, step in enumerate(plan):
                if step[0] == "start":
                    continue
                if step[0] == "seg":
                    _, r, kind, pts = step
                    segments.append((kind, tuple(self._move(r, *p) for p in pts)))
                    continue
                _, k, exit_, entry = step
                lane = lane_of[(key, index)]
                out_at, in_at = self._move(k, *exit_), self._move(k + 1, *entry)
                xr = row_right[k] + LANE_GAP + lane * LANE_STEP
                yg = lane_y[k] + (back_lanes[k] + lane) * LANE_STEP
                xl = MARGIN + back_room + lane * LANE_STEP
                right_end = max(right_end, xr)
                segments += _rounded([out_at, (xr, out_at[1]), (xr, yg), (xl, yg), (xl, in_at[1]), in_at])
                if key in self.labels and self._in_gap(route.label_at[0]) and self._row_of_x(route.label_at[0]) == k + 1:
                    anchor = ((xl + in_at[0]) / 2, in_at[1])
            if anchor is None:
                ax, ay = route.label_at
                anchor = self._move(self._row_of_x(ax), ax, ay)
            routes[key] = Route(start, segments, anchor)
        used = [0] * len(rows)
        for key in sorted(backward):
            routes[key] = self._back(lay.routes[key], back_rows[key], lane_y, used,
                                     across.index(key) if key in across else -1, self.labels.get(key, ""))
        for key, route in lay.routes.items():  # (an edge that is neither: unchanged, it should not exist)
            routes.setdefault(key, route)

        boxes = {name: self._box(self.row_of_col[self.layer[name]], box) for name, box in lay.boxes.items()}
        clusters: dict[tuple[str, ...], Box] = {}
        continued: dict[tuple[str, ...], list[Box]] = {}
        for scope, found in pieces.items():
            moved = [self._box(r, piece) for r, piece in found]
            spot = lay.band_labels.get(scope)  # the piece holding its label (a label as an item may be in any row)
            main = next((k for k, (r, _) in enumerate(found) if spot and r == self._row_of_x(spot[0])), 0)
            clusters[scope] = moved.pop(main)
            if moved:
                continued[scope] = moved
        band_labels = {s: self._move(self._row_of_x(x), x, y) for s, (x, y) in lay.band_labels.items()}
        band_labels.update(relabel(self, clusters, continued, boxes, routes, band_labels))
        right = max([b.x + b.w for b in (*boxes.values(), *clusters.values())] + [right_end]
                    + [b.x + b.w for found in continued.values() for b in found])
        low = max([b.y + b.h for b in (*boxes.values(), *clusters.values())]
                  + [b.y + b.h for found in continued.values() for b in found]
                  + [p[1] for r in routes.values() for p in r.polyline(2)])
        for key, route in routes.items():
            text = self.labels.get(key)
            if text:
                right = max(right, route.label_at[0] + text_width(text) * LABEL_FONT / FONT_SIZE / 2 + 4)
        from igniter_nb.notebook.layout import LEGEND_MIN_WRAP, legend_width, title_height, title_width

        wrap = max(right + MARGIN, LEGEND_MIN_WRAP)
        width = max(right + MARGIN, title_width(self.view) + 2 * MARGIN, legend_width(self.view, wrap) + 2 * MARGIN)
        down = title_height(self.view, wrap) - title_height(self.view, lay.legend_wrap)  # the legend may wrap anew
        if down:
            for b in (*boxes.values(), *clusters.values(), *(b for found in continued.values() for b in found)):
                b.y = round(b.y + down, 1)
            for route in routes.values():
                route.shift(down)
            band_labels = {s: (x, round(y + down, 1)) for s, (x, y) in band_labels.items()}
        return replace(lay, boxes=boxes, clusters=clusters, width=round(width, 1), height=round(low + down + MARGIN, 1),
                       routes=routes, legend_wrap=wrap, band_labels=band_labels, continued=continued,
                       continued_labels=self._continued_labels(clusters, continued, boxes, routes, band_labels),
                       rows=len(rows))

    def _continued_labels(self, clusters: dict[tuple[str, ...], Box], continued: dict[tuple[str, ...], list[Box]],
                          boxes: dict[str, Box], routes: dict[tuple[str, str], Route],
                          placed: dict[tuple[str, ...], Point]) -> dict[tuple[str, ...], list[Point]]:
        """Where each later piece of a split band has its ``name (cont.)`` label: in its top strip, at the leftmost
        place clear of edges, boxes, other bands and labels (``layout_labels.spots``, as every band's label), else
        at its top left."""
        def cont(scope: tuple[str, ...]) -> tuple[str, ...]:  # (each part renamed: a nested piece's parent is a prefix)
            return tuple(f"{part} (cont.)" for part in scope)

        out: dict[tuple[str, ...], list[Point]] = {}
        drawn = dict(placed)  # the labels placed so far, the earlier rounds' ``(cont.)`` included (keyed apart)
        rounds = max((len(found) for found in continued.values()), default=0)
        for k in range(rounds):  # a band split into three rows or more: its pieces one round each (one key each)
            pieces = {cont(s): found[k] for s, found in continued.items() if k < len(found)}
            others = {s: b for s, b in clusters.items()}
            others.update({cont(s): b for s, found in continued.items() for j, b in enumerate(found) if j != k})
            found, _ = spots({**others, **pieces}, boxes, routes, frozenset(others), None, frozenset(), dict(drawn),
                             edge_notes(self.view, routes))
            for s, pieces_of in continued.items():
                if k < len(pieces_of):
                    b = pieces_of[k]
                    at = found.get(cont(s), (round(b.x + 8, 1), round(b.y + 13, 1)))
                    out.setdefault(s, []).append(at)
                    drawn[(*s, str(k), f"{s[-1]} (cont.)")] = at  # (its last part: the text, measured)
        return out

    # ------------------------------------------------------------------------------------------ helpers

    def _row_of_x(self, x: float) -> int:
        return sum(1 for xa, _ in self.cut_x if x > xa + EPS)

    def _in_gap(self, x: float) -> bool:
        return any(xa + EPS < x < xb - EPS for xa, xb in self.cut_x)

    def _move(self, r: int, x: float, y: float) -> Point:
        dx, dy = self.moves[r]
        return (round(x + dx, 1), round(y + dy, 1))

    def _box(self, r: int, b: Box) -> Box:
        dx, dy = self.moves[r]
        return Box(round(b.x + dx, 1), round(b.y + dy, 1), b.w, b.h)

    def _plan(self, route: Route) -> list[tuple]:  # type: ignore[type-arg]
        """A forward route as ("start", row), then ("seg", row, kind, points) within a row and ("wrap", cut, exit,
        entry) where it crosses the cut after row ``cut``; points in drawing coordinates before the move. The
        part of a route in the gap of a cut (its bend into the next column) is left out: the wrap replaces it."""
        dy = route.dy
        cur = (route.start[0], route.start[1] + dy)
        row = self._row_of_x(cur[0])
        plan: list[tuple] = [("start", row)]  # type: ignore[type-arg]
        pending: tuple[int, Point] | None = None  # (cut, exit) while the route runs in a cut's gap
        for kind, pts in route.segments:
            moved = tuple((x, y + dy) for x, y in pts)
            end = moved[-1]
            if pending is not None:
                if self._in_gap(end[0]):
                    cur = end
                    continue
                k, exit_ = pending
                xb = self.cut_x[k][1]
                entry = end if kind == "C" else (xb, cur[1])
                plan.append(("wrap", k, exit_, entry))
                pending, row, cur = None, k + 1, entry
                if kind == "C":
                    continue
                moved = (end,)
            end_row = self._row_of_x(end[0])
            if end_row == row and not self._in_gap(end[0]):
                plan.append(("seg", row, kind, moved))
                cur = end
                continue
            if kind == "L" and abs(end[1] - cur[1]) < EPS:  # straight along the row, through one cut or more
                y = cur[1]
                while row < len(self.cut_x) and end[0] > self.cut_x[row][0] + EPS:
                    xa, xb = self.cut_x[row]
                    plan.append(("seg", row, "L", ((xa, y),)))
                    if end[0] < xb - EPS:
                        pending = (row, (xa, y))
                        break
                    plan.append(("wrap", row, (xa, y), (xb, y)))
                    row += 1
                if pending is None:
                    plan.append(("seg", row, "L", (end,)))
                cur = end
                continue
            pending = (row, cur)  # a bend into the gap of the cut: the wrap replaces it
            if not self._in_gap(end[0]):  # (a bend across the whole gap: into the next row's first column)
                plan.append(("wrap", row, cur, end))
                pending, row = None, row + 1
            cur = end
        return plan

    def _back(self, route: Route, rows: tuple[int, int], lane_y: list[float], used: list[int], across: int,
              label: str) -> Route:
        """A backward edge (waits for, a cycle) re-routed: along a lane below its row, or, between rows, below the
        tail's row, up the left margin and along a lane below the head's row."""
        rt, rh = rows
        pts = [(route.start[0], route.start[1] + route.dy)]
        here = route.start
        for _, seg in route.segments:
            here = seg[-1]
            pts.append((here[0], here[1] + route.dy))
        start, tail_turn, head_turn, end = pts[0], pts[1], pts[-2], pts[-1]
        a, t = self._move(rt, *start), self._move(rt, *tail_turn)
        h, b = self._move(rh, *head_turn), self._move(rh, *end)

        def lane(r: int) -> float:
            y = lane_y[r] + used[r] * LANE_STEP
            used[r] += 1
            return y

        if rt == rh:
            ly = lane(rt)
            way = [a, t, (t[0], ly), (h[0], ly), h, b]
            anchor = ((t[0] + h[0]) / 2, ly)
        else:
            lt, lh = lane(rt), lane(rh)
            xm = MARGIN + across * LANE_STEP
            way = [a, t, (t[0], lt), (xm, lt), (xm, lh), (h[0], lh), h, b]
            # on the lane below the head's row, clear of the margin (centred on the margin it was cut off)
            half = text_width(label) * LABEL_FONT / FONT_SIZE / 2 + 4
            anchor = (max((xm + h[0]) / 2, xm + half), lh)
        return Route(way[0], [("L", (p,)) for p in way[1:]], anchor)


def _nest(pieces: dict[tuple[str, ...], list[tuple[int, Box]]]) -> None:
    """Widen each piece of a band to hold the pieces of its nested bands in its row with a padding on either side.
    A band split by a cut starts its later piece one padding before the row's first column, and so does a nested band
    that *starts* in that column (it is not split there, so ``_clip_pad`` did not count it): their left borders
    coincided, and the outer band's ``name (cont.)`` label had no strip of its own — it was drawn over the nested
    band's label (three nested scopes drawn left to right, wrapped into three rows)."""
    for scope in sorted(pieces, key=lambda s: (-len(s), s)):  # nested pieces first: their parents hold them
        found = pieces[scope]
        for k, (r, box) in enumerate(found):
            x0, x1 = box.x, box.x + box.w
            for inner, theirs in pieces.items():
                if len(inner) > len(scope) and inner[:len(scope)] == scope:
                    for row, b in theirs:
                        if row == r:
                            x0, x1 = min(x0, b.x - BAND_PAD), max(x1, b.x + b.w + BAND_PAD)
            if x0 < box.x - EPS or x1 > box.x + box.w + EPS:
                found[k] = (r, Box(round(x0, 1), box.y, round(x1 - x0, 1), box.h))


def _rounded(points: list[Point]) -> list[Segment]:
    """Straight runs through ``points`` (after the first, where the path already is) with rounded corners."""
    out: list[Segment] = []
    for k in range(1, len(points) - 1):
        p, q, s = points[k - 1], points[k], points[k + 1]
        r_in = min(CORNER, _length(p, q) / 2)
        r_out = min(CORNER, _length(q, s) / 2)
        a = _toward(q, p, r_in)
        b = _toward(q, s, r_out)
        out.append(("L", (a,)))
        out.append(("C", (q, q, b)))
    out.append(("L", (points[-1],)))
    return out


def _length(p: Point, q: Point) -> float:
    return float(((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2) ** 0.5)


def _toward(q: Point, p: Point, d: float) -> Point:
    """The point ``d`` from ``q`` toward ``p``."""
    length = _length(p, q)
    if length < EPS:
        return q
    return (round(q[0] + (p[0] - q[0]) * d / length, 1), round(q[1] + (p[1] - q[1]) * d / length, 1))


__all__ = ["WRAP_ABOVE", "wrap_rows"]
