"""Hostile-user trial (edge labels): a scope band's label was drawn under an edge's label.

An edge's label (``items`` into a collection, ``selector`` into a branch, ``.total`` read from a composition) sits in
the middle of the gap before its head, drawn over what lies under it (a white halo); a band's label was kept clear
of the edges' lines, node boxes and other bands but not of those labels: ``items`` into ``lines4_y`` covered the top
of ``inner`` in ``collections_graph(121)`` top to bottom. Now a band's label keeps clear of every edge's label too
(``layout_labels.edge_notes``). The boxes are read from the SVG."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from contracts import RANDOM_SCOPES, Item, declare_within
from edgecheck import SVG, Box, band_labels, label_clashes, through_labels

import igniter_nb as ig
from igniter_nb.diagnostics.geometry import glyph_width
from igniter_nb.diagnostics.view import graph_view
from igniter_nb.notebook.layout import layout
from igniter_nb.notebook.picture import draw


def collections_graph(seed: int, n: int = 15) -> Any:
    """A random DAG like ``contracts.random_graph``'s, half of its nodes collections: their ``items`` edges are
    labelled."""
    rng = random.Random(seed)
    names: list[str] = []
    scopes = RANDOM_SCOPES

    def define(c: Any) -> None:
        def within(scope: tuple[str, ...], declare: Any) -> None:
            declare_within(c, scope, declare)

        for i in range(rng.randint(1, 3)):
            name = f"in{i}" + "_x" * rng.randint(0, 4)
            c.input(name)
            names.append(name)
        for i in range(n):
            if rng.random() < 0.5:
                dep = rng.choice(names)
                name = f"lines{i}" + "_y" * rng.randint(0, 4)
                within(rng.choice(scopes),
                       lambda name=name, dep=dep: c.collection(name, source=dep, each=Item, key="id"))
            else:
                deps = sorted(set(rng.sample(names, k=min(len(names), rng.randint(1, 3)))))
                name = f"n{i}" + "_z" * rng.randint(0, 5)
                within(rng.choice(scopes),
                       lambda name=name, deps=deps: c.compute(name, depends_on=deps, call=lambda **kw: 1))
            names.append(name)
        c.output(names[-1])

    return ig.compile(define, name=f"Collections{seed}")


def edge_label_boxes(svg: str) -> list[tuple[str, Box]]:
    """Each edge label's text box (centred on its x; ascent 0.8 em above its baseline, descent 0.25 em below)."""
    found = []
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        if g.get("class") == "edge-labels":
            for t in g.iter(f"{SVG}text"):
                w, x, y = glyph_width(t.text or "", 10), float(t.get("x", "0")), float(t.get("y", "0"))
                found.append((t.text or "", (x - w / 2, y - 8.0, w, 10.5)))
    return found


def under_edge_labels(svg: str, pad: float = 1.0) -> list[tuple[str, str]]:
    """(edge label, scope) for each band label an edge's label overlaps (or comes within ``pad`` px of)."""
    labels = band_labels(svg)
    found = []
    for text, (x, y, w, h) in edge_label_boxes(svg):
        found += [(text, scope) for scope, (a, b, c, d) in sorted(labels.items())
                  if x < a + c + pad and a < x + w + pad and y < b + d + pad and b < y + h + pad]
    return found


def test_the_check_sees_an_edge_label_over_a_band_label() -> None:
    svg = ('<svg xmlns="http://www.w3.org/2000/svg"><g class="cluster" data-scope="s"><rect x="0" y="0" width="200" '
           'height="100"/><text x="8" y="13" font-size="11">inner</text></g><g class="edge-labels">'
           '<text x="30" y="6" text-anchor="middle" font-size="10">items</text></g></svg>')
    assert under_edge_labels(svg) == [("items", "s")]
    assert under_edge_labels(svg.replace('y="6"', 'y="40"')) == []


@pytest.mark.parametrize("seed", [121, 244])
def test_the_band_labels_the_trial_found_under_edge_labels_are_clear(seed) -> None:
    # both top to bottom: items into lines4_y over inner (121), and into another collection of a.inner (244)
    view = graph_view(collections_graph(seed))
    svg = draw(view, layout(view, direction="TB"))
    assert len(edge_label_boxes(svg)) >= 5
    assert under_edge_labels(svg) == []
    assert through_labels(svg) == [] and label_clashes(svg) == []


@pytest.mark.parametrize("seed", range(0, 40))
def test_no_band_label_under_an_edge_label(seed) -> None:
    view = graph_view(collections_graph(seed))
    for direction in (None, "LR", "TB"):
        svg = draw(view, layout(view, direction=direction))
        assert under_edge_labels(svg) == [], direction
        assert through_labels(svg) == [] and label_clashes(svg) == [], direction
