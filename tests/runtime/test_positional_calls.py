"""The resolver passes dependencies by position only where that is the same call as by keyword: a plain function
whose parameters are exactly its dependencies, in order. Everything else is called by keyword, as before."""

from __future__ import annotations

import functools
from typing import Any

import igniter_nb as ig


def plain(a: int) -> int:
    return a + 1


def two(a: int, b: int) -> int:
    return a * 10 + b


def swapped(b: int, a: int) -> int:  # parameters in another order than declared by depends_on
    return b * 10 + a


def with_default(a: int, scale: int = 3) -> int:
    return a * scale


def keyword_only(a: int, *, b: int) -> int:
    return a + b


def any_keywords(**kw: int) -> int:
    return sum(kw.values())


def seen_keywords(func: Any) -> Any:
    """A wrapper that records how it was called: a positional call would show here."""
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs))
        return func(*args, **kwargs)

    wrapper.calls = calls  # type: ignore[attr-defined]
    return wrapper


wrapped = seen_keywords(plain)


class Adder:
    def __call__(self, a: int) -> int:
        return a + 100


class Shapes(ig.Contract):
    def define(c):
        c.input("a", type=int)
        c.input("b", type=int)
        c.compute("p", call=plain)
        c.compute("t", call=two)
        c.compute("s", depends_on=["a", "b"], call=swapped)
        c.compute("d", call=with_default)
        c.compute("k", call=keyword_only)
        c.compute("kw", depends_on=["a", "b"], call=any_keywords)
        c.compute("w", call=wrapped)
        c.compute("o", call=Adder())
        c.output("p")
        c.output("t")
        c.output("s")
        c.output("d")
        c.output("k")
        c.output("kw")
        c.output("w")
        c.output("o")


def test_only_exact_plain_signatures_are_called_by_position() -> None:
    plan = Shapes.compiled_graph().fast_plan
    assert {name: plan[name][3] for name in ("p", "t", "s", "d", "k", "kw", "w", "o")} == {
        "p": 1, "t": 2, "s": 0, "d": 0, "k": 0, "kw": 0, "w": 0, "o": 0}


def test_every_shape_gets_its_dependencies_by_name() -> None:
    result = Shapes(a=1, b=2).result
    assert (result.p, result.t, result.s, result.d, result.k, result.kw, result.w, result.o) == (
        2, 12, 21, 3, 3, 3, 2, 101)
    assert wrapped.calls[-1] == ((), {"a": 1})  # a wrapper is still called by keyword


def boom(a: int) -> int:
    raise ValueError(f"no {a}")


def after(boom: int) -> int:
    return boom + 1


def later(after: int) -> int:
    return after + 1


class Failing(ig.Contract):
    def define(c):
        c.input("a", type=int)
        c.compute("boom", call=boom)
        c.compute("after", call=after)
        c.compute("later", call=later)
        c.output("later")


def test_a_one_dependency_node_behind_a_failure_fails_with_it() -> None:
    contract = Failing(a=1)
    states = contract.execution.states
    contract.resolve_all()
    assert [states[n].status for n in ("boom", "after", "later")] == [ig.Status.FAILED] * 3
    assert states["later"].error is states["boom"].error
    assert [(e.type, e.node) for e in contract.events if e.node] == [
        ("node_started", "later"), ("node_started", "after"), ("node_started", "boom"), ("node_started", "a"),
        ("node_succeeded", "a"), ("node_failed", "boom"), ("node_failed", "after"), ("node_failed", "later")]
