"""The ``name (cont.)`` labels of a deep-scope picture wrapped into rows overlap no other label (``layout_wrap._nest``).

Three scopes nested in one another, drawn left to right and wrapped into three rows: in the second row the outer
band's piece (``scope_0 (cont.)``) started one padding before the row's first column, and so did the band nested in
it that *starts* in that column (``scope_1``, not split there): their left borders coincided, the outer piece was
fitted to its nodes as if it held no nested piece (254.60000000000002 > 254.6: the nested piece seemed to stick
out), its top came down onto the nested band's, and its label, with no strip of its own, was drawn where
``scope_1``'s is — the two texts on top of each other. 4 of 321 wrapped deep-scope and random pictures had such a
pair. Each piece now holds its nested pieces with a padding on either side, and each round of ``(cont.)`` labels
keeps clear of the earlier rounds'."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from contracts import random_graph

import igniter_nb as ig
from igniter_nb.diagnostics.geometry import glyph_width, text_width
from igniter_nb.diagnostics.view import FONT_SIZE
from igniter_nb.notebook.layout_bands import BAND_PAD
from igniter_nb.notebook.render import render_graph

SVG = "{http://www.w3.org/2000/svg}"
Box = tuple[float, float, float, float]


def nested(levels: int, chain: int, name: str = "scope") -> Any:
    """``levels`` scopes one in another, a node in each, and a chain of ``chain`` nodes in the innermost."""
    def define(c: Any) -> None:
        c.input("root")
        prev = "root"
        scopes = [c.scope(f"{name}_{k}") for k in range(levels)]
        for k, scope in enumerate(scopes):
            scope.__enter__()
            c.compute(f"n_{k}", depends_on=[prev], call=lambda **kw: 1)
            prev = f"n_{k}"
        for j in range(chain):
            c.compute(f"deep_step_{j}", depends_on=[prev], call=lambda **kw: 1)
            prev = f"deep_step_{j}"
        for scope in reversed(scopes):
            scope.__exit__(None, None, None)
        c.compute("last", depends_on=[prev], call=lambda **kw: 1)
        c.output("last")

    return ig.compile(define, name="Nested")


def _labels(svg: str) -> list[tuple[str, Box]]:
    """Every band label's text box (a band's, a ``(cont.)`` piece's, one drawn over edges): its baseline, 0.8 em
    above, 0.25 em below, as wide as Helvetica's letters (or the average estimate, when wider)."""
    out = []
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        text = g.find(f"{SVG}text")
        if g.get("class") not in ("cluster", "cluster-continued", "band-label") or text is None:
            continue
        name = text.text or ""
        x, y = float(text.get("x", "0")), float(text.get("y", "0"))
        w = max(glyph_width(name, 11), text_width(name) * 11 / FONT_SIZE)
        out.append((name, (x, y - 0.8 * 11, w, 1.05 * 11)))
    return out


def _meet(a: Box, b: Box, pad: float = 1.0) -> bool:
    return a[0] < b[0] + b[2] + pad and b[0] < a[0] + a[2] + pad and a[1] < b[1] + b[3] + pad and b[1] < a[1] + a[3] + pad


def clashes(svg: str) -> list[tuple[str, str]]:
    """(label, other) for each label whose text box meets another label's or a node box (1 px apart at least)."""
    labels = _labels(svg)
    found = [(a, b) for (a, ba), (b, bb) in itertools.combinations(labels, 2) if _meet(ba, bb)]
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        if g.get("class") == "node":
            box = tuple(float(v) for v in g.get("data-box", "").split())
            found += [(name, g.get("data-id", "")) for name, b in labels if _meet(b, box)]  # type: ignore[arg-type]
    return found


def _pieces(svg: str) -> list[tuple[str, Box]]:
    out = []
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        rect = g.find(f"{SVG}rect")
        if g.get("class") in ("cluster", "cluster-continued") and rect is not None:
            out.append((g.get("data-scope", ""),
                        tuple(float(rect.get(k, "0")) for k in ("x", "y", "width", "height"))))  # type: ignore[misc]
    return out


def test_the_continued_labels_of_three_nested_scopes_do_not_overlap() -> None:
    svg = render_graph(nested(3, 8), engine="python", direction="LR")
    assert 'data-rows="3"' in svg and svg.count('class="cluster-continued"') == 4
    assert clashes(svg) == []  # was [('scope_0 (cont.)', 'scope_1')]: both drawn at (42, 191)


def test_every_piece_holds_its_nested_pieces_with_a_padding() -> None:
    svg = render_graph(nested(3, 8), engine="python", direction="LR")
    pieces = _pieces(svg)
    for (outer, (x, y, w, h)), (inner, (ix, iy, iw, ih)) in itertools.product(pieces, pieces):
        if inner.startswith(outer + ".") and x <= ix + iw and ix <= x + w and y <= iy + ih and iy <= y + h:
            # the same row: the nested piece is inside, a padding from either side
            assert x + BAND_PAD - 0.05 <= ix and ix + iw <= x + w - BAND_PAD + 0.05, (outer, inner)
            assert y < iy and iy + ih < y + h, (outer, inner)


@pytest.mark.parametrize("levels", [2, 3, 4, 5, 6])
@pytest.mark.parametrize("chain", [4, 8, 14])
def test_no_label_of_a_wrapped_deep_scope_picture_overlaps(levels: int, chain: int) -> None:
    svg = render_graph(nested(levels, chain, "outer_scope_name"), engine="python", direction="LR")
    assert [c for c in clashes(svg) if "(cont.)" in c[0] + c[1]] == []


@pytest.mark.parametrize(("seed", "n"), [(42, 15), (47, 30), (51, 30), (33, 20)])
def test_the_random_pictures_whose_pieces_widened_have_no_clash(seed: int, n: int) -> None:
    svg = render_graph(random_graph(seed, n), engine="python", direction="LR")
    assert "cluster-continued" in svg
    assert [c for c in clashes(svg) if "(cont.)" in c[0] + c[1]] == []
