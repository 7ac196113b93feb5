"""Hostile-user trial of how graphs are shown: every node keeps its own picture id.

Node names are Python identifiers of any script; ids are derived from them (``view.safe_id``: an ASCII identifier
as it is, anything else hex-encoded behind an ``h``). Names that differ only by case or by Unicode normalisation,
and an ASCII name spelled like another name's encoding, must still give distinct boxes in every picture."""

from __future__ import annotations

import re

import pytest

import igniter_nb as ig
from igniter_nb.diagnostics.view import safe_id
from igniter_nb.notebook.render import dot_available, render_graph

ENGINES = ["python", "dot"]


def look_alikes():
    def define(c):
        c.input("\u00e9")  # é, whose id is h + its UTF-8 in hex: "hc3a9"
        c.compute("hc3a9", depends_on=["\u00e9"], call=lambda **kw: 1)  # an ASCII name spelled like that id
        c.input("Abc")
        c.input("abc")
        c.input("caf\u00e9")  # NFC
        c.input("cafe\u0301")  # NFD: the same word to a reader, another name to Python's str
        with c.scope("\u00e9t\u00e9"):
            c.compute("y", depends_on=["hc3a9", "Abc", "abc", "caf\u00e9", "cafe\u0301"], call=lambda **kw: 1)
        with c.scope(safe_id("\u00e9t\u00e9")):  # a scope spelled like the other scope's id
            c.compute("z", depends_on=["y"], call=lambda **kw: 1)
        c.output("z")
        c.output("hc3a9")

    return ig.compile(define, name="LookAlikes")


def test_safe_id_is_one_to_one_on_identifiers():
    names = ["\u00e9", "hc3a9", "h", "h00", "hC3A9", "abc", "Abc", "caf\u00e9", "cafe\u0301", "head", "hc3a9\u00e9"]
    assert len({safe_id(n) for n in names}) == len(names)
    assert safe_id("abc") == "abc" and safe_id("head") == "head"  # plain names keep readable ids


@pytest.mark.parametrize("engine", ENGINES)
def test_look_alike_names_are_distinct_boxes(engine):
    assert engine == "python" or dot_available()
    graph = look_alikes()
    svg = render_graph(graph, engine=engine, expand=True)
    if engine == "python":
        ids = re.findall(r'<g class="node" data-id="([^"]+)"', svg)
    else:
        ids = re.findall(r'<g id="node\d+" class="node">\s*<title>([^<]+)</title>', svg)
    assert len(ids) == len(set(ids)) == len(graph.nodes) + len(graph.outputs)


def test_look_alike_scopes_collapse_into_distinct_groups():
    svg = render_graph(look_alikes(), engine="python", collapse_above=3)
    groups = re.findall(r'data-id="(s_[^"]+)" data-kind="scope"', svg)
    assert len(groups) == len(set(groups)) == 2


def test_look_alike_names_are_distinct_in_mermaid():
    graph = look_alikes()
    ids = re.findall(r"^  (\S+)\[", graph.to_mermaid(), re.M)
    assert len(ids) == len(set(ids)) == len(graph.nodes) + len(graph.outputs)


@pytest.mark.parametrize("engine", ENGINES)
def test_long_names_sharing_a_prefix_keep_the_end_that_tells_them_apart(engine):
    assert engine == "python" or dot_available()
    stem = "customer_billing_address_normalised_"  # 36 characters: a cut at the end kept only this
    names = [f"{stem}{tail}" for tail in ("postcode_left", "postcode_right", "country_code")]

    def define(c):
        c.input("raw")
        for name in names:
            c.compute(name, depends_on=["raw"], call=lambda raw: raw)
            c.output(name)

    svg = render_graph(ig.compile(define, name="LongNames"), engine=engine, expand=True)
    bold = re.findall(r'<text[^>]*font-weight="bold"[^>]*>([^<]*)</text>', svg)
    shown = [t for t in bold if t.startswith("customer")]
    assert len(shown) == 2 * len(names)  # each node and its output
    assert len(set(shown)) == len(names), shown
    assert all(len(t) <= 40 and "…" in t for t in shown)
