"""Hostile-user trial: a picture's title and a node's name of wide letters are not cut at an edge.

The pure-Python layout sized the picture to its title by an average letter width; a graph named by 200 ``G``
(cut to 100 characters in the title) drew its title past the right edge, where it was clipped mid-letter and
its ``…`` never shown; a node named by 40 ``W`` ran out of its box and off the canvas. Titles and node labels now
count Helvetica's own letter widths when they are wider;
``tests/browser/test_hostile_outputs.py`` measures the drawn title in Chromium."""

from __future__ import annotations

import re

import igniter_nb as ig
from igniter_nb.diagnostics.geometry import glyph_width
from igniter_nb.notebook.render import render_graph


def _graph(name: str):
    def define(c):
        c.input("a")
        c.compute("b", depends_on=["a"], call=lambda a: a)
        c.output("b")

    return ig.compile(define, name=name)


def _width(svg: str) -> float:
    return float(re.search(r'<svg [^>]*width="([\d.]+)"', svg).group(1))


def test_a_title_of_wide_letters_fits_the_picture():
    for letter in "GWM":
        svg = render_graph(_graph(letter * 200), engine="python")
        title = re.search(r'<g class="title">\s*<text [^>]*>([^<]*)</text>', svg).group(1)
        assert title.endswith("…")
        assert _width(svg) >= glyph_width(title, 14, bold=True) + 32 - 0.5  # widths are written to 0.1 px


def test_an_ordinary_title_keeps_its_picture_size():
    # the average estimate already holds ordinary text: stored pictures keep their size
    svg = render_graph(_graph("customer_onboarding_workflow_with_a_long_descriptive_name_for_the_team"), engine="python")
    from igniter_nb.diagnostics.geometry import text_width

    name = "customer_onboarding_workflow_with_a_long_descriptive_name_for_the_team"
    assert glyph_width(name, 14, bold=True) < text_width(name) * 1.25
    assert _width(svg) == round(max(_width(svg), text_width(name) * 1.25 + 32), 1)


def test_a_node_name_of_wide_letters_fits_its_box():
    def define(c):
        c.input("W" * 40)
        c.compute("M" * 30, depends_on=["W" * 40], call=lambda **kw: 1)
        c.output("M" * 30)

    svg = render_graph(ig.compile(define, name="Capitals"), engine="python")
    for name in ("W" * 40, "M" * 30):
        node = re.search(rf'data-box="[\d.]+ [\d.]+ ([\d.]+) [\d.]+"><title>\w+ {name}</title>', svg)
        assert node is not None and float(node.group(1)) >= glyph_width(name, 12, bold=True), name
