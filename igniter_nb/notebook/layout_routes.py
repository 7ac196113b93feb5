"""How the edges of a placed layout run: each edge's ``Route`` (a start point and straight or cubic segments)
from its tail's side to its head's, through its dummy slots, bending only in the gaps between columns; backward
edges (waits for, cycles) run along a lane outside the drawing.

Part of the pure-Python layout (``igniter_nb.notebook.layout``, which re-exports ``Route``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from igniter_nb.diagnostics.view import GraphView, ViewNode
from igniter_nb.notebook.layout_time import in_time
from igniter_nb.notebook.shapes import Box, Point, crossing, outline

if TYPE_CHECKING:
    from igniter_nb.notebook.layout import _Item

LANE_GAP = 18.0
LANE_STEP = 8.0
SIDE_PORT = 0.85  # where across its side a backward edge attaches (forward ports stay within 0.2–0.8)
TRACK_STEP = 4.0  # px between the tracks of buses running along one gap (``_bus_tracks``)
BUS_BEND = 4.0  # a bus's curves into and out of its track are at least this round

Segment = tuple[str, tuple[Point, ...]]  # ("L", (end,)) or ("C", (c1, c2, end))


@dataclass(slots=True)
class Route:
    """An edge's path: a start point and segments (``L`` straight, ``C`` cubic), with a label anchor; all of
    it drawn ``dy`` lower (the title and legend sit above the drawing)."""

    start: Point
    segments: list[Segment]
    anchor: Point
    dy: float = 0.0

    @property
    def label_at(self) -> Point:
        return (self.anchor[0], self.anchor[1] + self.dy)

    def shift(self, dy: float) -> None:
        """Move the route down by ``dy``."""
        self.dy += dy

    def path(self) -> str:
        from igniter_nb.notebook.shapes import num

        dy = self.dy
        here = f"{num(self.start[0])},{num(self.start[1] + dy)}"
        parts = [f"M{here}"]
        for kind, pts in self.segments:
            if kind == "L":
                x, y = pts[0]
                to = f"{num(x)},{num(y + dy)}"
                if to != here:  # a zero-length segment has no direction: an arrowhead on it pointed right (0°)
                    parts.append(f"L{to}")
            else:
                (x1, y1), (x2, y2), (x3, y3) = pts
                to = f"{num(x3)},{num(y3 + dy)}"
                parts.append(f"C{num(x1)},{num(y1 + dy)} {num(x2)},{num(y2 + dy)} {to}")
            here = to
        return " ".join(parts)

    def polyline(self, steps: int = 12) -> list[Point]:
        """The path as points (curves sampled), for geometric checks."""
        dy = self.dy
        here = self.start
        out = [(here[0], here[1] + dy)]
        for kind, pts in self.segments:
            if kind == "L":
                out.append((pts[0][0], pts[0][1] + dy))
            else:
                (c1, c2, end) = pts
                for k in range(1, steps + 1):
                    t = k / steps
                    u = 1 - t
                    out.append((u ** 3 * here[0] + 3 * u * u * t * c1[0] + 3 * u * t * t * c2[0] + t ** 3 * end[0],
                                u ** 3 * here[1] + 3 * u * u * t * c1[1] + 3 * u * t * t * c2[1] + t ** 3 * end[1]
                                + dy))
            here = pts[-1]
        return out


def _to_box(it: _Item, across: bool) -> Box:
    if across:
        return Box(round(it.cross, 1), round(it.main, 1), it.cross_size, it.main_size)
    return Box(round(it.main, 1), round(it.cross, 1), it.main_size, it.cross_size)


def _routes(view: GraphView, nodes: dict[str, ViewNode], items: dict[str, _Item],
            chains: dict[tuple[str, str], list[_Item]], col_at: list[float], col_size: list[float],
            gaps: list[float], direction: str, buses: frozenset[tuple[str, str]] = frozenset(),
            deadline: float | None = None) -> dict[tuple[str, str], Route]:
    across = direction == "TB"
    col_end = [at + size for at, size in zip(col_at, col_size, strict=True)]
    # the middle of the gap before / after each column (where a backward edge turns)
    before = [col_at[lv] - gaps[lv] / 2 for lv in range(len(col_at))]
    after = [*before[1:], col_end[-1] + gaps[0] / 2] if col_at else []

    def xy(main: float, cross: float) -> Point:
        return (cross, main) if across else (main, cross)

    # ports: the edges leaving (entering) a node spread along its side, ordered by where they go (come from);
    # edges that share their first slot (one trunk) leave through one port
    outs: dict[str, dict[str, float]] = {}
    ins: dict[str, dict[str, float]] = {}
    for chain in chains.values():
        outs.setdefault(chain[0].id, {})[chain[1].id] = chain[1].centre
        ins.setdefault(chain[-1].id, {})[chain[-2].id] = chain[-2].centre
    exit_at = {(node, nxt): c for node, found in outs.items() for nxt, c in _ports(items[node], found)}
    entry_at = {(node, prev): c for node, found in ins.items() for prev, c in _ports(items[node], found)}

    outlines: dict[str, tuple[str, Box, list[Point]]] = {}

    def boundary(it: _Item, cross: float, last: bool) -> float:
        found = outlines.get(it.id)
        if found is None:
            shape, box = nodes[it.id].shape, _to_box(it, across)
            found = outlines[it.id] = (shape, box, outline(shape, box))
        return crossing(found[0], found[1], cross=cross, horizontal=not across, last=last, pts=found[2])

    # points are built as (main, cross) → (x, y) by ``at``; a run of slots level with each other is one segment
    at = (lambda main, cross: (cross, main)) if across else (lambda main, cross: (main, cross))
    tracks = _bus_tracks(chains, buses, exit_at, entry_at, col_at, col_end, deadline)
    routes: dict[tuple[str, str], Route] = {}
    for k, (key, chain) in enumerate(chains.items()):
        if not k % 256:
            in_time(deadline)
        tail, head = chain[0], chain[-1]
        c = exit_at[(tail.id, chain[1].id)]
        start = at(boundary(tail, c, True), c)
        m0 = col_end[tail.layer]
        segments: list[Segment] = [("L", (at(m0, c),))]
        label_at = start
        last = len(chain) - 1
        for k in range(1, last + 1):
            it = chain[k]
            nc = entry_at[(head.id, chain[-2].id)] if k == last else it.cross + it.cross_size / 2
            m1 = col_at[it.layer]
            mid = (m0 + m1) / 2
            m0 = boundary(head, nc, False) if k == last else col_end[it.layer]
            if abs(nc - c) < 0.05:  # level with the slot before: the last segment runs on
                segments[-1] = ("L", (at(m0, c),))
                label_at = at(mid, c)
            elif key in buses and abs(nc - c) > 2 * (m1 - mid):
                # an edge of a folded layer going far across: one curve into the gap, straight along it on its
                # track, one curve out (an S-curve that long hugged the boxes beside the gap, 4-5 px away)
                run = mid + tracks.get((key, it.layer), 0.0)
                r_in, r_out = run - (2 * mid - m1), m1 - run
                sign = 1.0 if nc > c else -1.0
                segments.append(("C", (at(run, c), at(run, c), at(run, c + sign * r_in))))
                segments.append(("L", (at(run, nc - sign * r_out),)))
                segments.append(("C", (at(run, nc), at(run, nc), at(m1, nc))))
                segments.append(("L", (at(m0, nc),)))
                label_at = at(run, (c + nc) / 2)
                c = nc
            else:
                segments.append(("C", (at(mid, c), at(mid, nc), at(m1, nc))))
                segments.append(("L", (at(m0, nc),)))
                label_at = at(mid, (c + nc) / 2)
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
        tm = before[t.layer] if back else after[t.layer]
        hm = after[h.layer] if back else before[h.layer]
        if back and h.layer == t.layer:
            hm = tm
        lc = far + lane * LANE_STEP
        lane += 1
        # attached off-centre, on the side of the lane: clear of the ports of the edges drawn forward
        tc, hc = t.cross + t.cross_size * SIDE_PORT, h.cross + h.cross_size * SIDE_PORT
        start = xy(boundary(t, tc, not back), tc)
        end = xy(boundary(h, hc, back), hc)
        segments = [("L", (xy(tm, tc),)), ("L", (xy(tm, lc),)), ("L", (xy(hm, lc),)),
                    ("L", (xy(hm, hc),)), ("L", (end,))]
        routes[key] = Route(start, segments, xy((tm + hm) / 2, lc))
    return routes


def _bus_tracks(chains: dict[tuple[str, str], list[_Item]], buses: frozenset[tuple[str, str]],
                exit_at: dict[tuple[str, str], float], entry_at: dict[tuple[str, str], float],
                col_at: list[float], col_end: list[float],
                deadline: float | None = None) -> dict[tuple[tuple[str, str], int], float]:
    """Where across its gap each bus's long straight run goes (an offset from the gap's middle), by (edge, layer
    it runs into). Two runs in one gap that overlap and share neither their tail nor their head get different
    tracks: on one line they read as one edge, and a reader could not tell which end leads to which (a
    200-node graph top to bottom had 721 such pairs, 880 px of line shared). Runs that share an end may share a
    track (they fan out of, or into, one node). The first track is the middle, so a gap without such a pair
    is drawn as before."""
    runs: dict[int, list[tuple[float, float, tuple[str, str]]]] = {}
    for key, chain in chains.items():
        if key not in buses:
            continue
        c = exit_at[(chain[0].id, chain[1].id)]
        m0 = col_end[chain[0].layer]
        last = len(chain) - 1
        for k in range(1, last + 1):
            it = chain[k]
            nc = entry_at[(chain[-1].id, chain[-2].id)] if k == last else it.cross + it.cross_size / 2
            m1 = col_at[it.layer]
            if abs(nc - c) >= 0.05:
                if abs(nc - c) > 2 * (m1 - (m0 + m1) / 2):
                    runs.setdefault(it.layer, []).append((min(c, nc), max(c, nc), key))
                c = nc
            m0 = col_end[it.layer]
    tracks: dict[tuple[tuple[str, str], int], float] = {}
    for layer, found in runs.items():
        if len(found) < 2:
            continue
        in_time(deadline)
        room = (col_at[layer] - col_end[layer - 1]) / 2 - BUS_BEND if layer else 0.0
        offsets = [0.0]
        step = 1
        while step * TRACK_STEP <= room:
            offsets += [step * TRACK_STEP, -step * TRACK_STEP]
            step += 1
        placed: list[list[tuple[float, float, tuple[str, str]]]] = [[] for _ in offsets]
        for lo, hi, key in sorted(found, key=lambda f: (f[0], f[1], f[2])):
            clash = [_clash(track, lo, hi, key) for track in placed]
            best = min(range(len(offsets)), key=lambda t: (clash[t] > 0, clash[t], t))
            placed[best].append((lo, hi, key))
            if offsets[best]:
                tracks[(key, layer)] = offsets[best]
    return tracks


def _clash(track: list[tuple[float, float, tuple[str, str]]], lo: float, hi: float, key: tuple[str, str]) -> float:
    """How far the run ``lo``–``hi`` of edge ``key`` would lie on runs of ``track`` that share neither of its ends."""
    return sum(min(hi, h) - max(lo, q) for q, h, other in track
               if q < hi and lo < h and other[0] != key[0] and other[1] != key[1])


def _ports(it: _Item, found: dict[str, float]) -> list[tuple[str, float]]:
    """Where on ``it``'s side each neighbour's edge attaches: spread around its centre, in the neighbours'
    order across the layer (so edges leaving one side do not cross each other there)."""
    if len(found) == 1:
        return [(next(iter(found)), it.centre)]
    order = sorted(found, key=lambda other: (found[other], other))
    n = len(order)
    span = min(it.cross_size * 0.6, (n - 1) * 10.0)
    first = it.centre - span / 2
    return [(other, first + span * k / (n - 1)) for k, other in enumerate(order)]


__all__ = ["Route", "Segment"]
