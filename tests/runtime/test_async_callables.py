"""``async def`` computes: refused when the class is made; a callable that returns a coroutine (or any
awaitable) fails its node with a clear error. Computes are called synchronously and nothing awaits their value,
so before this the node *succeeded* holding an unawaited coroutine (and Python warned "never awaited")."""

from __future__ import annotations

import asyncio
import gc
import warnings

import pytest

import igniter_nb as ig


async def _double(x):
    return x * 2


def test_async_def_compute_is_refused_at_class_definition():
    with pytest.raises(ig.ValidationError, match=r"compute 'y': y is an async def function; computes are called") as info:
        @ig.contract
        def Async(c):
            c.input("x")

            @c.compute
            async def y(x):
                return x

            c.output("y")

    assert info.value.context["node"] == "y"
    assert info.value.context["source_location"].startswith(__file__)


def test_async_executor_call_and_async_method_are_refused():
    class Quote(ig.Executor):
        async def call(self, x):
            return x

    with pytest.raises(ig.ValidationError, match=r"Quote\.call is an async def function"):
        @ig.contract
        def ByExecutor(c):
            c.input("x")
            c.compute("y", call=Quote)
            c.output("y")

    with pytest.raises(ig.ValidationError, match=r"method fetch is an async def function"):
        class ByMethod(ig.Contract):
            def define(c):
                c.input("x")
                c.compute("y", call="fetch")
                c.output("y")

            async def fetch(self, x):
                return x

    async def stream(x):
        yield x

    with pytest.raises(ig.ValidationError, match="an async generator function"):
        @ig.contract
        def ByGenerator(c):
            c.input("x")
            c.compute("y", call=stream)
            c.output("y")


def test_a_returned_coroutine_fails_the_node_and_is_closed():
    @ig.contract
    def Returns(c):
        c.input("x")
        c.compute("y", call=lambda x: _double(x))  # a plain function handing back the coroutine
        c.compute("z", call=lambda y: y)
        c.output("z")

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "coroutine ... was never awaited" would be raised from gc
        contract = Returns(x=1)
        assert contract.status == "failed"
        err = contract.result.errors["y"]
        assert "returned an awaitable (coroutine)" in err.message
        assert "await it inside the callable" in err.message
        assert err.context["value_type"] == "coroutine"
        gc.collect()
    # the coroutine type is not learnt as a plain value type: a second run fails the same way
    assert Returns(x=2).status == "failed"


def test_a_coroutine_as_input_or_resume_value_is_refused_with_the_awaiting_advice():
    @ig.contract
    def Plain(c):
        c.input("x")
        c.output("x")

    coro = _double(1)
    try:
        with pytest.raises(ig.InputError, match=r"is an awaitable .*await it first and pass its result"):
            Plain(x=coro)
    finally:
        coro.close()
    assert asyncio.run(_double(2)) == 4  # (what the advice means)
