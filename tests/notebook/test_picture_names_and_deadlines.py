"""Hostile-user trial (tidy-pictures): what a picture and a table say about names, awaited events and deadlines.

* A node declared with ``label=`` showed only its label: the node's own name — what errors, the API and the code
  use — was nowhere in the picture. Now the name is the box's second line (``name: quote_total``) when it differs.
* An await's tooltip (SVG ``<title>``, DOT ``tooltip``) said kind and path only; it now names the event, cleaned
  and bounded like every label.
* A deadline with a fraction of a second showed its microseconds (``10:00:00.123456 UTC``); pictures and the
  ``deadline`` column of a frame's HTML show it to the second (the frame's data keeps the exact value).
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from html import escape

import pandas as pd
import pytest

import igniter_nb as ig
from igniter_nb.diagnostics.cut import cut_text
from igniter_nb.diagnostics.view import graph_view
from igniter_nb.notebook import html as h
from igniter_nb.notebook.frame_html import frame_html
from igniter_nb.notebook.render import render_graph
from igniter_nb.stores import MemoryStore

SPOOF = "<b onmouseover='x'>ev\u202egnp.exe</b>\n" + "e" * 400
NOW = dt.datetime(2026, 12, 4, 9, 0, 0, 123456, tzinfo=dt.UTC)


class Labelled(ig.Contract):
    def define(c):
        c.input("order_total")
        c.compute("quote_total", depends_on=["order_total"], call=lambda order_total: order_total, label="Quote")
        c.compute("same", depends_on=["order_total"], call=lambda order_total: order_total, label="same")
        c.output("quote_total")


class Waits(ig.Contract):
    def define(c):
        c.correlate_by("rid")
        c.input("rid")
        c.await_event("approval", event="manager_approved", timeout=3600)
        c.await_event("shaped", event=SPOOF)
        c.compute("done", depends_on=["approval", "shaped"], call=lambda **kw: 1)
        c.output("done")


def _node(view, name):
    return next(n for n in view.nodes if n.name == name and n.kind != "output")


def test_a_labelled_node_shows_its_name_too():
    view = graph_view(Labelled.compiled_graph())
    assert _node(view, "quote_total").label[:2] == ("Quote", "name: quote_total")
    assert _node(view, "same").label[1] != "name: same"  # the label is the name: said once
    assert _node(view, "order_total").label[0] == "order_total" and len(_node(view, "order_total").label) == 2


@pytest.mark.parametrize("engine", ["python", "dot"])
def test_a_labelled_node_shows_its_name_in_both_engines(engine):
    svg = render_graph(Labelled.compiled_graph(), engine=engine)
    texts = [" ".join("".join(el.itertext()).split()) for el in ET.fromstring(svg).iter() if el.tag.endswith("}text")]
    assert "Quote" in texts and "name: quote_total" in texts


def test_an_await_tooltip_names_its_event_cleaned_and_bounded():
    view = graph_view(Waits.compiled_graph())
    assert _node(view, "approval").tooltip == "await approval — awaits event manager_approved"
    shaped = _node(view, "shaped").tooltip
    assert shaped.startswith("await shaped — awaits event <b onmouseover='x'>ev gnp.exe</b>")
    assert "\u202e" not in shaped and "\n" not in shaped and len(shaped) <= 200 and "…" in shaped
    svg = render_graph(Waits.compiled_graph(), engine="python")
    titles = ["".join(el.itertext()) for el in ET.fromstring(svg).iter() if el.tag.endswith("}title")]
    assert "await approval — awaits event manager_approved" in titles
    assert not any(el.tag.endswith("}b") for el in ET.fromstring(svg).iter())  # escaped, never markup


def test_a_deadline_shows_to_the_second_in_the_picture():
    wf = Waits.start({"rid": "r1"}, store=MemoryStore(), now=NOW)
    label = _node(graph_view(wf.graph, states=wf), "approval").label
    assert "deadline 2026-12-04 10:00:00 UTC" in label, label
    assert not any(".123456" in line or ".123" in line for line in label)


def test_a_deadline_column_shows_to_the_second_and_keeps_its_value():
    exact = pd.Timestamp("2026-12-04 10:00:00.123", tz="UTC")
    frame = pd.DataFrame({"deadline": pd.Series([exact, pd.NaT]).dt.as_unit("ms"),
                          "updated_at": pd.Series([exact, exact]).dt.as_unit("ms")})
    html = frame_html(frame)
    assert ">2026-12-04 10:00:00<" in html  # the deadline
    assert ">2026-12-04 10:00:00.123<" in html  # other times keep their milliseconds
    assert frame["deadline"][0] == exact


@pytest.mark.parametrize("text", ["x" * 5000, "a, " * 3000, "line\n" * 2000, "é🚀" * 1500])
def test_a_long_cell_says_how_much_it_hides_with_the_shared_cut(text):
    cell, _spent = h._cell(text, h.OPEN_LIMIT)
    summary = cut_text(text.replace("\n", " "), h.MAX_CELL, say_how_much=True)
    assert cell.startswith(f"<details><summary>{escape(summary)}</summary>")
