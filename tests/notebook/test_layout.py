"""The pure-Python SVG layout: readable (no overlapping nodes), inside its canvas, collapse above 300."""

from __future__ import annotations

import itertools

import pytest
from contracts import AllKinds, ApprovalContract, PriceContract, layered_graph
from svgcheck import SVG, node_boxes, overlaps, parse

from igniter_nb.diagnostics.dot import graph_view
from igniter_nb.notebook.layout import layout
from igniter_nb.notebook.picture import layout_svg


@pytest.mark.parametrize(("n", "scope_size"), [(50, 10), (50, None), (300, 10), (300, None)])
def test_no_node_boxes_overlap(n, scope_size):
    view = graph_view(layered_graph(n, scope_size=scope_size), expand=True)
    svg = layout_svg(view)
    boxes = node_boxes(svg)
    assert len(boxes) == n + 1
    assert overlaps(boxes, gap=4) == []
    root = parse(svg)
    width, height = (float(v) for v in root.get("viewBox").split()[2:])
    for x, y, w, h in boxes.values():
        assert x >= 0 and y >= 0 and x + w <= width and y + h <= height


@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_every_edge_goes_forward_between_layers(direction):
    view = graph_view(layered_graph(120, scope_size=None), expand=True)
    lay = layout(view, direction=direction, wrap=False)  # (in one row: rows are tests/notebook/test_lr_fold_rows.py's)
    for e in view.edges:
        assert lay.layers[e.head] > lay.layers[e.tail]
        head, tail = lay.boxes[e.head], lay.boxes[e.tail]
        assert head.x > tail.x + tail.w if direction == "LR" else head.y > tail.y + tail.h


def test_scope_bands_contain_their_nodes_and_do_not_overlap():
    view = graph_view(layered_graph(80, scope_size=20), expand=True)
    lay = layout(view)
    assert sorted(lay.clusters) == [("s000",), ("s001",), ("s002",), ("s003",)]
    for n in view.nodes:
        if n.scope:
            band, box = lay.clusters[n.scope], lay.boxes[n.id]
            assert band.x <= box.x and box.x + box.w <= band.x + band.w
            assert band.y <= box.y and box.y + box.h <= band.y + band.h
    bands = sorted(lay.clusters.values(), key=lambda b: b.y)
    for upper, lower in itertools.pairwise(bands):
        assert upper.y + upper.h <= lower.y


def test_kinds_states_and_wait_edges_are_drawn():
    c = ApprovalContract(order_id="o-1", order_total=5)
    c.resolve_all()
    svg = layout_svg(graph_view(c.graph, states=c, status="waiting"))
    root = parse(svg)
    nodes = {g.get("data-id"): g for g in root.iter(f"{SVG}g") if g.get("class") == "node"}
    assert nodes["n_approval"].get("data-status") == "waiting"
    assert nodes["n_approval"].get("data-kind") == "await"
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "waiting for event manager_approved" in texts
    assert "ApprovalContract — waiting" in texts and "correlate by: order_id" in texts
    waits = [g for g in root.iter(f"{SVG}g") if g.get("class") == "edge" and g.get("data-head") == "n_approval"
             and "igniter-arrow-wait" in (g.find(f"{SVG}path").get("marker-end") or "")]
    assert len(waits) == 1


def test_all_kinds_render_with_distinct_shapes():
    svg = layout_svg(graph_view(AllKinds.graph))
    boxes = node_boxes(svg)
    assert len(boxes) == 17 and overlaps(boxes) == []
    assert svg.count("<polygon") >= 8 and "<ellipse" in svg and "<path" in svg


def test_large_graphs_collapse_into_scopes_and_expand_without_overlaps():
    # (how fast: bench/notebook.py, B7 — no clocks in unit tests)
    graph = layered_graph(1000)
    svg = layout_svg(graph_view(graph))
    assert len(node_boxes(svg)) == 102  # input + 100 scopes + output
    full = layout_svg(graph_view(graph, expand=True))
    boxes = node_boxes(full)
    assert len(boxes) == 1001 and overlaps(boxes) == []


def test_collapsed_cycles_between_scopes_still_lay_out():
    # Scopes a and b feed each other through different members: collapsed, they form a cycle.
    import igniter_nb as ig

    def define(c):
        c.input("x")
        with c.scope("a"):
            c.compute("a1", depends_on=["x"], call=lambda x: x)
        with c.scope("b"):
            c.compute("b1", depends_on=["a1"], call=lambda a1: a1)
        with c.scope("a"):
            c.compute("a2", depends_on=["b1"], call=lambda b1: b1)
        c.output("a2")

    view = graph_view(ig.compile(define), collapse_above=2)
    assert view.collapsed == ("a", "b")
    boxes = node_boxes(layout_svg(view))
    assert set(boxes) == {"n_x", "s_a", "s_b", "o_a2"} and overlaps(boxes) == []


def test_layout_is_deterministic():
    view = graph_view(PriceContract.graph)
    assert layout_svg(view) == layout_svg(graph_view(PriceContract.graph))
