"""Hostile-user trial (pictures-width): a node of several lines of text in an ellipse (an output showing a pending
LLM node's tool calls and token, notebook 07) had its last, longest line touching the outline: the ellipse was
sized for its widest line as if every line sat in the middle. Each line is now held inside the (inner) outline
at its own height, in both engines (``dot`` draws the node at the size the layout gives it)."""

from __future__ import annotations

import dataclasses
import re

import pytest

import igniter_nb as ig
from igniter_nb.diagnostics.geometry import glyph_width, node_size
from igniter_nb.diagnostics.view import FONT_SIZE, GraphView, graph_view
from igniter_nb.notebook.render import dot_available, render_view

needs_dot = pytest.mark.skipif(not dot_available(), reason="Graphviz dot is not installed")

LONG_LAST = ("answer", "output", "pending: deferred", "tool call: search_catalogue (toolu_01)",
             "tool call: price_of (toolu_02)", "token question-1:answer:tool-calls-1:fe26efac3474")


class Question(ig.Contract):
    def define(c):
        c.input("question")
        c.compute("answer", depends_on=["question"], call=lambda question: question)
        c.output("answer")


def _view(label: tuple[str, ...]) -> GraphView:
    view = graph_view(Question.compiled_graph())
    nodes = tuple(dataclasses.replace(n, label=label) if n.id == "o_answer" else n for n in view.nodes)
    return dataclasses.replace(view, nodes=nodes)


_NODE = re.compile(r'<g id="node\d+" class="node">\s*<title>o_answer</title>(.*?)</g>\s*</g>', re.S)
_ELLIPSE = re.compile(r'<ellipse[^>]*?cx="([-0-9.]+)" cy="([-0-9.]+)" rx="([0-9.]+)" ry="([0-9.]+)"')
_TEXT = re.compile(r'<text([^>]*)>([^<]*)</text>')


def _attr(attrs: str, name: str) -> str:
    found = re.search(rf'\s{name}="([^"]*)"', attrs)
    assert found, (name, attrs)
    return found.group(1)


def _outside(svg_part: str) -> list[tuple[str, float]]:
    """The lines of text in ``svg_part`` (one node) whose glyph box leaves its innermost ellipse, with by how much
    (the sum of the squared normalised corner coordinates, 1 on the outline)."""
    ellipses = [tuple(float(v) for v in m) for m in _ELLIPSE.findall(svg_part)]
    assert ellipses, svg_part[:300]
    cx, cy, rx, ry = min(ellipses, key=lambda e: e[2])
    found = []
    for attrs, text in _TEXT.findall(svg_part):
        text = text.replace("&#45;", "-").replace("&amp;", "&")
        bold = "bold" in attrs
        w = glyph_width(text, FONT_SIZE, bold=bold)
        x, y = float(_attr(attrs, "x")), float(_attr(attrs, "y"))
        left = x - w / 2 if _attr(attrs, "text-anchor") == "middle" else x
        worst = max(((px - cx) / rx) ** 2 + ((py - cy) / ry) ** 2
                    for px in (left, left + w) for py in (y - 0.72 * FONT_SIZE, y + 0.21 * FONT_SIZE))
        if worst > 1:
            found.append((text, round(worst, 3)))
    return found


def _python_node(svg: str) -> str:
    found = re.search(r'<g class="node" data-id="o_answer".*?</g>', svg, re.S)
    assert found, svg[:300]
    return found.group(0)


@pytest.mark.parametrize("label", [LONG_LAST, LONG_LAST[:2], ("x",), ("short", "a much longer last line of text here"),
                                   ("answer", "output", "W" * 60)])
def test_every_line_of_an_ellipse_node_lies_inside_it_in_the_pure_python_picture(label) -> None:
    svg = render_view(_view(label), engine="python", size="full")
    assert _outside(_python_node(svg)) == []


@needs_dot
@pytest.mark.parametrize("label", [LONG_LAST, ("short", "a much longer last line of text here"),
                                   ("answer", "output", "W" * 60)])
def test_every_line_of_an_ellipse_node_lies_inside_it_in_the_dot_picture(label) -> None:
    svg = render_view(_view(label), engine="dot", size="full")
    found = _NODE.search(svg)
    assert found, svg[:500]
    assert _outside(found.group(1)) == []


def test_an_ellipse_of_one_or_two_short_lines_keeps_its_size() -> None:
    # the usual output (name, "output") is as before: pictures that were fine do not move
    view = graph_view(Question.compiled_graph())
    out = next(n for n in view.nodes if n.id == "o_answer")
    assert node_size(out) == (83.6, 50)
    assert node_size(dataclasses.replace(out, label=LONG_LAST)) == (476.2, 135.5)  # was 425.1 × 110
