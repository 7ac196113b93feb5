"""What a callable accepts: the keyword parameters igniter_nb passes dependencies to."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CallableSignature:
    """The parameters of a user callable, as igniter_nb sees them (dependencies go in by keyword)."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    accepts_any: bool
    positional_only: tuple[str, ...]
    var_positional: str | None

    @property
    def accepted(self) -> tuple[str, ...]:
        return self.required + self.optional


_cache: dict[tuple[Any, bool], CallableSignature | None] = {}


def analyse(fn: Callable[..., Any], *, drop_first: bool = False) -> CallableSignature | None:
    """Read ``fn``'s parameters; ``None`` when Python cannot tell (some builtins). Cached per callable."""
    try:
        return _cache[(fn, drop_first)]
    except (KeyError, TypeError):
        pass
    found = _analyse(fn, drop_first)
    try:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[(fn, drop_first)] = found
    except TypeError:  # unhashable callable object
        pass
    return found


def _analyse(fn: Callable[..., Any], drop_first: bool) -> CallableSignature | None:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    if drop_first and params:
        params = params[1:]
    required: list[str] = []
    optional: list[str] = []
    posonly: list[str] = []
    var_positional = None
    accepts_any = False
    for p in params:
        if p.kind is p.POSITIONAL_ONLY:
            posonly.append(p.name)
        elif p.kind is p.VAR_POSITIONAL:
            var_positional = p.name
        elif p.kind is p.VAR_KEYWORD:
            accepts_any = True
        elif p.default is p.empty:
            required.append(p.name)
        else:
            optional.append(p.name)
    return CallableSignature(tuple(required), tuple(optional), accepts_any, tuple(posonly), var_positional)


def callable_name(fn: Any) -> str:
    """A short display name for a callable (function name, class name, or the object's class)."""
    if isinstance(fn, str):
        return fn
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if name:
        return "lambda" if name.endswith("<lambda>") else str(name).split(".<locals>.")[-1]
    return type(fn).__name__
