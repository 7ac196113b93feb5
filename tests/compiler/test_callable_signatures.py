"""Reading parameters from ``__code__`` gives what ``inspect.signature`` gives, for every parameter shape."""

from __future__ import annotations

import functools
import inspect
from types import MethodType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from igniter_nb.compiler import signatures
from igniter_nb.compiler.signatures import _from_inspect, analyse

NAMES = st.sampled_from(["a", "b", "c", "d", "e", "total", "self", "x_1", "ünï"])


@st.composite
def parameter_lists(draw: Any) -> str:
    """Source of a ``def`` with any legal mix of positional-only, positional, *args, keyword-only, **kwargs."""
    names = draw(st.lists(NAMES, unique=True, max_size=7))
    n_pos = draw(st.integers(0, len(names)))
    positional, rest = names[:n_pos], names[n_pos:]
    n_posonly = draw(st.integers(0, len(positional)))
    n_defaults = draw(st.integers(0, len(positional)))
    parts = []
    for i, name in enumerate(positional):
        parts.append(f"{name}=1" if i >= len(positional) - n_defaults else name)
        if i == n_posonly - 1:
            parts.append("/")
    star = draw(st.booleans())
    kwonly = rest[: draw(st.integers(0, len(rest)))]
    if star or kwonly:
        parts.append("*args" if star else "*")
    parts.extend(f"{k}=2" if draw(st.booleans()) else k for k in kwonly)
    if draw(st.booleans()):
        parts.append("**kw")
    local = "    local_variable = 1\n" if draw(st.booleans()) else ""
    return f"def f({', '.join(parts)}):\n{local}    return None\n"


def _function(source: str) -> Any:
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # test-only: functions of every parameter shape
    return namespace["f"]


@settings(max_examples=400, deadline=None)
@given(parameter_lists(), st.booleans())
def test_code_reading_matches_inspect_for_every_parameter_shape(source: str, drop_first: bool) -> None:
    fn = _function(source)
    assert analyse(fn, drop_first=drop_first) == _from_inspect(fn, drop_first), source


@settings(max_examples=200, deadline=None)
@given(parameter_lists(), st.booleans())
def test_bound_methods_read_from_code_match_inspect(source: str, drop_first: bool) -> None:
    method = MethodType(_function(source), object())
    assert analyse(method, drop_first=drop_first) == _from_inspect(method, drop_first), source


def test_wrapped_and_overridden_functions_are_read_as_inspect_reads_them() -> None:
    def inner(a: int, b: int) -> int:
        return a + b

    @functools.wraps(inner)
    def wrapper(*args: Any, **kwargs: Any) -> int:
        return inner(*args, **kwargs)

    def declared(**kw: Any) -> None:
        return None

    declared.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("total", inspect.Parameter.KEYWORD_ONLY)])
    assert analyse(wrapper).required == ("a", "b")
    assert analyse(declared).required == ("total",)
    assert analyse(functools.partial(inner, 1)).required == ("b",)


def test_defaults_changed_after_definition_are_seen() -> None:
    def f(a: int, b: int) -> int:
        return a + b

    assert analyse(f).required == ("a", "b")
    f.__defaults__ = (1,)
    assert analyse(f).required == ("a",)
    assert analyse(f).optional == ("b",)


def test_callables_inspect_must_read_are_memoised_in_a_bounded_table() -> None:
    class Adder:
        def __call__(self, a: int) -> int:
            return a

    for _ in range(signatures._FALLBACK_LIMIT + 50):
        assert analyse(Adder()).required == ("a",)
    assert len(signatures._fallback_cache) <= signatures._FALLBACK_LIMIT


def test_callable_name_of_defs_inside_a_function() -> None:
    from igniter_nb.compiler.signatures import callable_name

    def define() -> tuple[Any, ...]:
        def n1() -> None: ...

        class Local:
            def m(self) -> None: ...

            f = staticmethod(lambda: 1)

        def outer() -> Any:
            def inner() -> None: ...
            return inner

        return n1, Local.m, Local.__dict__["f"].__func__, (lambda: 2), outer()

    assert [callable_name(f) for f in define()] == ["n1", "Local.m", "lambda", "lambda", "inner"]
    assert callable_name(test_callable_name_of_defs_inside_a_function) == "test_callable_name_of_defs_inside_a_function"
