"""The pure-Python layout's geometry on generated graphs (hypothesis): no edge passes through a node box it does
not start or end at — forward edges, long edges through dummy slots, and backward "waits for" edges — in both
directions; every node stays on the canvas."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from contracts import ApprovalContract, random_graph
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from svgcheck import overlaps

from igniter_nb.diagnostics.view import ViewEdge, graph_view
from igniter_nb.notebook.layout import Layout, layout

EPS = 0.75  # px: a route may touch a box border where it leaves or enters a neighbour's column


def _hits(p: tuple[float, float], q: tuple[float, float], box) -> bool:
    """Whether segment p→q enters the box (shrunk by EPS), by Liang–Barsky clipping."""
    x0, y0, x1, y1 = box.x + EPS, box.y + EPS, box.x + box.w - EPS, box.y + box.h - EPS
    dx, dy = q[0] - p[0], q[1] - p[1]
    lo, hi = 0.0, 1.0
    for pk, qk in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if pk == 0:
            if qk < 0:
                return False
            continue
        t = qk / pk
        if pk < 0:
            lo = max(lo, t)
        else:
            hi = min(hi, t)
        if lo > hi:
            return False
    return True


def crossings(lay: Layout) -> list[tuple[str, str, str]]:
    """(tail, head, node) for every edge segment that passes through a node box other than its ends."""
    found = []
    for (tail, head), route in lay.routes.items():
        pts = route.polyline(16)
        for node, box in lay.boxes.items():
            if node in (tail, head):
                continue
            if any(_hits(p, q, box) for p, q in itertools.pairwise(pts)):
                found.append((tail, head, node))
    return found


def _with_wait_edges(view, seed: int):
    """Add "waits for" edges from late nodes back to early ones (as an instance view draws them)."""
    ids = [n.id for n in view.nodes if n.kind != "output"]
    extra = tuple(ViewEdge(ids[-1 - k], ids[(seed + k) % max(len(ids) // 2, 1)], "waits for", "dotted", wait=True)
                  for k in range(min(2, len(ids) - 1)))
    return dataclasses.replace(view, edges=view.edges + extra)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(2, 40), direction=st.sampled_from(["LR", "TB"]))
def test_no_edge_passes_through_a_node_box(seed, n, direction):
    view = _with_wait_edges(graph_view(random_graph(seed, n)), seed)
    lay = layout(view, direction=direction)
    assert crossings(lay) == []
    boxes = {k: (b.x, b.y, b.w, b.h) for k, b in lay.boxes.items()}
    assert overlaps(boxes, gap=2) == []
    for b in lay.boxes.values():
        assert 0 <= b.x and b.x + b.w <= lay.width and 0 <= b.y and b.y + b.h <= lay.height
    assert set(lay.routes) == {(e.tail, e.head) for e in view.edges}


@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_the_waits_for_edge_of_an_instance_avoids_other_nodes(direction):
    c = ApprovalContract(order_id="o-1", order_total=5)
    c.resolve_all()
    view = graph_view(c.graph, states=c)
    lay = layout(view, direction=direction)
    assert ("n_summary", "n_approval") in lay.routes
    assert crossings(lay) == []
