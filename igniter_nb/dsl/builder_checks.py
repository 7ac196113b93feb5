"""What can be checked of one declaration argument on its own (for the contract builder).

Copying defaults, names given as ``depends_on=``/``source=``, async callables, timeouts: each check looks at a
single value, with no builder state.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Callable, Iterable
from types import FunctionType
from typing import Any

from igniter_nb.compiler.signatures import callable_name
from igniter_nb.runtime.inputs import is_immutable


def _copy_if_mutable(value: Any) -> Callable[[], Any]:
    """A factory returning ``value`` — a fresh deep copy each time when it is mutable (L-17)."""
    if is_immutable(value):
        return lambda: value
    return lambda: copy.deepcopy(value)


def _copy_problem(value: Any) -> str | None:
    """Why a default/const ``value`` cannot be deep-copied per execution (L-17), or None when it can."""
    if is_immutable(value):
        return None
    try:
        copy.deepcopy(value)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


class _NotNames(TypeError):
    """A ``depends_on=``/``source=`` value that is not a node name or names; the builder says where."""


_ASYNC_FLAGS = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def _asynchronous(fn: Any, kind: str, contract_class: Any) -> str | None:
    """``"an async def function"``/``"an async generator function"`` when the compute's callable is one (it would
    return a coroutine nobody awaits), else ``None``."""
    if kind == "executor":
        target = fn.call
    elif kind == "method":
        target = getattr(contract_class, fn, None)
    else:
        target = fn
    if type(target) is FunctionType:  # the usual case: one flag test
        flags = target.__code__.co_flags
    elif inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target):
        flags = inspect.CO_COROUTINE if inspect.iscoroutinefunction(target) else inspect.CO_ASYNC_GENERATOR
    else:
        call = getattr(type(target), "__call__", None)  # noqa: B004 (a callable object's own method)
        flags = call.__code__.co_flags if type(call) is FunctionType else 0
    if not flags & _ASYNC_FLAGS:
        return None
    return "an async def function" if flags & inspect.CO_COROUTINE else "an async generator function"


def _callable_label(fn: Any, kind: str) -> str:
    if kind == "method":
        return f"method {fn}"
    if kind == "executor":
        return f"{fn.__name__}.call"
    return callable_name(fn)


def _names(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    try:
        names = tuple(value)
    except TypeError:
        raise _NotNames(f"a node name or a list of names, got {type(value).__name__} {value!r}") from None
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise _NotNames(f"node names (text), got {type(bad[0]).__name__} {bad[0]!r} in {value!r}")
    return names


def _positive_seconds(timeout: Any) -> bool:
    """A finite number of seconds above zero (NaN compares false with 0, and an int past a float's range or an
    infinity makes no deadline)."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        return False
    try:
        seconds = float(timeout)
    except OverflowError:
        return False
    return math.isfinite(seconds) and seconds > 0
