"""Every seeded random graph of the width sweep fits the notebook output area with ``engine="auto"``.

On main 21 of the 56 ``random_graph`` pictures were wider than 940 px in the pure-Python layout (``random_graph(12,
15)`` 1,330 px) and 9 in both engines with ``dot`` installed. Why (measured on the 21): side-by-side scope bands in
every one of them — bands sharing layers stand beside each other and beside their parent's nodes; no single layer,
band or label is wider than the area on its own. Three are fitted by stacking sibling bands one below the other where
no path leads back, with each band's nodes as late as they may go (``layout_stack``); the others' bands lead to each
other both ways (they cannot be stacked), and are given a size 940 px wide, drawn smaller, every text at least
``MIN_SCALE`` (0.7) of its size (``render.fit_size``); with ``dot`` installed the narrower of both pictures is drawn."""

from __future__ import annotations

import re
from functools import cache

import pytest
from contracts import random_graph
from edgecheck import label_clashes, through_labels, too_near
from test_picture_width import SWEEP

from igniter_nb.diagnostics.geometry import FIT_WIDTH
from igniter_nb.diagnostics.view import GraphView, graph_view
from igniter_nb.notebook.layout import _layout, layout
from igniter_nb.notebook.picture import draw
from igniter_nb.notebook.render import MIN_SCALE, dot_available, render_view

_SIZE = re.compile(r'<svg[^>]*?\swidth="([0-9.]+)"[^>]*?\sheight="([0-9.]+)"[^>]*?viewBox="0 0 ([0-9.]+) ([0-9.]+)"')
_DOT_SIZE = re.compile(r'<svg width="([0-9.]+)" height="([0-9.]+)"[^>]*?viewBox="[-0-9.]+ [-0-9.]+ ([0-9.]+) ([0-9.]+)"')


def _size(svg: str) -> tuple[float, float, float, float]:
    """(width, height, viewBox width, viewBox height) of either engine's picture."""
    found = _SIZE.search(svg) or _DOT_SIZE.search(svg)
    assert found, svg[:300]
    return tuple(float(v) for v in found.groups())  # type: ignore[return-value]


@cache
def _view(seed: int, n: int, direction: str | None) -> GraphView:
    return graph_view(random_graph(seed, n), direction=direction)


def _fits(svg: str, unfolded_height: float) -> None:
    w, h, vw, vh = _size(svg)
    assert w <= FIT_WIDTH, (w, vw)
    assert w / vw >= MIN_SCALE - 1e-3  # every text at least 0.7 of its size: 12 px names at least 8.4 px
    assert abs(w / vw - h / vh) < 0.01  # the aspect kept
    # no tower: at most three times as tall as the picture drawn with nothing folded or stacked (measured: 1.2)
    assert h <= 3 * unfolded_height, (h, unfolded_height)


@pytest.mark.parametrize(("seed", "n"), SWEEP)
@pytest.mark.parametrize("direction", [None, "TB"])
def test_every_seeded_graph_fits_with_engine_auto_without_dot(seed, n, direction, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("IGNITER_NB_RENDER", raising=False)
    view = _view(seed, n, direction)
    svg = render_view(view)
    _fits(svg, _layout(view, direction or layout(view).direction).height)
    assert through_labels(svg) == [] and label_clashes(svg) == [] and too_near(svg, 0.5) == []


@pytest.mark.skipif(not dot_available(), reason="Graphviz dot is not installed")
@pytest.mark.parametrize(("seed", "n"), SWEEP)
@pytest.mark.parametrize("direction", [None, "LR", "TB"])
def test_every_seeded_graph_fits_with_engine_auto_and_dot(seed, n, direction, monkeypatch) -> None:
    monkeypatch.delenv("IGNITER_NB_RENDER", raising=False)
    view = _view(seed, n, direction)
    svg = render_view(view)
    _fits(svg, _size(render_view(view, engine="dot", size="full"))[1] if "data-box" not in svg
          else _layout(view, direction or layout(view).direction).height)


@pytest.mark.parametrize(("seed", "n"), [(13, 10), (31, 10), (11, 15), (14, 15)])
def test_sibling_bands_stack_one_below_the_other_where_no_path_leads_back(seed, n) -> None:
    view = _view(seed, n, None)
    lay = layout(view)
    side = _layout(view, lay.direction)
    assert lay.width < side.width, (lay.width, side.width)
    assert (lay.width <= FIT_WIDTH) == (seed != 11)  # 11: 1,150 → 1,062 px, drawn 940 px wide by fit_size
    svg = draw(view, lay)
    assert too_near(svg, 0.5) == [] and through_labels(svg) == [] and label_clashes(svg) == []
    for e in view.edges:  # every edge still points down
        if not e.wait and e.tail != e.head:
            assert lay.boxes[e.tail].y < lay.boxes[e.head].y, (e.tail, e.head)


@pytest.mark.parametrize(("seed", "n"), SWEEP)
def test_no_seeded_picture_is_wider_than_with_its_bands_side_by_side(seed, n, monkeypatch) -> None:
    import igniter_nb.notebook.layout as module

    views = {d: _view(seed, n, d) for d in (None, "LR", "TB")}
    drawn = {d: layout(v).width for d, v in views.items()}
    monkeypatch.setattr(module, "stack_edges", lambda *_: [])  # the layout as on main
    monkeypatch.setattr(module, "later_bands", lambda view, edges, layer: layer)
    for d, v in views.items():
        assert drawn[d] <= layout(v).width, d


#: left to right asked for, without dot: wider than ``FIT_WIDTH / MIN_SCALE`` in one row (their columns of long
#: names); wrapped into rows that fit (``layout_wrap``, tests/notebook/test_lr_fold_rows.py)
WRAPPED_LR = {(2, 10), (3, 10), (32, 10), (33, 10), (2, 15), (3, 15), (7, 15), (8, 15), (12, 15)}


def test_fit_size_draws_smaller_down_to_min_scale_only(monkeypatch) -> None:
    from igniter_nb.notebook.render import fit_size

    assert fit_size(940, 500) == (940, 500) and fit_size(300, 2000) == (300, 2000)
    assert fit_size(1175, 500) == (940.0, 400.0)
    assert fit_size(FIT_WIDTH / MIN_SCALE + 1, 500) == (FIT_WIDTH / MIN_SCALE + 1, 500)
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("IGNITER_NB_RENDER", raising=False)
    view = _view(12, 15, None)
    assert _size(render_view(view))[:3] == (940.0, 439.7, 1329.8)
    assert _size(render_view(view, engine="python"))[0] == 1329.8  # asked for: its natural size
    assert _size(render_view(view, size="full"))[0] == 1329.8
    too_wide = {(s, n) for s, n in SWEEP if _size(render_view(_view(s, n, "LR"), size="full"))[0] > FIT_WIDTH / MIN_SCALE}
    assert too_wide == WRAPPED_LR
    assert all(_size(render_view(_view(s, n, "LR")))[0] <= FIT_WIDTH for s, n in SWEEP)
