"""A band split by a wrap into rows is drawn in each row only as tall as what it holds there (``layout_wrap_bands``).

``ig.nb.show(random_graph(12, 15), direction='LR', engine='python')`` was wrapped into two rows; the band ``b`` held
three nodes in the first row and one in the second, and its second piece kept the band's whole height: 134 px for
one 42 px node, the second row 50 px taller than what it holds. Each piece is now cut to its nodes, its nested
pieces, its label and the edges between its own nodes."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from functools import cache

import pytest
from contracts import random_graph
from edgecheck import read, too_near
from test_lr_fold_rows import WRAPPED_LR

from igniter_nb.diagnostics.view import GraphView, graph_view
from igniter_nb.notebook.layout import layout
from igniter_nb.notebook.layout_bands import BAND_LABEL, BAND_PAD
from igniter_nb.notebook.render import render_view

SVG = "{http://www.w3.org/2000/svg}"
#: the height of each wrapped picture drawn with every piece as tall as its band (main before this change)
WHOLE_BAND_HEIGHT = {(2, 10): 1158.0, (3, 10): 932.0, (32, 10): 802.0, (33, 10): 598.0, (2, 15): 1390.0,
                     (3, 15): 1270.0, (7, 15): 1354.0, (8, 15): 1266.0, (12, 15): 1456.0}


@cache
def _view(seed: int, n: int) -> GraphView:
    return graph_view(random_graph(seed, n), direction="LR")


def _pieces(svg: str) -> list[tuple[tuple[str, ...], tuple[float, float, float, float], bool]]:
    """Every band rectangle drawn: (scope, (x, y, w, h), is a later piece)."""
    out = []
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        if g.get("class") in ("cluster", "cluster-continued"):
            rect = g.find(f"{SVG}rect")
            assert rect is not None
            box = tuple(float(rect.get(k, "0")) for k in ("x", "y", "width", "height"))
            out.append((tuple(g.get("data-scope", "").split(".")), box, g.get("class") == "cluster-continued"))
    return out  # type: ignore[return-value]


def test_the_wrapped_pictures_are_shorter_and_none_is_taller() -> None:
    heights = {key: layout(_view(*key)).height for key in WRAPPED_LR}
    assert all(heights[k] <= WHOLE_BAND_HEIGHT[k] for k in WRAPPED_LR), heights
    shorter = [k for k in WRAPPED_LR if heights[k] < WHOLE_BAND_HEIGHT[k]]
    assert len(shorter) >= 5, heights
    assert heights[(12, 15)] <= WHOLE_BAND_HEIGHT[(12, 15)] - 40  # the blank under ``b (cont.)`` is gone


@pytest.mark.parametrize(("seed", "n"), WRAPPED_LR)
def test_each_piece_of_a_split_band_holds_exactly_its_nodes_of_its_row_and_is_no_taller(seed: int, n: int) -> None:
    view = _view(seed, n)
    lay = layout(view)
    svg = render_view(view, engine="python")
    boxes, edges = read(svg)
    scope_of = {node.id: node.scope for node in view.nodes}
    pieces = _pieces(svg)
    split = {scope for scope, _, later in pieces if later}
    checked = 0
    for scope, (px, py, pw, ph), _ in pieces:
        held: list[tuple[float, float]] = []
        for name, (x, y, w, h) in boxes.items():
            if x < px + pw and px < x + w and y < py + ph and py < y + h:  # touches the piece: inside it, its own
                assert scope_of[name][:len(scope)] == scope, (scope, name)
                assert px <= x and x + w <= px + pw and py <= y and y + h <= py + ph, (scope, name)
                held.append((y, y + h))
        if scope not in split:
            continue
        for inner, (ix, iy, iw, ih), _ in pieces:  # its nested pieces inside it
            if len(inner) > len(scope) and inner[:len(scope)] == scope and px <= ix and ix + iw <= px + pw \
                    and py <= iy and iy + ih <= py + ph:
                held.append((iy, iy + ih))
        assert held, scope
        inside = {k for k, (x, y, w, h) in boxes.items() if px <= x and x + w <= px + pw and py <= y and y + h <= py + ph}
        for tail, head, pts in edges:  # an edge between two of its nodes in its row stays inside it
            if tail in inside and head in inside:
                held.extend((y - BAND_PAD, y + BAND_PAD) for x, y in pts if px <= x <= px + pw)
        # no taller than what it holds: its label strip and padding above, its padding below, or else a border
        # pushed one padding past an edge running level along it (never an edge along a band's border)
        level = [y for _, _, pts in edges for (xa, y), (xb, yb) in itertools.pairwise(pts)
                 if abs(y - yb) < 0.5 and min(xa, xb) < px + pw and max(xa, xb) > px]
        assert py >= min(a for a, _ in held) - BAND_PAD - BAND_LABEL - 12 or any(
            abs(y - py - BAND_PAD) < 1 for y in level), (scope, py, held)
        assert py + ph <= max(b for _, b in held) + BAND_PAD + 12 or any(
            abs(py + ph - BAND_PAD - y) < 1 for y in level), (scope, py + ph, held)
        assert not [y for y in level if abs(y - py) < 2 or abs(y - py - ph) < 2], (scope, py, ph)  # none along it
        checked += 1
    assert checked == len({s for s in split}) + sum(len(v) for v in lay.continued.values())
    assert too_near(svg, 0.5) == []


def test_a_wrapped_picture_is_drawn_the_same_each_time() -> None:
    view = _view(12, 15)
    assert render_view(view, engine="python") == render_view(graph_view(random_graph(12, 15), direction="LR"),
                                                             engine="python")
