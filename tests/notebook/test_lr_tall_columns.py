"""A big left-to-right picture is folded into as many columns as a picture shown 940 px wide holds (``layout._tall_parts``).

``ig.nb.show(fan, direction='LR')`` of 200 inputs named like ``customer_record_field_7_x_x_x_x_x`` (34 letters)
feeding one compute was drawn as one column of 200 boxes, 586 × 11,266 px without ``dot`` and 535 × 12,054 px with
it: no fold column fitted in ``FOLD_WIDTH`` (900 px) beside a 296 px wide box, and the output area scrolled down
for 12,000 px. 100 pipelines of an input and a compute were two columns of each, 5,666 px tall. A layer whose
columns stay taller than ``TALL_COLUMN`` within ``FOLD_WIDTH`` now folds into columns as short as a drawing
``WRAP_ABOVE`` wide allows (shown 940 px wide, its text at least 0.7 of its size), the long layers sharing it;
``engine="auto"`` draws that picture rather than ``dot``'s when ``dot``'s is more than ``TALLER`` times as tall as it
is shown. Pictures whose folded columns were not that tall are drawn exactly as before."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest
from edgecheck import too_near
from svgcheck import overlaps

import igniter_nb as ig
from igniter_nb.diagnostics.geometry import FIT_WIDTH
from igniter_nb.diagnostics.view import GraphView, graph_view
from igniter_nb.notebook.layout import TALL_COLUMN, layout
from igniter_nb.notebook.layout_wrap import WRAP_ABOVE
from igniter_nb.notebook.picture import draw
from igniter_nb.notebook.render import dot_available, render_view

LONG = "customer_record_field_{}_x_x_x_x_x"
_ROOT = re.compile(r'<svg[^>]*?\swidth="([0-9.]+)"[^>]*?\sheight="([0-9.]+)"')


def fan(n: int, name: str) -> Any:
    def define(c: Any) -> None:
        for i in range(n):
            c.input(name.format(i))
        c.compute("total", depends_on=[name.format(i) for i in range(n)], call=lambda **kw: 1)
        c.output("total")

    return ig.compile(define, name=f"Fan{n}")


def pipelines(n: int) -> Any:
    def define(c: Any) -> None:
        for i in range(n):
            c.input(f"in_{i}_x_x_x_x_x")
            c.compute(f"c_{i}_y_y_y_y_y", depends_on=[f"in_{i}_x_x_x_x_x"], call=lambda **kw: 1)
        c.output("c_0_y_y_y_y_y")

    return ig.compile(define, name=f"Pipelines{n}")


@cache
def _view(kind: str) -> GraphView:
    graph = fan(200, LONG) if kind == "fan" else pipelines(100)
    return graph_view(graph, direction="LR")


@pytest.mark.parametrize(("kind", "before"), [("fan", 11266.0), ("pipelines", 5666.0)])
def test_a_big_left_to_right_picture_is_folded_into_columns_within_the_width_shown(kind: str, before: float) -> None:
    lay = layout(_view(kind))
    assert lay.direction == "LR" and lay.folded
    assert FIT_WIDTH < lay.width <= WRAP_ABOVE  # shown 940 px wide, its text at least 0.7 of its size
    assert lay.height < 0.75 * before, (lay.width, lay.height)
    # every fold column holds about as much as every other: the tallest is at most TALL_COLUMN plus a box
    columns: dict[int, int] = {}
    for layer in lay.layers.values():
        columns[layer] = columns.get(layer, 0) + 1
    assert max(columns.values()) < (200 if kind == "fan" else 100) / 2


@pytest.mark.parametrize("kind", ["fan", "pipelines"])
def test_the_folded_columns_are_drawn_clear(kind: str) -> None:
    view = _view(kind)
    lay = layout(view)
    assert not overlaps({k: (b.x, b.y, b.w, b.h) for k, b in lay.boxes.items()}, gap=4.0)
    assert all(0 <= b.x and b.x + b.w <= lay.width and 0 <= b.y and b.y + b.h <= lay.height for b in lay.boxes.values())
    assert too_near(draw(view, lay), 0.5) == []


def test_engine_auto_shows_the_big_picture_no_taller_than_a_quarter_of_before() -> None:
    svg = render_view(_view("fan"), engine="auto")
    found = _ROOT.search(svg)
    assert found, svg[:300]
    width, height = (float(v) for v in found.groups())
    assert width <= FIT_WIDTH and height < 3_000, (width, height)  # was 535 × 12,054 (dot) or 586 × 11,266
    assert 'data-direction="LR"' in svg


def test_a_fan_whose_columns_fit_is_folded_as_before() -> None:
    # 200 short names fold into columns about 2,250 px tall within FOLD_WIDTH: not past TALL_COLUMN, unchanged
    lay = layout(graph_view(fan(200, "in_{:03d}"), direction="LR"))
    assert (lay.width, lay.height) == (916.4, 2332.7)
    assert lay.height < TALL_COLUMN


@pytest.mark.skipif(not dot_available(), reason="Graphviz dot is not installed")
def test_engine_dot_still_draws_dots_picture() -> None:
    svg = render_view(_view("fan"), engine="dot")
    assert "data-direction" not in svg  # dot's own picture, as asked
