"""Hostile-user trial (band labels): a scope band's label was drawn under the lines of the edges entering the band.

The pure-Python layout drew each band's label at the band's top left, in the gap where edges bend into the band:
``random_graph(8, 15)``'s ``long_scope_name`` under three edges into ``n13``, ``layered_graph(50)``'s ``s001`` under
the edges into ``x10`` (and ``a``'s label under its nested band ``inner``'s border in ``random_graph(32, 15)``). Now
a label goes where no edge, node box or other band passes (its top strip, else its first row, else a strip along its
bottom, else an item of its own in a layer: ``layout_labels``). The SVG itself is read (``edgecheck``)."""

from __future__ import annotations

import pytest
from contracts import layered_graph, random_graph
from edgecheck import band_labels, label_clashes, through_labels
from test_picture_width import SWEEP

from igniter_nb.diagnostics.view import graph_view
from igniter_nb.notebook.layout import layout
from igniter_nb.notebook.layout_labels import shorten, text_width_of
from igniter_nb.notebook.picture import draw


def _svg(graph, direction=None):
    view = graph_view(graph)
    lay = layout(view, direction=direction)
    return lay, draw(view, lay)


@pytest.mark.parametrize(("seed", "n"), SWEEP)
@pytest.mark.parametrize("direction", [None, "LR", "TB"])
def test_no_edge_runs_through_a_scope_bands_label(seed, n, direction) -> None:
    # (before, 106 of these 168 pictures drew an edge through a label, or a label over another band's border)
    _, svg = _svg(random_graph(seed, n), direction)
    assert band_labels(svg)  # the labels were read
    assert through_labels(svg) == []
    assert label_clashes(svg) == []


@pytest.mark.parametrize("n", [50, 100])
def test_the_labels_of_a_chain_of_scopes_are_clear(n) -> None:
    _, svg = _svg(layered_graph(n))
    assert len(band_labels(svg)) == n // 10
    assert through_labels(svg) == [] and label_clashes(svg) == []


def test_the_labels_the_trial_found_under_edges_are_placed_where_none_passes() -> None:
    # long_scope_name: its top strip and first row are crossed by the edges into n13 and n8, so it goes along the
    # band's bottom (16 px taller, no wider); s001: every strip is crossed, it takes room beside x10 (30.6 px wider)
    lay, svg = _svg(random_graph(8, 15))
    assert (lay.direction, lay.width) == ("TB", 827.7)
    assert lay.band_labels == {("long_scope_name",): (208.8, 700.0), ("a", "inner"): (540.5, 215.0),
                               ("a",): (481.0, 133.0), ("b",): (761.8, 461.0)}
    band = lay.clusters[("long_scope_name",)]
    assert band.y + band.h - 6 == 700.0
    lay, svg = _svg(layered_graph(50))
    assert (lay.direction, lay.width) == ("TB", 456.6)
    assert lay.band_labels[("s001",)] == (182.0, 908.9)
    x10 = lay.boxes["n_x10"]
    assert 182.0 + 28 < x10.x and x10.y < 908.9 < x10.y + x10.h  # beside x10, in its row
    assert through_labels(svg) == []


def test_the_check_sees_an_edge_through_a_label_and_a_label_over_a_border() -> None:
    svg = ('<svg xmlns="http://www.w3.org/2000/svg">'
           '<g class="cluster" data-scope="s"><rect x="0" y="0" width="200" height="100"/>'
           '<text x="8" y="13" font-size="11">long_name</text></g>'
           '<g class="node" data-id="a" data-box="100 -60 10 10"/><g class="node" data-id="b" data-box="20 40 10 10"/>'
           '<g class="edge" data-tail="a" data-head="b"><path d="M105,-50 L25,40"/></g></svg>')
    assert through_labels(svg) == [("a", "b", "s")]  # a straight line across the label
    assert through_labels(svg.replace("M105,-50 L25,40", "M105,-50 L105,40")) == []
    inner = '<g class="cluster" data-scope="s.t"><rect x="30" y="5" width="50" height="50"/><text x="34" y="45">t</text></g>'
    assert label_clashes(svg.replace("</svg>", inner + "</svg>")) == [("s", "border s.t")]


@pytest.mark.parametrize(("seed", "n"), SWEEP[:12])
@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_a_label_given_room_of_its_own_is_clear_by_construction(seed, n, direction, monkeypatch) -> None:
    # the last resort, for every band: no strip found free, each label an item in a layer of its band
    import igniter_nb.notebook.layout as module

    real = module.spots

    def none_free(clusters, boxes, routes, skip=frozenset(), *more):
        real(clusters, boxes, routes, skip, *more)
        return {}, frozenset(clusters) - skip

    monkeypatch.setattr(module, "spots", none_free)
    view = graph_view(random_graph(seed, n))
    lay = layout(view, direction=direction, wrap=False)  # (one row: a band split into rows, test_lr_fold_rows.py)
    svg = draw(view, lay)
    assert set(lay.band_labels) == set(lay.clusters)
    assert through_labels(svg) == [] and label_clashes(svg) == []
    for scope, (x, y) in lay.band_labels.items():  # inside its band
        band = lay.clusters[scope]
        assert band.x < x < band.x + band.w and band.y < y < band.y + band.h


def test_a_shortened_band_label_keeps_at_least_three_letters() -> None:
    """``shorten`` gave a name of three letters or fewer as fewer letters and an ellipsis ("ab…", and "…" alone for
    a one-letter scope) though the docs promise at least three letters (fewer say nothing): now None, and the
    label goes over the edges whole instead (``spots``)."""
    for name in ("W", "mm", "WWW"):  # wide letters: "…", "m…", "WW…" are narrower than the name, so they fitted
        assert text_width_of(name[:-1] + "…") < text_width_of(name)
        assert shorten(name, text_width_of(name) - 0.1) is None, name
    assert shorten("abcd", text_width_of("abc…")) == "abc…"
    assert shorten("long_scope_name", text_width_of("long_scope_n…")) == "long_scope_n…"
    assert shorten("long_scope_name", text_width_of("lo…")) is None
