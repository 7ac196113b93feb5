"""Hostile-user trial (pictures-width): scoped random graphs drawn wider than the notebook output area by the pure-
Python layout where ``dot`` fits them.

``random_graph(44, 15)`` was 1,172 px wide, ``random_graph(14, 10)`` 1,132 px: a scope band was placed beside the
widest row of its parent's own nodes even in layers the band does not reach (a row of inputs at the top, of outputs
at the bottom pushed every band aside), and nothing else was tried once both directions were too wide. Now a band
goes beside the own nodes of the layers it spans only, and a drawing still too wide is drawn again with the layers
beside bands packed close (``compact``).

Most of the remaining graphs ``dot`` fits where this layout does not, ``dot`` fits by drawing edges between scopes
backwards or flat (its clusters are ranked as blocks: ``random_graph(41, 15)`` is 727 px in ``dot`` with
``n2 → n3 → n5`` drawn in one rank). The sweep holds the layout to ``dot`` only where ``dot`` keeps every edge
pointing forward; the measured exceptions are listed with why (docs/notebook.md)."""

from __future__ import annotations

import itertools
import re
import subprocess
from functools import cache
from typing import Any

import pytest
from contracts import random_graph
from svgcheck import overlaps
from test_layout_geometry import crossings

from igniter_nb.diagnostics.dot import view_to_dot
from igniter_nb.diagnostics.geometry import FIT_WIDTH, choose_direction
from igniter_nb.diagnostics.view import GraphView, graph_view
from igniter_nb.notebook.layout import _layout, layout
from igniter_nb.notebook.render import clean_dot_svg, dot_available, run_dot

needs_dot = pytest.mark.skipif(not dot_available(), reason="Graphviz dot is not installed")

SWEEP = [(seed, 10) for seed in range(40)] + [(seed, 15) for seed in range(16)]

#: graphs ``dot`` fits with every edge forward that this layout does not (Graphviz 2.43): (seed, n) → this layout's
#: width, and why
EXCEPTIONS = {
    # (31, 10) was 1,019 px: a nested scope spread over every layer by longest-path layering, beside band b; now
    # band b is stacked below it (layout_stack, test_picture_fit_all.py), 858.8 px
    # five columns of long names left to right (the layers' widest nodes alone are 945 px); dot's ranks are 32 px
    # apart where this layout leaves 56 px for edge labels and bends: dot 848 px
    (34, 10): (964.8, "five columns of long names left to right"),
}

_WIDTH = re.compile(r'<svg[^>]*?\swidth="([0-9.]+)')


def _width(svg: str) -> float:
    found = _WIDTH.search(svg)
    assert found, svg[:200]
    return float(found.group(1))


@cache
def _view(seed: int, n: int) -> GraphView:
    return graph_view(random_graph(seed, n))


def _dot_forward(view: GraphView, direction: str) -> bool:
    """Whether ``dot`` draws every edge of ``view`` (waits aside) pointing forward in ``direction``."""
    plain = subprocess.run(["dot", "-Tplain"], input=view_to_dot(view, direction=direction).source.encode(),
                           capture_output=True, check=True, timeout=30).stdout.decode()
    at = {p[1]: (float(p[2]), float(p[3])) for p in (line.split() for line in plain.splitlines()) if p[:1] == ["node"]}
    for e in view.edges:
        if e.wait or e.tail == e.head:
            continue
        (tx, ty), (hx, hy) = at[e.tail], at[e.head]
        if not (hx > tx + 0.01 if direction == "LR" else hy < ty - 0.01):  # plain's y grows upwards
            return False
    return True


def _dot_fit(view: GraphView) -> tuple[float, bool]:
    """``dot``'s picture width in the direction it chooses (``render._dot_svg``'s rule) and whether it keeps every
    edge forward there."""
    first = choose_direction(view)
    widths = {d: _width(clean_dot_svg(run_dot(view_to_dot(view, direction=d).source))) for d in ("LR", "TB")}
    other = "TB" if first == "LR" else "LR"
    chosen = first if widths[first] <= FIT_WIDTH or widths[other] >= widths[first] else other
    return widths[chosen], widths[chosen] <= FIT_WIDTH and _dot_forward(view, chosen)


