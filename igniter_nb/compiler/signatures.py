"""What a callable accepts: the keyword parameters igniter_nb passes dependencies to.

Plain functions (and methods bound to them) are read from their code object: ``__code__`` holds the parameter
names and kinds, ``__defaults__``/``__kwdefaults__`` which have defaults. That is ~40× cheaper than
``inspect.signature`` and gives the same answer (``tests/compiler/test_callable_signatures.py`` compares the two). Any
other callable — builtins, ``functools.partial``, objects with ``__call__``, functions carrying
``__wrapped__`` or ``__signature__`` — goes through ``inspect``, memoised in a small bounded table.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FunctionType, MethodType
from typing import Any

_CO_VARARGS = inspect.CO_VARARGS
_CO_VARKEYWORDS = inspect.CO_VARKEYWORDS
# Attributes through which ``inspect.signature`` reports something other than the code object says.
_SIGNATURE_HOOKS = ("__wrapped__", "__signature__", "_partialmethod", "__partialmethod__")


@dataclass(frozen=True, slots=True)
class CallableSignature:
    """The parameters of a user callable, as igniter_nb sees them (dependencies go in by keyword)."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    accepts_any: bool
    positional_only: tuple[str, ...]
    var_positional: str | None
    # Read from a plain function's own code, every parameter positional-or-keyword and required (``def f(a, b)``
    # or ``def f(a, **kw)``): ``f(**{p: v for p in required})`` is then the same call as ``f(*values)``.
    by_position: bool = field(default=False, compare=False)

    @property
    def accepted(self) -> tuple[str, ...]:
        return self.required + self.optional


_fallback_cache: dict[tuple[Any, bool], CallableSignature | None] = {}
_FALLBACK_LIMIT = 1024


def analyse(fn: Callable[..., Any], *, drop_first: bool = False) -> CallableSignature | None:
    """Read ``fn``'s parameters; ``None`` when Python cannot tell (some builtins). ``drop_first`` leaves out the
    first parameter (``self`` of a method read from its class)."""
    tp = type(fn)
    if tp is FunctionType and _plain(fn):
        return _from_code(fn, 1 if drop_first else 0)
    if tp is MethodType and type(fn.__func__) is FunctionType and _plain(fn.__func__):  # type: ignore[attr-defined]
        # As inspect does: the first positional parameter is bound; a method whose first parameter is
        # keyword-only or ``**kwargs`` cannot be bound (None); with only ``*args``, nothing is bound.
        code = fn.__func__.__code__  # type: ignore[attr-defined]
        if not code.co_argcount and not code.co_flags & _CO_VARARGS:
            return None
        return _from_code(fn.__func__, (1 if code.co_argcount else 0) + (1 if drop_first else 0))  # type: ignore[attr-defined]
    key = (fn, drop_first)
    try:
        return _fallback_cache[key]
    except KeyError:
        pass
    except TypeError:  # unhashable callable object
        return _from_inspect(fn, drop_first)
    found = _from_inspect(fn, drop_first)
    if len(_fallback_cache) >= _FALLBACK_LIMIT:
        del _fallback_cache[next(iter(_fallback_cache))]  # the oldest entry: the table stays bounded
    _fallback_cache[key] = found
    return found


def _plain(fn: Any) -> bool:
    """Whether ``inspect.signature(fn)`` would read ``fn``'s own code (nothing wraps or overrides it)."""
    for attr in _SIGNATURE_HOOKS:
        if getattr(fn, attr, None) is not None:
            return False
    defaults = fn.__defaults__
    return defaults is None or len(defaults) <= fn.__code__.co_argcount


def _from_code(fn: Any, skip: int) -> CallableSignature:
    """The signature of a plain function from its code object, leaving out the first ``skip`` parameters."""
    code = fn.__code__
    argcount = code.co_argcount
    posonly_count = code.co_posonlyargcount
    kwonly_count = code.co_kwonlyargcount
    flags = code.co_flags
    names = code.co_varnames
    if not skip and not posonly_count and not flags & _CO_VARARGS and not kwonly_count and not fn.__defaults__:
        # The usual shape, ``def f(a, b)`` or ``def f(a, **kw)``: every parameter is a required keyword.
        return CallableSignature(names[:argcount], (), bool(flags & _CO_VARKEYWORDS), (), None, True)
    # (name, kind, has_default) in inspect's order: positional, *args, keyword-only, **kwargs.
    defaults = fn.__defaults__
    first_default = argcount - (len(defaults) if defaults else 0)
    params: list[tuple[str, str, bool]] = [
        (names[i], "posonly" if i < posonly_count else "named", i >= first_default) for i in range(argcount)
    ]
    index = argcount + kwonly_count
    if flags & _CO_VARARGS:
        params.append((names[index], "varargs", False))
        index += 1
    kwdefaults = fn.__kwdefaults__ or {}
    params.extend((name, "named", name in kwdefaults) for name in names[argcount:argcount + kwonly_count])
    if flags & _CO_VARKEYWORDS:
        params.append((names[index], "varkw", False))
    required: list[str] = []
    optional: list[str] = []
    posonly: list[str] = []
    var_positional = None
    accepts_any = False
    for name, kind, has_default in params[skip:]:
        if kind == "posonly":
            posonly.append(name)
        elif kind == "varargs":
            var_positional = name
        elif kind == "varkw":
            accepts_any = True
        elif has_default:
            optional.append(name)
        else:
            required.append(name)
    return CallableSignature(tuple(required), tuple(optional), accepts_any, tuple(posonly), var_positional)


def _from_inspect(fn: Callable[..., Any], drop_first: bool) -> CallableSignature | None:
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
    name: str | None
    if type(fn) is FunctionType:
        name = fn.__qualname__
        if "<" not in name:
            return name  # a module-level function (the usual case)
        if name[-1] != ">":  # a def inside a function (``define``'s body): what follows its last ``<locals>``
            return name.rpartition(".<locals>.")[2]
    elif isinstance(fn, str):
        return fn
    else:
        name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if name:
        return "lambda" if name.endswith("<lambda>") else str(name).split(".<locals>.")[-1]
    return type(fn).__name__
