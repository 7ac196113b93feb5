"""Hostile-user trial: a graph of few nodes but very many edges has a bounded repr.

240 inputs each read by 50 nodes is 291 nodes — under the 300 that collapse a picture — and 12,001 edges: its
bundle was 20 MB (2.5 MB of text naming every dependency of every node, a 7.7 MB SVG and its 10 MB HTML form).
Above ``EDGE_THRESHOLD`` edges a picture is collapsed into blocks as a big graph is, and the text lists at most
``TEXT_DEPENDENCIES`` dependencies per node."""

from __future__ import annotations

import igniter_nb as ig
from igniter_nb.diagnostics.collapse import EDGE_THRESHOLD, edge_count
from igniter_nb.notebook.reprs import TEXT_DEPENDENCIES, graph_mimebundle


def dense_graph():
    def define(c):
        names = [f"input_{i}_" + "x" * 190 for i in range(240)]
        for name in names:
            c.input(name)
        for j in range(50):
            c.compute(f"sum_{j}_" + "y" * 190, depends_on=names, call=lambda **kw: 1)
        c.output("sum_0_" + "y" * 190)

    return ig.compile(define, name="Dense")


def test_a_dense_graph_has_a_bounded_bundle():
    graph = dense_graph()
    assert len(graph.nodes) + len(graph.outputs) < 300 and edge_count(graph) > EDGE_THRESHOLD
    bundle = graph_mimebundle(graph, engine="python")
    assert len(bundle["text/plain"]) < 300_000
    assert len(bundle["image/svg+xml"]) < 300_000
    assert "12,001 edges" in bundle["image/svg+xml"] and "groups collapsed" in bundle["image/svg+xml"]
    assert f",… {240 - TEXT_DEPENDENCIES} more" in bundle["text/plain"]
    assert bundle == graph_mimebundle(graph, engine="python")  # deterministic


def test_a_graph_under_both_thresholds_is_drawn_and_listed_whole():
    def define(c):
        names = [f"in_{i}" for i in range(30)]
        for name in names:
            c.input(name)
        c.compute("total", depends_on=names, call=lambda **kw: 1)
        c.output("total")

    graph = ig.compile(define, name="Wide")
    bundle = graph_mimebundle(graph, engine="python")
    assert "collapsed" not in bundle["image/svg+xml"]
    assert "in_29" in bundle["text/plain"] and "more" not in bundle["text/plain"]
