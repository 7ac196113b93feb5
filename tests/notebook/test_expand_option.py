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
