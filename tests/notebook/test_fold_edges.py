"""Edges of a folded layer (pure-Python layout) never pass through, nor run against, a node box they do not start or end at.

A node with 200 inputs (folded into 5 columns) drew the edges of each column converging onto a slot 4.9 px from
the next column's box (in_060, in_100, ...): they read as entering it; 60 awaits folded into rows of two ran
3.6 px from the boxes beside their slot. Both engines' SVG is read (``edgecheck``: boxes, Bézier edges sampled)."""

from __future__ import annotations

import pytest
from edgecheck import read, too_near
from test_layout_fold import awaits, fan

import igniter_nb as ig
from igniter_nb.notebook.render import dot_available, render_graph

CLEAR = 5.5  # px an edge keeps from a box it does not start or end at (the bundles converged 3.6-4.9 px away)
#: dot does not fold (a 200-input node is one column 12,000 px tall); its edges pass through no box, though where
#: a hundred of them fan into one node they run ~3 px from the boxes beside it
DOT_CLEAR = 0.5


def two_consumers():
    """A folded layer of 160 inputs feeding two computes: 0-99 feed ``low``, 60-159 feed ``high``."""
    def define(c):
        for i in range(160):
            c.input(f"in_{i:03d}")
        c.compute("low", depends_on=[f"in_{i:03d}" for i in range(100)], call=lambda **kw: 1)
        c.compute("high", depends_on=[f"in_{i:03d}" for i in range(60, 160)], call=lambda **kw: 1)
        c.compute("both", depends_on=["low", "high"], call=lambda **kw: 1)
        c.output("both")

    return ig.compile(define, name="TwoConsumers")



CASES = {
    "fan200-LR": (lambda: fan(200), "LR"),
    "awaits60-TB": (lambda: awaits(60), "TB"),
    "awaits60-auto": (lambda: awaits(60), None),
    "two-consumers-LR": (two_consumers, "LR"),
    "two-consumers-TB": (two_consumers, "TB"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_layout_keeps_folded_edges_clear_of_other_boxes(case):
    make, direction = CASES[case]
    graph = make()
    svg = render_graph(graph, engine="python", direction=direction, size="full")
    boxes, edges = read(svg)
    assert len(boxes) > 60 and len(edges) > 60, (len(boxes), len(edges))  # the whole graph read
    assert too_near(svg, CLEAR) == []


@pytest.mark.skipif(not dot_available(), reason="Graphviz dot is not installed")
@pytest.mark.parametrize("case", sorted(CASES))
def test_dot_edges_pass_through_no_other_box(case):
    make, direction = CASES[case]
    graph = make()
    svg = render_graph(graph, engine="dot", direction=direction, size="full")
    boxes, edges = read(svg)
    assert len(boxes) > 60 and len(edges) > 60, (len(boxes), len(edges))  # the whole graph read
    assert too_near(svg, DOT_CLEAR) == []


def test_the_check_sees_an_edge_through_a_box():
    svg = ('<svg xmlns="http://www.w3.org/2000/svg"><g class="node" data-id="a" data-box="0 0 10 10"/>'
           '<g class="node" data-id="b" data-box="50 0 10 10"/><g class="node" data-id="c" data-box="100 0 10 10"/>'
           '<g class="edge" data-tail="a" data-head="c"><path d="M10,5 C40,5 70,5 100,5"/></g></svg>')
    assert too_near(svg, CLEAR) == [("a", "c", "b", 0.0)]
    assert too_near(svg.replace("50 0 10 10", "50 12 10 10"), CLEAR) == []
