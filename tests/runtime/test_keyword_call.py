"""``call_with_keywords(fn, values)`` is ``fn(**values)`` without copying ``values`` first (runtime/keyword_call.py):
what a callable receives, returns and raises is the same, and ``values`` is left as it was."""

from __future__ import annotations

from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.compiler.graph import VALUES_TEMPLATE_FROM
from igniter_nb.runtime.keyword_call import _object_call, call_with_keywords


def keywords(**kw: Any) -> dict[str, Any]:
    kw["added"] = True  # the callee's own dictionary: changing it changes nothing of the caller's
    return kw


def named(a: int, b: int = 2, *, c: int) -> tuple[int, int, int]:
    return a, b, c


class Callable_:
    def __call__(self, **kw: Any) -> list[str]:
        return list(kw)


def test_the_call_gets_and_gives_what_a_keyword_call_does() -> None:
    assert _object_call() is not None  # CPython with ctypes: the copy is left out (else it falls back)
    values = {"a": 1, "c": 3}
    got = call_with_keywords(keywords, values)
    assert got == {"a": 1, "c": 3, "added": True} and got is not values
    assert values == {"a": 1, "c": 3}
    assert call_with_keywords(named, values) == named(**values) == (1, 2, 3)
    assert call_with_keywords(Callable_(), values) == ["a", "c"]
    assert call_with_keywords(dict, values) == dict(**values)
    for bad in ({"a": 1}, {"a": 1, "c": 3, "d": 4}):
        with pytest.raises(TypeError) as direct:
            named(**bad)
        with pytest.raises(TypeError) as through:
            call_with_keywords(named, bad)
        assert str(through.value) == str(direct.value)

    def raising(**kw: Any) -> None:
        raise KeyError(sorted(kw))

    with pytest.raises(KeyError) as caught:
        call_with_keywords(raising, values)
    assert caught.value.args == (["a", "c"],)


def test_a_sink_of_many_keyword_dependencies_that_fails_fails_as_one_of_a_few() -> None:
    for n in (3, VALUES_TEMPLATE_FROM + 1):
        names = [f"v{i}" for i in range(n)]

        def sink(**kw: int) -> int:
            raise ValueError(f"{len(kw)} values, first {next(iter(kw))}")

        def define(c: Any, names: list[str] = names, sink: Any = sink) -> None:
            c.input("x")
            for name in names:
                c.compute(name, depends_on=["x"], call=lambda x: x)
            c.compute("sink", depends_on=names, call=sink)
            c.output("sink")

        contract = ig.contract(define, name=f"Sink{n}")(x=1)
        with pytest.raises(ig.ResolutionError) as caught:
            _ = contract.result.sink
        assert f"{n} values, first v0" in str(caught.value)
        state = contract.execution.states["sink"]
        assert state.failed and isinstance(state.error, ig.ResolutionError)
        assert isinstance(state.error.__cause__, ValueError)
