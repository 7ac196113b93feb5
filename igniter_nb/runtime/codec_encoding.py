"""Encoding: Python values into JSON-safe data (plain data as itself, anything else as a tagged dict)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import math
import sys
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from igniter_nb.errors import SnapshotEncodingError
from igniter_nb.runtime.codec_plain import _NOT_PLAIN, _plain_copy
from igniter_nb.runtime.codec_tags import (
    MAX_DEPTH,
    TAG,
    JSONValue,
    _extensions_by_type,
    _importable_classes,
    _is_class_ref,
    _join,
    _resolve_attr,
    located,
    short_path,
)


def encode(value: Any, *, node: str | None = None, path: str = "") -> JSONValue:
    """Return a JSON-safe form of ``value`` that :func:`decode` turns back into an equal value.

    ``node`` names the graph node the value belongs to and ``path`` where the value sits (e.g. ``"inputs.order"``);
    both only serve error messages. Raises ``SnapshotEncodingError`` for unsupported values and cycles.
    """
    try:
        plain = _plain_copy(value, 0)
        if plain is not _NOT_PLAIN:
            return plain
        kind = type(value)
        ext = _extensions_by_type.get(kind)
        if ext is not None and kind not in _BUILT_IN_KINDS and kind not in _SPECIAL:
            # a value of a registered class whose data is plain (a waiting node's DeferredResult): what the
            # encoder's ``other`` gives, without its setup; anything else (and any error) takes the full path
            try:
                plain = _plain_copy(ext.encode(value), 1)
            except Exception:
                plain = _NOT_PLAIN
            if plain is not _NOT_PLAIN:
                return {TAG: ext.tag, "value": plain}
        return _Encoder(node).encode(value, path, 0)
    except RecursionError:
        where = path or "<root>"
        shown = short_path(where)
        raise located(SnapshotEncodingError(
            f"Cannot encode the value at {shown}: it is nested too deeply for Python's recursion limit "
            f"(values may nest at most {MAX_DEPTH} levels)", node=node, path=shown), where) from None


_BUILT_IN_KINDS = frozenset({str, int, bool, float, type(None), dict, list, tuple, set, frozenset})  # never extensions


class _Encoder:
    __slots__ = ("active", "node")

    def __init__(self, node: str | None) -> None:
        self.node = node
        self.active: set[int] = set()  # ids of the containers on the current path (cycle detection)

    def fail(self, value: Any, path: str, why: str) -> SnapshotEncodingError:
        where = path or "<root>"
        shown = short_path(where)  # (a value 200 levels deep, a key of 100,000 characters: readable all the same)
        kind = type(value)
        name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        return located(SnapshotEncodingError(
            f"Cannot encode a value of type {name} at {shown}: {why}", node=self.node, path=shown, value_type=name
        ), where)

    def encode(self, value: Any, path: str, depth: int) -> JSONValue:
        kind = type(value)
        if kind is str or kind is int or kind is bool or value is None:
            return value
        if kind is float:
            return value if math.isfinite(value) else {TAG: "float", "value": repr(value)}
        if depth >= MAX_DEPTH:  # the outermost container is at depth 0
            raise self.fail(value, path, f"nested deeper than {MAX_DEPTH} levels")
        if kind is dict or kind is list or kind is tuple or kind is set or kind is frozenset:
            return self.container(value, kind, path, depth)
        special = _SPECIAL.get(kind)
        if special is not None:
            return special(value)
        return self.other(value, kind, path, depth)

    def container(self, value: Any, kind: type, path: str, depth: int) -> JSONValue:
        key = id(value)
        if key in self.active:
            raise self.fail(value, path, "the value contains itself (a reference cycle)")
        self.active.add(key)
        try:
            if kind is list or issubclass(kind, list):
                return [self.encode(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
            if kind is tuple or issubclass(kind, tuple):
                return {TAG: "tuple", "items": [self.encode(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]}
            if kind is set or kind is frozenset or issubclass(kind, (set, frozenset)):
                tag = "frozenset" if isinstance(value, frozenset) else "set"
                items = [self.encode(v, f"{path}{{{i}}}", depth + 1) for i, v in enumerate(value)]
                items.sort(key=_sort_key)  # deterministic output whatever the hash order
                return {TAG: tag, "items": items}
            return self.mapping(value, path, depth)
        finally:
            self.active.discard(key)

    def mapping(self, value: dict[Any, Any], path: str, depth: int) -> JSONValue:
        if TAG not in value and all(type(k) is str for k in value):
            return {k: self.encode(v, _join(path, k), depth + 1) for k, v in value.items()}
        items = []
        for k, v in value.items():
            label = _join(path, k) if isinstance(k, str) else f"{path}[{k!r}]"
            items.append([self.encode(k, f"{label}<key>", depth + 1), self.encode(v, label, depth + 1)])
        return {TAG: "dict", "items": items}

    def other(self, value: Any, kind: type, path: str, depth: int) -> JSONValue:
        for base in kind.__mro__:
            ext = _extensions_by_type.get(base)
            if ext is not None:
                try:
                    payload = ext.encode(value)
                except SnapshotEncodingError:
                    raise
                except Exception as exc:
                    raise self.fail(value, path, f"the {ext.tag!r} codec failed: {exc}") from exc
                plain = _plain_copy(payload, depth + 1)  # the common case: no path strings to build
                if plain is not _NOT_PLAIN:
                    return {TAG: ext.tag, "value": plain}
                return {TAG: ext.tag, "value": self.encode(payload, path, depth + 1)}
        if isinstance(value, enum.Enum):
            return {TAG: "enum", "class": self.class_ref(value, kind, path), "value": self.encode(value.value, path, depth + 1)}
        if dataclasses.is_dataclass(value):
            ref = self.class_ref(value, kind, path)
            fields = {f.name: self.encode(getattr(value, f.name), _join(path, f.name), depth + 1) for f in dataclasses.fields(value)}
            return {TAG: "dataclass", "class": ref, "fields": fields}
        if "pydantic" in sys.modules and _is_pydantic_model(value):
            ref = self.class_ref(value, kind, path)
            try:
                data = value.model_dump(mode="python", by_alias=True, round_trip=True)
            except Exception as exc:
                raise self.fail(value, path, f"model_dump() failed: {exc}") from exc
            return {TAG: "pydantic", "class": ref, "data": self.encode(data, path, depth + 1)}
        # Subclasses of the plain types (str/int/float enums are handled above) encode as their base type.
        for base, special in _BASES:
            if isinstance(value, base):
                return special(self, value, path, depth)
        for base, encoder in _SPECIAL.items():
            if isinstance(value, base):
                return encoder(value)
        raise self.fail(value, path, _unsupported_reason(value))

    def class_ref(self, value: Any, kind: type, path: str) -> str:
        ref = _importable_classes.get(kind)
        if ref is not None:
            return ref
        ref = f"{kind.__module__}:{kind.__qualname__}"
        if "<locals>" in kind.__qualname__ or not _is_class_ref(ref):
            raise self.fail(value, path, "its class is defined inside a function, so it could not be found again on restore")
        try:
            found = _resolve_attr(sys.modules[kind.__module__], kind.__qualname__)
        except (KeyError, AttributeError):
            found = None
        if found is not kind:
            raise self.fail(value, path, f"its class cannot be found again as {ref}")
        _importable_classes[kind] = ref
        return ref


def _sort_key(item: Any) -> str:
    return repr(item) if not isinstance(item, dict) else repr(sorted(item.items(), key=repr))


def _is_pydantic_model(value: Any) -> bool:
    return any(c.__name__ == "BaseModel" and c.__module__ == "pydantic.main" for c in type(value).__mro__)


def _unsupported_reason(value: Any) -> str:
    if callable(value):
        return "functions, classes and other callables are not data"
    if hasattr(value, "read") or hasattr(value, "fileno"):
        return "open files and streams are not data"
    return (
        "it is not a supported type (JSON values, datetime, date, time, timedelta, Decimal, UUID, bytes, tuple, set, "
        "frozenset, enums, dataclasses, pydantic models); convert it or use register_codec()"
    )


def _encode_datetime(value: dt.datetime) -> JSONValue:
    out: dict[str, Any] = {TAG: "datetime", "value": value.isoformat()}
    _add_zone(out, value.tzinfo)
    if value.fold:
        out["fold"] = 1
    return out


def _encode_time(value: dt.time) -> JSONValue:
    out: dict[str, Any] = {TAG: "time", "value": value.isoformat()}
    _add_zone(out, value.tzinfo)
    if value.fold:
        out["fold"] = 1
    return out


def _add_zone(out: dict[str, Any], tz: dt.tzinfo | None) -> None:
    key = getattr(tz, "key", None)  # zoneinfo.ZoneInfo keeps its IANA name; keep it so DST rules survive
    if isinstance(key, str) and type(tz).__module__ == "zoneinfo":
        out["zone"] = key


_SPECIAL: dict[type, Callable[[Any], JSONValue]] = {
    dt.datetime: _encode_datetime,
    dt.date: lambda v: {TAG: "date", "value": v.isoformat()},
    dt.time: _encode_time,
    dt.timedelta: lambda v: {TAG: "timedelta", "days": v.days, "seconds": v.seconds, "microseconds": v.microseconds},
    Decimal: lambda v: {TAG: "decimal", "value": str(v)},
    uuid.UUID: lambda v: {TAG: "uuid", "value": str(v)},
    bytes: lambda v: {TAG: "bytes", "b64": base64.b64encode(v).decode("ascii")},
    bytearray: lambda v: {TAG: "bytearray", "b64": base64.b64encode(bytes(v)).decode("ascii")},
}

_BASES: tuple[tuple[type, Callable[[_Encoder, Any, str, int], JSONValue]], ...] = (
    (bool, lambda enc, v, p, d: bool(v)),
    (int, lambda enc, v, p, d: int(v)),
    (float, lambda enc, v, p, d: enc.encode(float(v), p, d)),
    (str, lambda enc, v, p, d: str(v)),
    (list, lambda enc, v, p, d: enc.container(v, list, p, d)),
    (tuple, lambda enc, v, p, d: enc.container(v, tuple, p, d)),
    (frozenset, lambda enc, v, p, d: enc.container(v, frozenset, p, d)),
    (set, lambda enc, v, p, d: enc.container(v, set, p, d)),
    (dict, lambda enc, v, p, d: enc.container(v, dict, p, d)),
)
