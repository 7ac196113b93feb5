"""Hostile-user trial: every arrowhead points along its edge.

An edge's path could end (or start) with a zero-length straight segment (``… C… 260.6,146 L260.6,146``). A
marker at the end of a segment with no direction is drawn at 0° — pointing right — so in a top-to-bottom picture
the arrowhead of a straight edge lay sideways across the box it points at. Paths no longer hold such segments;
left to right the arrowheads looked right only because 0° is their direction there."""

from __future__ import annotations

import re

import igniter_nb as ig
from igniter_nb.notebook.render import render_graph


def _segments(d: str) -> list[tuple[str, list[str]]]:
    return [(cmd, args.split()) for cmd, args in re.findall(r"([MLC])([^MLC]*)", d)]


def test_no_edge_path_holds_a_zero_length_segment():
    def define(c):
        c.input("W" * 40)
        c.compute("MAX_RETRIES_FOR_PAYMENT_PROVIDER", depends_on=["W" * 40], call=lambda **kw: 1)
        c.compute("after", depends_on=["MAX_RETRIES_FOR_PAYMENT_PROVIDER", "W" * 40], call=lambda **kw: 1)
        c.output("after")

    graph = ig.compile(define, name="Capitals")
    for direction in ("TB", "LR"):
        svg = render_graph(graph, engine="python", direction=direction)
        paths = re.findall(r'<g class="edge"[^>]*><path d="([^"]*)"', svg)
        assert paths
        for d in paths:
            here = None
            for cmd, points in _segments(d):
                assert cmd == "M" or points[-1] != here, f"{direction}: zero-length segment in {d}"
                here = points[-1]
