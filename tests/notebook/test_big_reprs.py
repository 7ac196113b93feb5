"""Hostile-user trial: the text of a big instance is bounded like the text of a big graph.

``graph_text`` lists the first 300 nodes of a big graph; an instance's ``text/plain`` listed every node name of each
state on one line (69 KB for a 10,000-node chain: what a terminal IPython prints for ``contract``)."""

from __future__ import annotations

import igniter_nb as ig
from igniter_nb.notebook.reprs import STATE_NAMES, contract_mimebundle

N = 400


class Chain(ig.Contract):
    def define(c):
        c.input("x0")
        for i in range(1, N):
            c.compute(f"x{i}", depends_on=[f"x{i - 1}"], call=lambda **kw: 1)
        c.output(f"x{N - 1}")


def test_a_big_instance_lists_a_bounded_number_of_names_per_state():
    chain = Chain(x0=1)
    chain.resolve_all()
    text = contract_mimebundle(chain, engine="python")["text/plain"]
    lines = text.splitlines()
    assert len(lines) == 2 and lines[1].startswith("  succeeded: x0, x1, ")
    assert lines[1].endswith(f", x{STATE_NAMES - 1}, … {N - STATE_NAMES:,} more")
    assert len(text) < 1_000


def test_a_big_graph_text_says_how_many_outputs_it_leaves_out():
    def define(c):
        c.input("a")
        for i in range(400):
            c.compute(f"c{i}", depends_on=["a"], call=lambda a: a)
            c.output(f"c{i}")

    from igniter_nb.notebook.reprs import graph_mimebundle

    lines = graph_mimebundle(ig.compile(define, name="Wide"), engine="python")["text/plain"].splitlines()
    assert "Outputs: 400" in lines
    assert lines[-2:] == ["- output.c49 -> c49", "… 350 more outputs"]
