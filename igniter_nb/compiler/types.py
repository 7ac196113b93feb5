"""The input type system: reference type names, Python types, typing hints and pydantic models.

Checking is strict: values are never converted, and ``bool`` is not an integer or a number.
"""

from __future__ import annotations

import collections.abc
import decimal
import fractions
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Check = Callable[[Any], bool]

REFERENCE_TYPE_NAMES = ("integer", "float", "numeric", "string", "boolean", "array", "hash", "symbol", "result")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_float(v: Any) -> bool:
    return isinstance(v, float)


def _is_numeric(v: Any) -> bool:
    return isinstance(v, (int, float, decimal.Decimal, fractions.Fraction)) and not isinstance(v, bool)


def _is_result(v: Any) -> bool:
    # A child contract's Result (or CollectionResult): the runtime registers these classes lazily.
    return type(v).__name__ in ("Result", "CollectionResult") and type(v).__module__.startswith("igniter_nb.")


_NAMED: dict[str, Check] = {
    "integer": _is_int,
    "float": _is_float,
    "numeric": _is_numeric,
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, (list, tuple)),
    "hash": lambda v: isinstance(v, dict),
    "symbol": lambda v: isinstance(v, str),
    "result": _is_result,
}

# Python types that map onto reference names, so compatibility checks can compare them.
_PY_TO_NAME: dict[Any, str] = {
    int: "integer",
    float: "float",
    str: "string",
    bool: "boolean",
    list: "array",
    dict: "hash",
}

_NUMERIC_NAMES = {"integer", "float", "numeric"}


class UnknownTypeError(ValueError):
    """A type given to an input is not something igniter_nb can check."""


@dataclass(frozen=True, slots=True)
class TypeCheck:
    """A resolved type: its display name, its reference name when it has one, and its checker."""

    name: str
    reference: str | None
    check: Check

    def __call__(self, value: Any) -> bool:
        return self.check(value)


def _is_pydantic_model(tp: Any) -> bool:
    if not isinstance(tp, type):
        return False
    return any(
        base.__name__ == "BaseModel" and base.__module__.startswith("pydantic") for base in tp.__mro__[1:]
    )


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return repr(tp).replace("typing.", "")


def _class_check(tp: type) -> Check:
    if tp is int:
        return _is_int
    if tp is float:
        return _is_float
    if tp is object:
        return lambda v: True
    return lambda v: isinstance(v, tp)


def _hint_check(tp: Any) -> Check:
    """Build a checker for a typing hint; raises UnknownTypeError for what we cannot check."""
    if tp is Any or tp is typing.Any:
        return lambda v: True
    if tp is None or tp is type(None):
        return lambda v: v is None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is None:
        if isinstance(tp, type):
            return _class_check(tp)
        if isinstance(tp, typing.TypeVar):
            return lambda v: True
        raise UnknownTypeError(f"cannot check values against {tp!r}")
    if origin is typing.Union or origin is types.UnionType:
        checks = [_hint_check(a) for a in args]
        return lambda v: any(c(v) for c in checks)
    if origin is typing.Literal:
        allowed = args
        return lambda v: any(v == a and type(v) is type(a) for a in allowed)
    if origin is typing.Annotated:
        return _hint_check(args[0])
    if origin in (list, set, frozenset, collections.abc.Sequence, collections.abc.Set):
        outer = {list: list, set: set, frozenset: frozenset}.get(origin, origin)
        inner = _hint_check(args[0]) if args else (lambda v: True)
        if outer is collections.abc.Sequence:
            return lambda v: isinstance(v, (list, tuple)) and all(inner(x) for x in v)
        return lambda v: isinstance(v, outer) and all(inner(x) for x in v)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _hint_check(args[0])
            return lambda v: isinstance(v, tuple) and all(item(x) for x in v)
        items = [_hint_check(a) for a in args]
        return lambda v: isinstance(v, tuple) and len(v) == len(items) and all(c(x) for c, x in zip(items, v, strict=True))
    if origin in (dict, collections.abc.Mapping):
        kc = _hint_check(args[0]) if args else (lambda v: True)
        vc = _hint_check(args[1]) if len(args) > 1 else (lambda v: True)
        outer_m: Any = dict if origin is dict else collections.abc.Mapping
        return lambda v: isinstance(v, outer_m) and all(kc(k) and vc(x) for k, x in v.items())
    if isinstance(origin, type):
        return lambda v: isinstance(v, origin)
    raise UnknownTypeError(f"cannot check values against {tp!r}")


def resolve_type(spec: Any) -> TypeCheck | None:
    """Turn what a user wrote as ``type=`` into a checker; ``None`` means unchecked.

    Raises ``UnknownTypeError`` for unknown names and unsupported objects, so the compiler can report them.
    """
    if spec is None:
        return None
    if isinstance(spec, str):
        name = spec.lower()
        if name in _NAMED:
            return TypeCheck(name, name, _NAMED[name])
        raise UnknownTypeError(
            f"unknown type name {spec!r}; use one of {', '.join(REFERENCE_TYPE_NAMES)}, a Python type, "
            "a typing hint or a pydantic model"
        )
    if _is_pydantic_model(spec):
        model = spec
        return TypeCheck(spec.__name__, None, lambda v: isinstance(v, model))
    if isinstance(spec, type):
        return TypeCheck(spec.__name__, _PY_TO_NAME.get(spec), _class_check(spec))
    return TypeCheck(_type_name(spec), None, _hint_check(spec))


def compatible(source: str | None, target: str | None) -> bool:
    """Whether a value declared as ``source`` may feed something declared as ``target`` (reference names)."""
    if source is None or target is None or source == target:
        return True
    return source in ("integer", "float") and target == "numeric"


def model_compatible(source_spec: Any, target_spec: Any) -> bool:
    """Whether a value declared as ``source_spec`` may feed ``target_spec`` where either is a pydantic model.

    A model instance is none of the reference types (not even ``hash``: it is not a dict), and only an instance of
    the target model or of a subclass passes its check. Typing hints around a model (``Verdict | None``) and other
    pairs are left to ``compatible`` and to the runtime check.
    """
    source_model, target_model = _is_pydantic_model(source_spec), _is_pydantic_model(target_spec)
    if source_model and target_model:
        return issubclass(source_spec, target_spec)
    if source_model:
        if isinstance(target_spec, str):
            return False
        return not _is_plain_class(target_spec) or issubclass(source_spec, target_spec)
    if target_model:
        return not (isinstance(source_spec, str) or _is_plain_class(source_spec))
    return True


def _is_plain_class(spec: Any) -> bool:
    # object and typing.Any (a class since 3.11) declare nothing; generic aliases are not plain classes.
    return isinstance(spec, type) and spec is not object and spec is not typing.Any


__all__ = [
    "REFERENCE_TYPE_NAMES",
    "TypeCheck",
    "UnknownTypeError",
    "compatible",
    "model_compatible",
    "resolve_type",
]

