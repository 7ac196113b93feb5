"""Hostile-user trial: a succeeded node whose value says more than its status shows it in the picture.

In ``collect`` mode a collection succeeds with failed items, and a branch succeeds whichever contract it ran: the
green box alone told a reader that nothing failed and not which way the branch went."""

from __future__ import annotations

import re

import igniter_nb as ig
from igniter_nb.notebook.render import render_graph


class Worker(ig.Contract):
    def define(c):
        c.input("id", type=int)

        @c.compute
        def done(id):
            if id == 2:
                raise ValueError("worker 2 is off " + "x" * 10_000)
            return id

        c.output("done")


class Fast(ig.Contract):
    def define(c):
        c.input("weight")
        c.output("weight")


class Slow(ig.Contract):
    def define(c):
        c.input("weight")
        c.output("weight")


class Crew(ig.Contract):
    def define(c):
        c.input("workers")
        c.input("weight")
        c.collection("work", source="workers", each=Worker, key="id")
        c.branch("route", selector="weight", cases={1: Fast, 2: Slow}, inputs={"weight": "weight"})
        c.output("work")
        c.output("route")


def _node_texts(svg: str, node_id: str) -> list[str]:
    group = re.search(rf'<g class="node" data-id="{node_id}".*?</g>', svg, re.S)
    assert group is not None, node_id
    return re.findall(r"<text[^>]*>([^<]*)</text>", group.group(0))


def test_a_collection_with_failed_items_says_so_and_a_branch_names_what_it_ran():
    crew = Crew(workers=[{"id": 1}, {"id": 2}, {"id": 3}], weight=2)
    crew.resolve_all()
    svg = render_graph(crew, engine="python")
    assert _node_texts(svg, "n_work")[2:] == ["succeeded", "1 of 3 items failed"]
    assert _node_texts(svg, "o_work")[2:] == ["succeeded", "1 of 3 items failed"]
    assert _node_texts(svg, "n_route")[2:] == ["succeeded", "ran Slow"]
    # the same from the states view (what a replay or a states mapping gives)
    from_states = render_graph(Crew.graph, states=crew.states, engine="python")
    assert _node_texts(from_states, "n_work")[2:] == ["succeeded", "1 of 3 items failed"]
    assert _node_texts(from_states, "n_route")[2:] == ["succeeded", "ran Slow"]


def test_a_collection_without_failures_stays_one_line():
    crew = Crew(workers=[{"id": 1}, {"id": 3}], weight=1)
    crew.resolve_all()
    svg = render_graph(crew, engine="python")
    assert _node_texts(svg, "n_work")[2:] == ["succeeded"]
    assert _node_texts(svg, "n_route")[2:] == ["succeeded", "ran Fast"]
