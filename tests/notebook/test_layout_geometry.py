"""The pure-Python layout's geometry on generated graphs (hypothesis): no edge passes through a node box it does
not start or end at — forward edges, long edges through dummy slots, and backward "waits for" edges — in both
directions; every node stays on the canvas."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from contracts import AllKinds, ApprovalContract, random_graph
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from svgcheck import overlaps

import igniter_nb as ig
from igniter_nb.diagnostics.geometry import text_width
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


@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_the_waits_for_edge_attaches_apart_from_the_edges_drawn_forward(direction):
    # drawn from the port of a forward edge, the dotted edge read as if that edge were waiting (issue 12, 04)
    c = ApprovalContract(order_id="o-1", order_total=5)
    c.resolve_all()
    lay = layout(graph_view(c.graph, states=c), direction=direction)
    wait = lay.routes[("n_summary", "n_approval")].polyline()
    ends = [p for (tail, head), r in lay.routes.items() if (tail, head) != ("n_summary", "n_approval")
            for p in (r.polyline()[0], r.polyline()[-1]) if {tail, head} & {"n_summary", "n_approval"}]
    for point in (wait[0], wait[-1]):
        assert min(abs(point[0] - q[0]) + abs(point[1] - q[1]) for q in ends) > 8


class _Quote(ig.Contract):
    def define(c):
        c.input("amount", type="numeric")
        c.compute("price_including_every_tax", depends_on=["amount"], call=lambda amount: amount)
        c.output("price_including_every_tax")


class _Cart(ig.Contract):
    def define(c):
        c.input("amount", type="numeric")
        c.compose("quote", contract=_Quote, inputs={"amount": "amount"})
        c.output("price", source="quote.price_including_every_tax")
        c.compute("total", depends_on=["price"], call=lambda price: price)
        c.output("total")


@pytest.mark.parametrize("graph", [AllKinds.compiled_graph(), _Cart.compiled_graph()], ids=["all_kinds", "cart"])
def test_edge_labels_fit_between_the_columns(graph):
    # left to right, a label runs along the gap before its head: the gap grows to hold it
    view = graph_view(graph)
    lay = layout(view, direction="LR")
    labelled = [e for e in view.edges if e.label]
    assert labelled
    for e in labelled:
        x, y = lay.routes[(e.tail, e.head)].label_at
        half = text_width(e.label) * 10 / 12 / 2
        for node, box in lay.boxes.items():
            inside_y = box.y - 2 < y - 4 < box.y + box.h + 2
            assert not (inside_y and x - half < box.x + box.w and box.x < x + half), (e.label, node)


def test_output_edges_carry_no_label_the_output_names_its_source():
    view = graph_view(ApprovalContract.compiled_graph())
    tax = next(n for n in view.nodes if n.id == "o_tax")
    assert "output ← taxes.tax" in tax.label
    assert [e.label for e in view.edges if e.head.startswith("o_")] == ["", ""]
