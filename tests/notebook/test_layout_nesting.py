"""Hostile-user trial of the pure-Python layout: deeply nested scopes.

A chain whose every node opens one more scope (``with c.scope(...)`` 12 deep) drew as a staircase: each band went
beside its parent's own nodes although they share no layer, so the picture grew by a node width per level (1,450 px
at 12 levels, 5,850 px at 50 — scaled to the output width, text at a sixth of its size), and the room reserved for
the deepest nesting of band labels stayed blank above the drawing. A band also must not cover a node that is not
in its scope."""

from __future__ import annotations

import contextlib

import pytest

import igniter_nb as ig
from igniter_nb.diagnostics.geometry import FIT_WIDTH
from igniter_nb.diagnostics.view import graph_view
from igniter_nb.notebook.layout import MARGIN, layout, title_height

DEPTH = 12


def nested_chain(depth: int = DEPTH):
    def define(c):
        c.input("a")
        prev = "a"
        with contextlib.ExitStack() as stack:
            for d in range(depth):
                stack.enter_context(c.scope(f"s{d}"))
                c.compute(f"n{d}", depends_on=[prev], call=lambda **kw: 1)
                prev = f"n{d}"
        c.output(prev)

    return ig.compile(define, name="Nested")


@pytest.mark.parametrize("direction", ["TB", "LR"])
def test_nested_scopes_neither_staircase_nor_cover_outsiders(direction):
    view = graph_view(nested_chain())
    lay = layout(view, direction=direction)
    if direction == "TB":  # the direction chosen for it: a chain reads down
        assert lay.width <= FIT_WIDTH, "the nesting fits the output width"
    top = title_height(view, lay.legend_wrap)
    first = min(b.y for b in (*lay.boxes.values(), *lay.clusters.values()))
    assert first <= top + MARGIN + 0.5, "no blank strip between the legend and the drawing"
    for node in view.nodes:
        box = lay.boxes[node.id]
        for scope, band in lay.clusters.items():
            if node.scope[:len(scope)] == scope:
                continue
            apart = (box.x + box.w <= band.x or band.x + band.w <= box.x
                     or box.y + box.h <= band.y or band.y + band.h <= box.y)
            assert apart, f"{node.id} is drawn inside scope {'.'.join(scope)}"
