"""A big graph collapsed into blocks of its resolution order keeps its inputs apart: a block holds inputs only or
none, and a run of one node stays that node. 300 inputs of one node were cut into blocks of eight with the node
itself, so the picture said ``block 38: 5 nodes: dep_296 … sink`` and the node with 300 dependencies was drawn
nowhere."""

from __future__ import annotations

from typing import Any

import igniter_nb as ig
from igniter_nb.diagnostics.collapse import MAX_BLOCKS
from igniter_nb.diagnostics.view import graph_view
from igniter_nb.model import InputNode


def fan_in(n: int, consumers: int = 1) -> Any:
    def define(c: Any) -> None:
        for i in range(n):
            c.input(f"dep_{i}")
        for j in range(consumers):
            c.compute(f"sink_{j}", depends_on=[f"dep_{i}" for i in range(n)], call=lambda **kw: 1)
        c.output("sink_0")

    return ig.compile(define, name=f"Fan{n}")


def test_the_node_with_300_dependencies_is_drawn_as_itself():
    graph = fan_in(300)
    view = graph_view(graph)
    visible = {(n.name, n.kind) for n in view.nodes}
    assert ("sink_0", "compute") in visible and ("sink_0", "output") in visible
    groups = [n for n in view.nodes if n.kind == "scope"]
    assert len(groups) == 38 and all(" inputs: dep_" in n.label[1] for n in groups)
    assert groups[-1].label[1] == "4 inputs: dep_296 … dep_299"
    edges = {(e.tail, e.head) for e in view.edges}
    sink = next(n.id for n in view.nodes if n.name == "sink_0" and n.kind == "compute")
    assert all((g.id, sink) in edges for g in groups)  # every block of inputs points at the node reading them


def test_no_block_mixes_inputs_with_other_nodes():
    graph = fan_in(240, consumers=50)  # the dense graph: 12,000 edges
    inputs = {n.name for n in graph.nodes if isinstance(n, InputNode)}
    view = graph_view(graph)
    groups = [n for n in view.nodes if n.kind == "scope"]
    assert groups and len(view.nodes) <= MAX_BLOCKS + 2
    for g in groups:
        first, _, last = g.label[1].partition(": ")[2].partition(" … ")
        assert (first in inputs) == (last in inputs), g.label
        assert ("inputs:" in g.label[1]) == (first in inputs), g.label


def test_a_block_of_one_node_is_that_node():
    def define(c: Any) -> None:  # 13 inputs are too many to show one by one: 313 nodes in blocks of eight
        for i in range(13):
            c.input(f"in_{i}")
        prev = [f"in_{i}" for i in range(13)]
        for i in range(300):
            c.compute(f"x{i}", depends_on=prev, call=lambda **kw: 1)
            prev = [f"x{i}"]
        c.output("x299")

    view = graph_view(ig.compile(define, name="Chain"))
    groups = [n for n in view.nodes if n.kind == "scope"]
    assert groups and all(not n.label[1].startswith("1 ") for n in groups)
    assert all(n.label[1].count(" … ") == 1 for n in groups)
