"""Reading the SVG the pure-Python layout writes (node boxes are in ``data-box``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    """Parse an SVG document (raises if it is not well-formed XML)."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg", root.tag
    return root


def node_boxes(svg: str) -> dict[str, tuple[float, float, float, float]]:
    root = parse(svg)
    boxes = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "node":
            x, y, w, h = (float(v) for v in g.get("data-box", "").split())
            boxes[g.get("data-id")] = (x, y, w, h)
    return boxes


def overlaps(boxes: dict[str, tuple[float, float, float, float]], gap: float = 0.0) -> list[tuple[str, str]]:
    """Pairs of boxes that overlap (sweep over x, so 1,000 boxes stay cheap)."""
    items = sorted(boxes.items(), key=lambda kv: kv[1][0])
    found = []
    active: list[tuple[str, tuple[float, float, float, float]]] = []
    for name, (x, y, w, h) in items:
        active = [(n, b) for n, b in active if b[0] + b[2] + gap > x]
        for other, (_ox, oy, _ow, oh) in active:
            if oy < y + h + gap and y < oy + oh + gap:
                found.append((other, name))
        active.append((name, (x, y, w, h)))
    return found
