"""A band's label is cut to the room from where it starts to the band's right side, in every piece of a band a wrap
into rows split: six nested scopes of 68-letter names drawn left to right were wrapped into two rows, and the
innermost band's first piece, cut down to one node, kept its label where the unwrapped band had it (right of the
edges): 370 px of text from x 583 in a band ending at 702, running off the 851-px picture. The cut name is the
label's tooltip."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.diagnostics.geometry import glyph_width, text_width
from igniter_nb.diagnostics.view import FONT_SIZE
from igniter_nb.notebook.render import render_graph

SVG = "{http://www.w3.org/2000/svg}"


def deep_long_scopes() -> Any:
    def define(c: Any) -> None:
        c.input("root")
        prev = "root"
        scopes = [c.scope(f"scope_{k}_" + "q" * 60) for k in range(6)]
        for k, scope in enumerate(scopes):
            scope.__enter__()
            c.compute(f"n_{k}", depends_on=[prev], call=lambda **kw: 1)
            c.compute(f"side_{k}", depends_on=["root"], call=lambda **kw: 1)
            prev = f"n_{k}"
        for scope in reversed(scopes):
            scope.__exit__(None, None, None)
        c.compute("last", depends_on=[prev] + [f"side_{k}" for k in range(6)], call=lambda **kw: 1)
        c.output("last")

    return ig.compile(define, name="DeepLong")


def labels_past_their_band(svg: str) -> list[tuple[str, float, float]]:
    """(text, label's right end, band's right side) for each band label (a band's, a piece's ``(cont.)``) whose text
    runs past its rectangle's right side or the picture's."""
    root = ET.fromstring(svg)
    width = float(root.get("viewBox", "0 0 0 0").split()[2])
    found = []
    for g in root.iter(f"{SVG}g"):
        if g.get("class") not in ("cluster", "cluster-continued"):
            continue
        rect, text = g.find(f"{SVG}rect"), g.find(f"{SVG}text")
        if rect is None or text is None:
            continue
        name = text.text or ""
        right = float(text.get("x", "0")) + max(glyph_width(name, 11), text_width(name) * 11 / FONT_SIZE)
        side = float(rect.get("x", "0")) + float(rect.get("width", "0"))
        if right > side or right > width:
            found.append((name[:40], round(right, 1), round(side, 1)))
    return found


@pytest.mark.parametrize("size", ["fit", "full"])
@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_every_band_label_stays_within_its_band(direction: str, size: Any) -> None:
    svg = render_graph(deep_long_scopes(), engine="python", direction=direction, size=size)
    assert labels_past_their_band(svg) == []


def test_the_wrapped_pictures_cut_labels_keep_their_name_as_a_tooltip() -> None:
    svg = render_graph(deep_long_scopes(), engine="python", direction="LR")
    assert 'data-rows="2"' in svg
    root = ET.fromstring(svg)
    cut = [g for g in root.iter(f"{SVG}g") if g.get("class") in ("cluster", "cluster-continued")
           and "…" in (g.find(f"{SVG}text").text or "")]  # type: ignore[union-attr]
    assert cut
    assert all(g.findtext(f"{SVG}title", "").startswith("scope_") and "…" not in g.findtext(f"{SVG}title", "")
               for g in cut)
