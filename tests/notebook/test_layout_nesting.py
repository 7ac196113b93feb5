"""Hostile-user trial of the pure-Python layout: deeply nested scopes.

A chain whose every node opens one more scope (``with c.scope(...)`` 12 deep) drew as a staircase: each band went
beside its parent's own nodes although they share no layer, so the picture grew by a node width per level (1,450 px
at 12 levels, 5,850 px at 50 — scaled to the output width, text at a sixth of its size), and the room reserved for
the deepest nesting of band labels stayed blank above the drawing. A band also must not cover a node that is not
in its scope."""

from __future__ import annotations

import contextlib
import itertools

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


def nest_in_first_row():
    """``outer_scope`` whose first row holds only its nested band ``inner``."""

    def define(c):
        c.input("x")
        with c.scope("outer_scope"):
            with c.scope("inner"):
                c.compute("a_long_node_name", depends_on=["x"], call=lambda x: x)
            c.compute("b", depends_on=["a_long_node_name"], call=lambda a_long_node_name: 1)
        c.output("b")

    return ig.compile(define, name="Nest")


def test_a_parent_band_whose_first_row_is_a_nested_band_has_a_strip_for_its_label():
    # top to bottom the outer band began 10 px above the nested one: no strip for its label, which went to the
    # bottom beside the edge out of b; now each band of a nest starting in one row has its strip (16 px)
    from edgecheck import band_labels, label_clashes, through_labels

    from igniter_nb.notebook.layout_bands import BAND_LABEL, BAND_PAD
    from igniter_nb.notebook.layout_labels import BASELINE
    from igniter_nb.notebook.picture import draw

    view = graph_view(nest_in_first_row())
    lay = layout(view, direction="TB")
    outer, inner = lay.clusters[("outer_scope",)], lay.clusters[("outer_scope", "inner")]
    assert inner.y - outer.y == BAND_PAD + BAND_LABEL
    assert lay.band_labels[("outer_scope",)][1] == outer.y + BASELINE  # in its top strip
    svg = draw(view, lay)
    _, y, _, h = band_labels(svg)["outer_scope"]
    assert y + h <= inner.y  # above the nested band, clear of its label
    assert through_labels(svg) == [] and label_clashes(svg) == []


def nest_from_one_row(depth: int):
    """``depth`` scopes, one in another, all starting in the row of the innermost one's node; each outer scope
    reads on after it (the outermost, ``s0``, last)."""

    def define(c):
        c.input("x")
        with contextlib.ExitStack() as stack:
            for d in range(depth):
                stack.enter_context(c.scope(f"s{d}"))
            c.compute("first_node_of_all", depends_on=["x"], call=lambda x: x)
        prev = "first_node_of_all"
        for d in range(depth - 1, -1, -1):
            with contextlib.ExitStack() as stack:
                for k in range(d + 1):
                    stack.enter_context(c.scope(f"s{k}"))
                c.compute(f"after{d}", depends_on=[prev], call=lambda **kw: 1)
            prev = f"after{d}"
        c.output(prev)

    return ig.compile(define, name="NestFromOneRow")


@pytest.mark.parametrize("depth", [2, 3, 5])
def test_each_band_of_a_nest_starting_in_one_row_has_its_strip(depth):
    from edgecheck import label_clashes, through_labels

    from igniter_nb.notebook.picture import draw

    view = graph_view(nest_from_one_row(depth))
    lay = layout(view, direction="TB")
    scopes = sorted(lay.clusters, key=len)
    assert len(scopes) == depth
    for parent, child in itertools.pairwise(scopes):
        assert lay.clusters[child].y - lay.clusters[parent].y == 26.0, (parent, child)  # its pad and strip
    svg = draw(view, lay)
    assert through_labels(svg) == [] and label_clashes(svg) == []
