"""Hostile-user trial of ``expand=``: one scope given as a string, and a scope name with a typo.

``expand="billing1"`` was iterated as its letters and a misspelt name matched nothing: both silently left every
scope collapsed, the picture's note still saying ``expand=True opens them``."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.diagnostics.view import graph_view
from igniter_nb.notebook.reprs import graph_mimebundle


def scoped(scopes: int = 4, per: int = 100):
    def define(c):
        c.input("x")
        for s in range(scopes):
            with c.scope(f"billing{s}"):
                for i in range(per):
                    c.compute(f"n{s}_{i}", depends_on=["x"], call=lambda x: x)
        c.compute("last", depends_on=["n0_0"], call=lambda n0_0: n0_0)
        c.output("last")

    return ig.compile(define, name="Scoped")


def test_one_scope_may_be_given_as_a_string():
    graph = scoped()
    assert graph_view(graph, expand="billing1").collapsed == ("billing0", "billing2", "billing3")
    assert graph_view(graph, expand=["billing1"]).collapsed == ("billing0", "billing2", "billing3")


def test_an_unknown_scope_name_is_refused_naming_the_scopes():
    graph = scoped()
    with pytest.raises(ValueError, match=r"no top-level scope of graph Scoped: biling1 \(its scopes: billing0, "
                                         r"billing1, billing2, billing3\)"):
        graph_view(graph, expand=["biling1"])
    bundle = graph_mimebundle(graph, expand=["biling1"], engine="python")  # a repr never raises: it says why
    assert "biling1" in bundle["text/html"] and "image/svg+xml" not in bundle


def test_expand_true_false_and_empty_stay_as_they_were():
    graph = scoped()
    assert graph_view(graph, expand=True).collapsed == ()
    assert len(graph_view(graph, expand=False).collapsed) == 4
    assert len(graph_view(graph, expand=[]).collapsed) == 4


def test_an_unknown_scope_name_of_any_length_is_cut_in_the_error():
    """A 1,500-character name that is no scope was repeated whole in the error (a 1,500-character message)."""
    graph = scoped(scopes=2, per=2)
    with pytest.raises(ValueError) as caught:
        graph_view(graph, expand=["b" * 1500, "c" * 1500])
    message = str(caught.value)
    assert len(message) < 700, len(message)
    assert "more characters" in message and message.endswith("(its scopes: billing0, billing1)")


def test_one_row_left_out_is_one_more_row():
    from igniter_nb._shown_text import more_rows

    assert more_rows(1) == "… 1 more row" and more_rows(1, "outputs") == "… 1 more output"
    assert more_rows(2) == "… 2 more rows" and more_rows(1, "nodes") == "… 1 more node"
