"""Mutable input defaults and const values are copied per execution (L-17); one that cannot be copied is a
compile error at its declaration, not a TypeError from every instantiation (or a failed node on every run)."""

from __future__ import annotations

import threading

import pytest

import igniter_nb as ig


def test_an_input_default_that_cannot_be_copied_is_a_compile_error():
    with pytest.raises(ig.CompileError, match="cannot be copied") as info:
        @ig.contract
        def Locked(c):
            c.input("x", default={"lock": threading.Lock()})
            c.output("x")
    assert info.value.context["node"] == "x"
    assert info.value.context["source_location"].startswith(__file__)


def test_a_const_value_that_cannot_be_copied_is_a_compile_error_suggesting_a_factory():
    with pytest.raises(ig.CompileError, match="factory=") as info:
        @ig.contract
        def Locked(c):
            c.const("x", {"lock": threading.Lock()})
            c.output("x")
    assert info.value.context["node"] == "x"


def test_a_const_factory_may_return_anything():
    lock = threading.Lock()

    @ig.contract
    def Shared(c):
        c.const("x", factory=lambda: {"lock": lock})
        c.output("x")

    assert Shared().result.x["lock"] is lock
