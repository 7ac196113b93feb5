"""``define`` that is not a plain function: the error names the contract and the class statement."""

from __future__ import annotations

import pytest

import igniter_nb as ig


def test_define_that_is_not_a_function_names_the_contract():
    with pytest.raises(ig.CompileError, match="define must be a function") as info:
        class Broken(ig.Contract):
            define = 5
    assert info.value.context["graph"] == "Broken"
    assert info.value.context["source_location"].startswith(__file__)


def test_a_classmethod_define_is_refused_with_the_reason():
    # It failed with "define() missing 1 required positional argument: 'c'".
    with pytest.raises(ig.CompileError, match="classmethod") as info:
        class Broken(ig.Contract):
            @classmethod
            def define(cls, c):
                c.input("a")
                c.output("a")
    assert info.value.context["graph"] == "Broken"


def test_a_staticmethod_define_still_works():
    class Fine(ig.Contract):
        @staticmethod
        def define(c):
            c.input("a")
            c.output("a")

    assert Fine(a=2).result.a == 2
