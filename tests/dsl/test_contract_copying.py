"""A contract instance is a live execution: pickling or copying one says how to move it instead (a snapshot),
rather than failing deep inside with "cannot pickle 'mappingproxy' object" — or, for copy.copy, quietly
giving a second object that shares the first one's execution."""

from __future__ import annotations

import copy
import pickle

import pytest

import igniter_nb as ig


def inc(a):
    return a + 1


class Plus(ig.Contract):
    def define(c):
        c.input("a")
        c.compute("b", call=inc)
        c.output("b")


@pytest.mark.parametrize("move", [pickle.dumps, copy.deepcopy, copy.copy])
def test_pickling_or_copying_a_contract_points_at_snapshots(move):
    plus = Plus(a=1)
    assert plus.result.b == 2
    with pytest.raises(TypeError, match=r"snapshot\(\)") as info:
        move(plus)
    assert "Plus.restore" in str(info.value)


def test_the_snapshot_route_works():
    plus = Plus(a=1)
    again = Plus.restore(plus.snapshot())
    again.update_inputs(a=10)
    assert (again.result.b, plus.result.b) == (11, 2)