@needs_dot
def test_every_picture_dot_fits_with_its_edges_forward_fits_in_the_pure_python_layout_too() -> None:
    too_wide, backwards = {}, []
    for seed, n in SWEEP:
        view = _view(seed, n)
        width = layout(view).width
        if width <= FIT_WIDTH:
            continue
        dot_width, forward = _dot_fit(view)
        if dot_width > FIT_WIDTH:
            continue
        if forward:
            too_wide[(seed, n)] = (width, dot_width)
        else:
            backwards.append((seed, n))
    # another Graphviz may fit fewer of them, not more: a new graph here is a regression of this layout
    assert set(too_wide) <= set(EXCEPTIONS), too_wide
    assert len(backwards) >= 9  # the sweep measures something: most of what dot fits, it fits by cheating


@pytest.mark.parametrize(("seed", "n"), sorted(EXCEPTIONS))
def test_the_measured_exceptions_are_as_wide_as_the_docs_say(seed, n) -> None:
    assert layout(_view(seed, n)).width == EXCEPTIONS[(seed, n)][0] > FIT_WIDTH


@pytest.mark.parametrize(("seed", "n", "before", "after"), [(14, 10, 1132.0, 844.5), (44, 15, 1172.1, 917.0),
                                                         (16, 15, 1176.9, 959.7)])
def test_scope_bands_no_longer_stand_aside_for_rows_they_do_not_reach(seed, n, before, after) -> None:
    lay = layout(_view(seed, n))
    assert lay.width == after and after < before


@pytest.mark.parametrize(("seed", "n"), SWEEP)
@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_the_compact_packing_keeps_boxes_apart_inside_their_bands_and_edges_off_them(seed, n, direction) -> None:
    view = _view(seed, n)
    lay = _layout(view, direction, compact=True)
    boxes = {k: (b.x, b.y, b.w, b.h) for k, b in lay.boxes.items()}
    assert not overlaps(boxes, gap=1.0)
    assert not crossings(lay)
    for node in view.nodes:
        b = lay.boxes[node.id]
        for k in range(1, len(node.scope) + 1):
            band = lay.clusters[node.scope[:k]]
            assert band.x < b.x and b.x + b.w < band.x + band.w and band.y < b.y and b.y + b.h < band.y + band.h
        for scope, band in lay.clusters.items():  # and outside the bands it is not in
            if node.scope[:len(scope)] != scope:
                assert (b.x + b.w <= band.x or band.x + band.w <= b.x or b.y + b.h <= band.y
                        or band.y + band.h <= b.y), (node.id, scope)
    for (s, a), (t, c) in itertools.combinations(sorted(lay.clusters.items()), 2):
        if s[:-1] == t[:-1]:
            assert a.x + a.w <= c.x or c.x + c.w <= a.x or a.y + a.h <= c.y or c.y + c.h <= a.y, (s, t)


def test_the_compact_packing_is_tried_top_to_bottom_only_on_a_picture_it_may_bring_within_the_area(monkeypatch) -> None:
    # left to right the width is the columns' (packing cannot change it); a picture far too wide is not drawn
    # twice more (an expanded 1,000-node graph took 0.6 s, 1.4 s with both packings tried)
    import igniter_nb.notebook.layout as module

    calls: list[tuple[str, bool]] = []
    real = module._layout

    def counted(view: GraphView, direction: str, compact: bool = False, fold_at: float | None = None,
                *more: Any, **deadline: Any) -> module.Layout:
        if not more:  # (not the drawings made again to give band labels room: test_layout_band_labels.py)
            calls.append((direction, compact))
        return real(view, direction, compact, fold_at, *more, **deadline)

    monkeypatch.setattr(module, "_layout", counted)
    assert layout(_view(44, 15)).width == 917.0
    assert ("TB", True) in calls and ("LR", True) not in calls
    calls.clear()
    far = graph_view(random_graph(5, 300), expand=True)
    assert layout(far).width > 1.5 * FIT_WIDTH
    assert sorted(calls) == [("LR", False), ("TB", False)]


@needs_dot
def test_auto_draws_the_layout_where_dot_is_too_wide_both_ways_and_the_layout_fits(monkeypatch) -> None:
    # of the 56 graphs dot fits 46; engine="auto" 47: random_graph(8, 15) is 1,039 px in dot, 828 px here
    from igniter_nb.notebook.render import render_view

    monkeypatch.delenv("IGNITER_NB_RENDER", raising=False)
    view = _view(8, 15)
    assert _width(render_view(view, engine="dot")) > FIT_WIDTH
    assert render_view(view) == render_view(view, engine="python")
    assert _width(render_view(view)) == 827.7
