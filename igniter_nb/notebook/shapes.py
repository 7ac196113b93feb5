"""Node shapes of the pure-Python SVG layout: how each is drawn, and its outline (where edges attach).

The shapes follow Graphviz's (``igniter_nb.diagnostics.view.KIND_STYLES``), drawn inside the node's box so
that the picture matches the ``dot`` rendering. ``outline`` gives the polygon an edge meets, so an edge ends
on the shape's border, not on its bounding box.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

Point = tuple[float, float]

SLANT = 8.0  # the parallelogram's horizontal offset: a gentle slant, as ``dot`` draws inputs (skew 0.15)


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


@functools.lru_cache(maxsize=8192)  # a drawing repeats few coordinates (columns, ports): 29k calls, 1.7k values
def num(v: float) -> str:
    """A coordinate with one decimal and no trailing ``.0`` (stable text for deterministic SVG)."""
    text = f"{v:.1f}"
    if text[-1] == "0":  # "12.0" → "12", "-0.0" → "0"
        text = text[:-2]
        return "0" if text == "-0" else text
    return text


def points(pts: list[Point]) -> str:
    return " ".join(f"{num(x)},{num(y)}" for x, y in pts)


def _polygon(shape: str, b: Box) -> list[Point] | None:
    x, y, w, h = b.x, b.y, b.w, b.h
    r, s = x + w, y + h
    if shape == "parallelogram":
        return [(x + SLANT, y), (r, y), (r - SLANT, s), (x, s)]
    if shape == "cds":
        return [(x, y), (r - 12, y), (r, y + h / 2), (r - 12, s), (x, s)]
    if shape == "hexagon":
        return [(x + 11, y), (r - 11, y), (r, y + h / 2), (r - 11, s), (x + 11, s), (x, y + h / 2)]
    if shape == "octagon":
        return [(x + 7, y), (r - 7, y), (r, y + 7), (r, s - 7), (r - 7, s), (x + 7, s), (x, s - 7), (x, y + 7)]
    if shape == "rarrow":
        return [(x, y + 5), (r - 14, y + 5), (r - 14, y), (r, y + h / 2), (r - 14, s), (r - 14, s - 5), (x, s - 5)]
    if shape == "house":
        return [(x + w / 2, y), (r, y + 14), (r, s), (x, s), (x, y + 14)]
    if shape == "invhouse":
        return [(x, y), (r, y), (r, s - 14), (x + w / 2, s), (x, s - 14)]
    return None


def outline(shape: str, b: Box) -> list[Point]:
    """The closed outline (as a polygon) an edge meets."""
    pts = _polygon(shape, b)
    if pts is not None:
        return pts
    x, y, r, s = b.x, b.y, b.x + b.w, b.y + b.h
    if shape == "ellipse":
        return [(b.cx + b.w / 2 * math.cos(2 * math.pi * k / 32), b.cy + b.h / 2 * math.sin(2 * math.pi * k / 32))
                for k in range(32)]
    if shape == "box3d":
        return [(x, y + 5), (x + 5, y), (r, y), (r, s - 5), (r - 5, s), (x, s)]
    if shape in ("folder", "tab"):
        return [(x, y + 7), (r, y + 7), (r, s), (x, s)]
    if shape == "component":
        return [(x + 5, y), (r, y), (r, s), (x + 5, s)]
    return [(x, y), (r, y), (r, s), (x, s)]


def crossing(shape: str, b: Box, *, cross: float, horizontal: bool, last: bool,
             pts: list[Point] | None = None) -> float:
    """Where the line ``y = cross`` (``horizontal``) or ``x = cross`` meets the outline (``pts``, computed from
    ``shape`` and ``b`` when not given): the smallest main coordinate, or the largest when ``last``. Falls
    back to the box side when the line misses."""
    hits: list[float] = []
    if pts is None:
        pts = outline(shape, b)
    for (x1, y1), (x2, y2) in zip(pts, pts[1:] + pts[:1], strict=True):
        a1, m1, a2, m2 = (y1, x1, y2, x2) if horizontal else (x1, y1, x2, y2)
        if (a1 - cross) * (a2 - cross) <= 0 and a1 != a2:
            hits.append(m1 + (cross - a1) / (a2 - a1) * (m2 - m1))
    if not hits:
        if horizontal:
            return b.x + b.w if last else b.x
        return b.y + b.h if last else b.y
    return max(hits) if last else min(hits)


def shape_svg(shape: str, b: Box, fill: str, stroke: str, dash: str, peripheries: int = 1) -> str:
    """SVG elements drawing ``shape`` inside box ``b``."""
    x, y, w, h = b.x, b.y, b.w, b.h
    common = f'fill="{fill}" stroke="{stroke}" stroke-width="1.4"{dash}'
    r, s = x + w, y + h
    if shape == "ellipse":
        out = f'<ellipse cx="{num(b.cx)}" cy="{num(b.cy)}" rx="{num(w / 2)}" ry="{num(h / 2)}" {common}/>'
        if peripheries > 1:
            out += (f'<ellipse cx="{num(b.cx)}" cy="{num(b.cy)}" rx="{num(w / 2 - 4)}" ry="{num(h / 2 - 4)}" '
                    f'fill="none" stroke="{stroke}" stroke-width="1.2"{dash}/>')
        return out
    if shape == "box":
        return f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" rx="6" {common}/>'
    if shape == "cylinder":
        e = 6.0
        return (f'<path d="M{num(x)},{num(y + e)} A{num(w / 2)},{num(e)} 0 0 1 {num(r)},{num(y + e)} '
                f'L{num(r)},{num(s - e)} A{num(w / 2)},{num(e)} 0 0 1 {num(x)},{num(s - e)} Z" {common}/>'
                f'<path d="M{num(x)},{num(y + e)} A{num(w / 2)},{num(e)} 0 0 0 {num(r)},{num(y + e)}" fill="none" '
                f'stroke="{stroke}" stroke-width="1.4"{dash}/>')
    if shape == "box3d":
        d = 5.0
        return (f'<polygon points="{points([(x, y + d), (r - d, y + d), (r - d, s), (x, s)])}" {common}/>'
                f'<polyline points="{points([(x, y + d), (x + d, y), (r, y), (r, s - d), (r - d, s)])}" '
                f'fill="{fill}" stroke="{stroke}" stroke-width="1.4"{dash}/>'
                f'<line x1="{num(r - d)}" y1="{num(y + d)}" x2="{num(r)}" y2="{num(y)}" stroke="{stroke}" '
                'stroke-width="1.4"/>')
    if shape == "note":
        f_ = 9.0
        return (f'<polygon points="{points([(x, y), (r - f_, y), (r, y + f_), (r, s), (x, s)])}" {common}/>'
                f'<polyline points="{points([(r - f_, y), (r - f_, y + f_), (r, y + f_)])}" fill="none" '
                f'stroke="{stroke}" stroke-width="1.4"/>')
    if shape == "component":
        return (f'<rect x="{num(x + 5)}" y="{num(y)}" width="{num(w - 5)}" height="{num(h)}" {common}/>'
                f'<rect x="{num(x)}" y="{num(y + 6)}" width="10" height="6" {common}/>'
                f'<rect x="{num(x)}" y="{num(s - 12)}" width="10" height="6" {common}/>')
    if shape in ("folder", "tab"):
        t = 7.0
        tab = [(x, y + t), (x + 4, y), (x + 30, y), (x + 34, y + t)] if shape == "folder" else \
              [(x, y + t), (x, y), (x + 22, y), (x + 22, y + t)]
        return f'<polygon points="{points([*tab, (r, y + t), (r, s), (x, s)])}" {common}/>'
    return f'<polygon points="{points(outline(shape, b))}" {common}/>'


def label_offset(shape: str) -> tuple[float, float]:
    """Where a shape's text centre sits relative to the box centre (its point, tab or 3-D edge)."""
    return {"house": (0.0, 6.0), "invhouse": (0.0, -6.0), "cylinder": (0.0, 3.0), "component": (3.0, 0.0),
            "folder": (0.0, 3.0), "tab": (0.0, 3.0), "box3d": (-2.0, 2.0), "cds": (-5.0, 0.0),
            "rarrow": (-6.0, 0.0)}.get(shape, (0.0, 0.0))


__all__ = ["Box", "Point", "crossing", "label_offset", "num", "outline", "points", "shape_svg"]
