"""Where the edges of an SVG picture run, against the node boxes: both engines' SVG (the pure-Python layout's
``data-box`` nodes, Graphviz ``dot``'s polygons and ellipses), each edge sampled along its Bézier segments; and,
for the pure-Python layout, against the scope bands' labels (``through_labels``)."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"
Box = tuple[float, float, float, float]  # x, y, w, h
_TOKEN = re.compile(r"[MLC]|-?[0-9]*\.?[0-9]+(?:e-?[0-9]+)?")


def sample_path(d: str, steps: int = 16) -> list[tuple[float, float]]:
    """Points along an SVG path made of M, L and C commands (the only ones either engine writes)."""
    tokens = _TOKEN.findall(d)
    out: list[tuple[float, float]] = []
    cur: tuple[float, float] | None = None
    cmd = ""
    k = 0
    while k < len(tokens):
        if tokens[k] in "MLC":
            cmd = tokens[k]
            k += 1
            continue
        if cmd == "C":
            p1, p2, p3 = ((float(tokens[k + 2 * j]), float(tokens[k + 2 * j + 1])) for j in range(3))
            k += 6
            assert cur is not None, d
            p0 = cur
            for s in range(1, steps + 1):
                t = s / steps
                u = 1 - t
                out.append((u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0],
                            u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1]))
            cur = p3
            continue
        p = (float(tokens[k]), float(tokens[k + 1]))
        k += 2
        if cmd == "L" and cur is not None:
            out.extend((cur[0] + (p[0] - cur[0]) * s / steps, cur[1] + (p[1] - cur[1]) * s / steps)
                       for s in range(1, steps + 1))
        else:
            out.append(p)
            cmd = "L"  # coordinates after M are line-tos
        cur = p
    return out


def _distance(p: tuple[float, float], b: Box) -> float:
    x, y, w, h = b
    dx = max(x - p[0], 0.0, p[0] - x - w)
    dy = max(y - p[1], 0.0, p[1] - y - h)
    return float((dx * dx + dy * dy) ** 0.5)


def _points(text: str) -> list[tuple[float, float]]:
    nums = [float(v) for v in re.findall(r"-?[0-9]*\.?[0-9]+", text)]
    return list(zip(nums[0::2], nums[1::2], strict=True))


def _bounds(pts: list[tuple[float, float]]) -> Box:
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def read(svg: str) -> tuple[dict[str, Box], list[tuple[str, str, list[tuple[float, float]]]]]:
    """Node boxes by name and edges as (tail, head, sampled points), in one coordinate system."""
    root = ET.fromstring(svg)
    boxes: dict[str, Box] = {}
    edges = []
    for g in root.iter(f"{SVG}g"):
        kind = g.get("class")
        if kind == "node" and g.get("data-box"):  # the pure-Python layout
            boxes[g.get("data-id", "")] = tuple(float(v) for v in g.get("data-box", "").split())  # type: ignore[assignment]
        elif kind == "node":  # dot: around all its shapes (peripheries)
            name = g.findtext(f"{SVG}title", "")
            pts: list[tuple[float, float]] = []
            for shape in g.iter():
                if shape.tag == f"{SVG}polygon":
                    pts.extend(_points(shape.get("points", "")))
                elif shape.tag == f"{SVG}ellipse":
                    cx, cy, rx, ry = (float(shape.get(a, "0")) for a in ("cx", "cy", "rx", "ry"))
                    pts.extend([(cx - rx, cy - ry), (cx + rx, cy + ry)])
                elif shape.tag == f"{SVG}path":  # a rounded box
                    pts.extend(sample_path(shape.get("d", ""), 2))
            boxes[name] = _bounds(pts)
        elif kind == "edge" and g.get("data-tail"):
            path = g.find(f"{SVG}path")
            assert path is not None
            edges.append((g.get("data-tail", ""), g.get("data-head", ""), sample_path(path.get("d", ""))))
        elif kind == "edge":
            tail, _, head = g.findtext(f"{SVG}title", "").partition("->")
            path = g.find(f"{SVG}path")
            assert path is not None
            edges.append((tail, head, sample_path(path.get("d", ""))))
    return boxes, edges


def too_near(svg: str, clearance: float) -> list[tuple[str, str, str, float]]:
    """(tail, head, node, distance) for each edge that comes nearer than ``clearance`` px to a node box it does
    not start or end at (0: it passes through the box)."""
    boxes, edges = read(svg)
    found = []
    for tail, head, pts in edges:
        for name, box in boxes.items():
            if name in (tail, head):
                continue
            near = min(_distance(p, box) for p in pts)
            if near < clearance:
                found.append((tail, head, name, round(near, 1)))
    return sorted(found, key=lambda f: f[3])


LABEL_FONT = 11  # px, a band's label (picture.py)


def band_labels(svg: str) -> dict[str, Box]:
    """The text box of each scope band's label in a pure-Python picture, by scope: from its baseline, the font's
    ascent (0.8 em) above and descent (0.25 em) below, as wide as Helvetica's letters (or the average estimate,
    when wider)."""
    found: dict[str, Box] = {}
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        if g.get("class") not in ("cluster", "band-label") or g.get("data-scope") is None:
            continue
        text = g.find(f"{SVG}text")
        if g.get("class") == "cluster" and text is None and g.get("data-scope") in over_edges(svg):
            continue
        assert text is not None and text.get("text-anchor") in (None, "start"), ET.tostring(g)
        found[g.get("data-scope", "")] = _label_box(g)
    return found


def _label_box(g: ET.Element) -> Box:
    from igniter_nb.diagnostics.geometry import glyph_width, text_width
    from igniter_nb.diagnostics.view import FONT_SIZE

    text = g.find(f"{SVG}text")
    assert text is not None
    name = text.text or ""
    x, y = float(text.get("x", "0")), float(text.get("y", "0"))
    w = max(glyph_width(name, LABEL_FONT), text_width(name) * LABEL_FONT / FONT_SIZE)
    return (x, y - 0.8 * LABEL_FONT, w, 1.05 * LABEL_FONT)


def over_edges(svg: str) -> set[str]:
    """The scopes whose label is drawn over the edges, on a white ground that covers its text box
    (``layout_labels.Squeezed``)."""
    found = set()
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        if g.get("class") == "band-label":
            scope = g.get("data-scope", "")
            ground = g.find(f"{SVG}rect")
            assert ground is not None and ground.get("fill") == "#ffffff", ET.tostring(g)
            x, y, w, h = (float(ground.get(a, "0")) for a in ("x", "y", "width", "height"))
            tx, ty, tw, th = _label_box(g)
            assert x <= tx and tx + tw <= x + w and y <= ty and ty + th <= y + h, (scope, ET.tostring(g))
            found.add(scope)
    return found


def _meets(p: tuple[float, float], q: tuple[float, float], b: Box, pad: float) -> bool:
    """Whether the segment ``p``–``q`` comes within ``pad`` px of box ``b`` (clipped, Liang-Barsky)."""
    x0, y0, x1, y1 = b[0] - pad, b[1] - pad, b[0] + b[2] + pad, b[1] + b[3] + pad
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for d, lo, hi, at in ((dx, x0, x1, p[0]), (dy, y0, y1, p[1])):
        if abs(d) < 1e-12:
            if not lo <= at <= hi:
                return False
            continue
        a, b2 = (lo - at) / d, (hi - at) / d
        t0, t1 = max(t0, min(a, b2)), min(t1, max(a, b2))
        if t0 > t1:
            return False
    return True


def through_labels(svg: str, pad: float = 1.0) -> list[tuple[str, str, str]]:
    """(tail, head, scope) for each edge that runs through (or within ``pad`` px of) a scope band's label: a label
    under a line is not readable. The samples are joined by straight pieces, so a long straight run is not skipped
    over."""
    labels = band_labels(svg)
    _, edges = read(svg)
    found = []
    halo = over_edges(svg)  # drawn over the edges, readable: not under one
    for tail, head, pts in edges:
        for scope, box in labels.items():
            if scope in halo:
                continue
            if any(_meets(p, q, box, pad) for p, q in itertools.pairwise(pts)):
                found.append((tail, head, scope))
    return sorted(found)


def band_boxes(svg: str) -> dict[str, Box]:
    """The rectangle of each scope band in a pure-Python picture, by scope."""
    found: dict[str, Box] = {}
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        rect = g.find(f"{SVG}rect")
        if g.get("class") == "cluster" and g.get("data-scope") is not None and rect is not None:
            found[g.get("data-scope", "")] = tuple(float(rect.get(a, "0")) for a in ("x", "y", "width", "height"))  # type: ignore[assignment]
    return found


def label_clashes(svg: str, pad: float = 1.0) -> list[tuple[str, str]]:
    """(scope, other) for each scope band's label that overlaps another band's label, another band's border or a
    node box (``other`` is the scope, ``border <scope>`` or the node's name)."""
    labels = band_labels(svg)
    boxes, _ = read(svg)
    found = []
    for scope, (x, y, w, h) in band_boxes(svg).items():
        corners = [(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)]
        found += [(other, f"border {scope}") for other, box in sorted(labels.items())
                  if other != scope and any(_meets(p, q, box, pad) for p, q in itertools.pairwise(corners))]

    def overlap(a: Box, b: Box) -> bool:
        return a[0] < b[0] + b[2] + pad and b[0] < a[0] + a[2] + pad and a[1] < b[1] + b[3] + pad and b[1] < a[1] + a[3] + pad

    names = sorted(labels)
    for k, scope in enumerate(names):
        found += [(scope, other) for other in names[k + 1:] if overlap(labels[scope], labels[other])]
        found += [(scope, node) for node, box in sorted(boxes.items()) if overlap(labels[scope], box)]
    return found


def _straight_pieces(d: str) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """The straight (``L``) pieces of a path, end to end (curves skipped)."""
    tokens = _TOKEN.findall(d)
    out = []
    cur: tuple[float, float] | None = None
    cmd = ""
    k = 0
    while k < len(tokens):
        if tokens[k] in "MLC":
            cmd = tokens[k]
            k += 1
            continue
        if cmd == "C":
            cur = (float(tokens[k + 4]), float(tokens[k + 5]))
            k += 6
            continue
        p = (float(tokens[k]), float(tokens[k + 1]))
        k += 2
        if cmd == "L" and cur is not None:
            out.append((cur, p))
        cmd = "L"
        cur = p
    return out


def _shared_length(s: tuple[tuple[float, float], tuple[float, float]],
                   t: tuple[tuple[float, float], tuple[float, float]], tol: float) -> float:
    (a, b), (c, d) = s, t
    for axis in (0, 1):  # both along x (level in y), or both along y
        other = 1 - axis
        if max(abs(a[other] - b[other]), abs(c[other] - d[other]), abs(a[other] - c[other])) <= tol:
            lo = max(min(a[axis], b[axis]), min(c[axis], d[axis]))
            hi = min(max(a[axis], b[axis]), max(c[axis], d[axis]))
            return max(0.0, hi - lo)
    return 0.0


def shared_runs(svg: str, longer_than: float = 8.0, tol: float = 1.5) -> list[tuple[str, str, str, str, float]]:
    """(tail, head, tail, head, length) for each pair of edges of a pure-Python picture that share neither end but
    run on one straight line (within ``tol`` px) for more than ``longer_than`` px: drawn as one line, a reader
    cannot tell which end leads to which."""
    edges = []
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        path = g.find(f"{SVG}path")
        if g.get("class") == "edge" and g.get("data-tail") and path is not None:
            edges.append((g.get("data-tail", ""), g.get("data-head", ""), _straight_pieces(path.get("d", ""))))
    found = []
    for (t1, h1, p1), (t2, h2, p2) in itertools.combinations(edges, 2):
        if t1 == t2 or h1 == h2:
            continue
        length = sum(_shared_length(s, t, tol) for s in p1 for t in p2)
        if length > longer_than:
            found.append((t1, h1, t2, h2, round(length, 1)))
    return sorted(found, key=lambda f: -f[4])
