"""Graph names starting with ``igniter_nb.`` are the library's own records (the stores leave them out of their
listings, ``model/reserved.py``): no contract may be compiled under one, whichever way it is named."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.errors import ValidationError


def _define(c):
    c.input("x")
    c.output("x")


@pytest.mark.parametrize("name", ["igniter_nb.llm_cache", "igniter_nb.Orders", "igniter_nb."])
def test_a_contract_may_not_take_a_reserved_graph_name(name):
    with pytest.raises(ValidationError, match="reserves for its own records") as caught:
        ig.contract(_define, name=name)
    assert caught.value.context["graph"] == name
    with pytest.raises(ValidationError, match=r"starts with 'igniter_nb\.'"):
        ig.compile(_define, name=name)
    with pytest.raises(ValidationError):
        type(name, (ig.Contract,), {"define": staticmethod(_define)})


@pytest.mark.parametrize("name", ["igniter_nb", "IGNITER_NB.x", "my.igniter_nb.x", "igniter_nbX"])
def test_near_misses_are_ordinary_names(name):
    assert ig.compile(_define, name=name).name == name
    assert ig.contract(_define, name=name)(x=1).result.x == 1
