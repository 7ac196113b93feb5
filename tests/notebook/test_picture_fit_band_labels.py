"""Hostile-user trial (pictures-fit): room for a scope band's label made a picture that fits the notebook output area
too wide for it.

``random_graph(39, 10)`` was drawn 913 px wide with its labels anywhere, 993 px once ``long_scope_name``'s label, with
no place clear of edges in its strips nor its first row, took room of its own beside ``n6``: above the 940 px the
engines promise when a picture that fits exists (scaled down to the output area, every text smaller). Now, when that
room would make a fitting picture too wide, the label is shortened to the widest free place (an ellipsis, its name
in a tooltip), and failing that drawn where only edges pass, over them on a white ground (``layout_labels.Squeezed``).
The SVG itself is read (``edgecheck``)."""

from __future__ import annotations

import re

import pytest
from contracts import random_graph
from edgecheck import band_labels, label_clashes, over_edges, through_labels
from test_picture_width import SWEEP

from igniter_nb.diagnostics.geometry import FIT_WIDTH
from igniter_nb.diagnostics.view import graph_view
from igniter_nb.notebook.layout import layout
from igniter_nb.notebook.layout_labels import shorten, text_width_of
from igniter_nb.notebook.picture import draw
from igniter_nb.notebook.render import render_view

_WIDTH = re.compile(r'<svg[^>]*?\swidth="([0-9.]+)')


def _anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Band labels take any place found, none gets room of its own: the drawing as wide as without labels."""
    import igniter_nb.notebook.layout as module

    real = module.spots

    def no_room(*args, **kwargs):
        found, _ = real(*args, **kwargs)
        return found, frozenset()

    monkeypatch.setattr(module, "spots", no_room)


@pytest.mark.parametrize(("seed", "n"), SWEEP)
def test_room_for_band_labels_never_makes_a_fitting_picture_too_wide(seed, n, monkeypatch) -> None:
    view = graph_view(random_graph(seed, n))
    drawn = {d: layout(view, direction=d) for d in (None, "LR", "TB")}
    with monkeypatch.context() as patch:
        _anywhere(patch)
        bare = {d: layout(view, direction=d).width for d in drawn}
    for d, lay in drawn.items():
        if bare[d] <= FIT_WIDTH:
            assert lay.width <= FIT_WIDTH, (d, lay.width, bare[d])
        svg = draw(view, lay)
        assert through_labels(svg) == [] and label_clashes(svg) == []


def test_the_picture_the_trial_found_too_wide_fits_with_its_label_over_the_edges(monkeypatch) -> None:
    monkeypatch.setenv("PATH", "")  # engine="auto" without dot: the pure-Python layout
    monkeypatch.delenv("IGNITER_NB_RENDER", raising=False)
    view = graph_view(random_graph(39, 10))
    svg = render_view(view)
    assert float(_WIDTH.search(svg).group(1)) == 913.2 <= FIT_WIDTH  # was 993.2
    assert over_edges(svg) == {"long_scope_name"}  # on a white ground, drawn after the edges
    assert svg.index('class="band-label" data-scope="long_scope_name"') > svg.index('class="edges"')
    assert band_labels(svg)["long_scope_name"][2] == text_width_of("long_scope_name")  # the whole name
    assert label_clashes(svg) == []


def test_a_label_shortened_to_its_free_place_keeps_its_name_in_a_tooltip() -> None:
    view = graph_view(random_graph(1, 10))
    lay = layout(view)
    assert lay.width <= FIT_WIDTH and lay.squeezed.texts == {("long_scope_name",): "long_scope_n…"}
    svg = draw(view, lay)
    assert ('<g class="cluster" data-scope="long_scope_name"><title>long_scope_name</title>' in svg
            and ">long_scope_n…</text>" in svg)
    assert through_labels(svg) == [] and label_clashes(svg) == []


def test_shorten_keeps_the_longest_start_that_fits_and_at_least_three_letters() -> None:
    room = text_width_of("long_sc…")
    assert shorten("long_scope_name", room) == "long_sc…"
    assert shorten("long_scope_name", room - 0.1) == "long_s…"
    assert shorten("long_scope_name", text_width_of("lon…")) == "lon…"
    assert shorten("long_scope_name", text_width_of("lon…") - 0.1) is None  # "lo…" says nothing
    assert shorten("ab", 1000) is None  # three letters or fewer: never shortened (test_layout_band_labels.py)
