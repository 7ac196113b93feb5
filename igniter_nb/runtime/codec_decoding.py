"""Decoding: the JSON-safe data ``encode`` made (after any JSON round trip) back into Python values, refusing
unknown tags and class references that do not name a dataclass, pydantic model or enum."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import sys
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from igniter_nb.errors import SnapshotEncodingError
from igniter_nb.runtime.codec_tags import (
    MAX_DEPTH,
    TAG,
    JSONValue,
    _extensions_by_tag,
    _is_class_ref,
    _join,
    _resolve_attr,
    located,
    short_path,
)


def decode(data: JSONValue) -> Any:
    """Turn the output of :func:`encode` (after any JSON round trip) back into Python values.

    Raises ``SnapshotEncodingError`` for unknown tags, malformed tagged values and class references that do not
    name a dataclass, pydantic model or enum.
    """
    return _decoded(_decode_fast, data)


def decode_shared(data: JSONValue) -> Any:
    """Like :func:`decode`, but containers holding no tagged value anywhere below are returned as they are, not
    copied: for data the caller owns (a snapshot a store just returned). Never changes ``data``."""
    return _decoded(_decode_shared, data)


def _decoded(fast: Callable[[Any], Any], data: Any) -> Any:
    try:
        try:
            return fast(data)
        except Exception:
            return _decode(data, "")  # again, tracking where it is, so the error names the place
    except RecursionError:
        raise _too_deep() from None


def _too_deep() -> SnapshotEncodingError:
    return SnapshotEncodingError(f"Cannot decode the snapshot value: it is nested too deeply for Python's recursion "
                                 f"limit (values may nest at most {MAX_DEPTH} levels)", path="<root>")


def _decode_shared(data: Any) -> Any:
    kind = type(data)
    if kind is dict:
        if TAG in data:
            return _decode_tagged(data[TAG], data, "", True, True)
        out = None
        for k, v in data.items():
            kv = type(v)
            if kv is dict or kv is list:
                d = _decode_shared(v)
                if d is not v:
                    if out is None:
                        out = dict(data)
                    out[k] = d
        return data if out is None else out
    if kind is list:
        items = None
        for i, v in enumerate(data):
            kv = type(v)
            if kv is dict or kv is list:
                d = _decode_shared(v)
                if d is not v:
                    if items is None:
                        items = list(data)
                    items[i] = d
        return data if items is None else items
    return data


def _decode_fast(data: Any) -> Any:
    """``_decode`` without building a path string per value (the common, error-free case)."""
    kind = type(data)
    if kind is dict:
        if TAG in data:
            return _decode_tagged(data[TAG], data, "", True)
        out = {}
        for k, v in data.items():  # (a scalar leaf is taken as it is, without a call)
            kv = type(v)
            out[k] = _decode_fast(v) if kv is dict or kv is list else v
        return out
    if kind is list:
        return [_decode_fast(v) if type(v) is dict or type(v) is list else v for v in data]
    return data


def _decode(data: Any, path: str) -> Any:
    kind = type(data)
    if kind is dict:
        if TAG not in data:
            return {k: _decode(v, _join(path, k)) for k, v in data.items()}
        return _decode_tagged(data[TAG], data, path)
    if kind is list:
        return [_decode(v, f"{path}[{i}]") for i, v in enumerate(data)]
    return data


def _decode_tagged(tag: Any, data: dict[str, Any], path: str, fast: bool = False, shared: bool = False) -> Any:
    """The value of a tagged dict; ``fast`` (the first, error-free attempt) decodes an extension's value without
    building path strings (a failure is decoded again with them, for the error message); ``shared``
    (:func:`decode_shared`) hands the extension's decoder the owned value itself where nothing below it is tagged."""
    decoder = _DECODERS.get(tag) if isinstance(tag, str) else None
    try:
        if decoder is not None:
            return decoder(data, path)
        ext = _extensions_by_tag.get(tag) if isinstance(tag, str) else None
        if ext is not None:
            value = data["value"]
            return ext.decode((_decode_shared(value) if shared else _decode_fast(value)) if fast else _decode(value, path))
    except SnapshotEncodingError:
        raise
    except Exception as exc:
        raise _decode_error(f"malformed {tag!r} value: {type(exc).__name__}: {exc}", path) from exc
    raise _decode_error(f"unknown tag {tag!r} (a codec registered with register_codec() may be missing)", path)


def _decode_error(why: str, path: str) -> SnapshotEncodingError:
    where = path or "<root>"
    shown = short_path(where)
    return located(SnapshotEncodingError(f"Cannot decode the snapshot value at {shown}: {why}", path=shown), where)


def _items(data: dict[str, Any], path: str) -> list[Any]:
    items = data["items"]
    if type(items) is not list:
        raise TypeError("'items' must be a list")
    return [_decode(v, f"{path}[{i}]") for i, v in enumerate(items)]


def _decode_dict(data: dict[str, Any], path: str) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for pair in data["items"]:
        k, v = pair
        key = _decode(k, f"{path}<key>")
        out[key] = _decode(v, _join(path, key) if isinstance(key, str) else f"{path}[{key!r}]")
    return out


def _decode_float(data: dict[str, Any], path: str) -> float:
    text = data["value"]
    if text not in ("nan", "inf", "-inf"):
        raise ValueError(f"{text!r} is not nan, inf or -inf")
    return float(text)


def _decode_datetime(data: dict[str, Any], path: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(data["value"])
    value = value.replace(tzinfo=_zone(data, value.tzinfo))
    return value.replace(fold=1) if data.get("fold") else value


def _decode_time(data: dict[str, Any], path: str) -> dt.time:
    value = dt.time.fromisoformat(data["value"])
    value = value.replace(tzinfo=_zone(data, value.tzinfo))
    return value.replace(fold=1) if data.get("fold") else value


def _zone(data: dict[str, Any], parsed: dt.tzinfo | None) -> dt.tzinfo | None:
    name = data.get("zone")
    if name is None:
        return parsed
    import zoneinfo

    return zoneinfo.ZoneInfo(name)


def _decode_class(data: dict[str, Any], what: str, check: Callable[[Any], bool]) -> Any:
    ref = data["class"]
    if not isinstance(ref, str) or not _is_class_ref(ref):
        raise ValueError(f"class reference {ref!r} is not 'module:QualName'")
    module_name, qualname = ref.split(":", 1)
    module = sys.modules.get(module_name)
    if module is None:  # never import what stored data names: importing runs the module's code (R5)
        raise ValueError(f"module {module_name!r} is not imported; igniter_nb never imports a module named in stored "
                         f"data: import {module_name} before restoring")
    try:
        cls = _resolve_attr(module, qualname)
    except AttributeError as exc:
        raise ValueError(f"{ref} does not exist") from exc
    if not (isinstance(cls, type) and check(cls)):
        raise ValueError(f"{ref} is not {what}; refusing to use it")
    return cls


def _decode_dataclass(data: dict[str, Any], path: str) -> Any:
    cls = _decode_class(data, "a dataclass", dataclasses.is_dataclass)
    stored = data["fields"]
    if type(stored) is not dict:
        raise TypeError("'fields' must be an object")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(stored) - set(fields)
    if unknown:
        raise ValueError(f"{cls.__qualname__} has no field(s) {sorted(unknown)}")
    values = {name: _decode(v, _join(path, name)) for name, v in stored.items()}
    obj = cls(**{n: v for n, v in values.items() if fields[n].init})
    for name, v in values.items():
        if not fields[name].init:
            object.__setattr__(obj, name, v)  # also works for frozen dataclasses
    return obj


def _decode_pydantic(data: dict[str, Any], path: str) -> Any:
    import pydantic

    cls = _decode_class(data, "a pydantic model", lambda c: issubclass(c, pydantic.BaseModel))
    return cls.model_validate(_decode(data["data"], path))


def _decode_enum(data: dict[str, Any], path: str) -> Any:
    cls = _decode_class(data, "an enum", lambda c: issubclass(c, enum.Enum))
    return cls(_decode(data["value"], path))


_DECODERS: dict[str, Callable[[dict[str, Any], str], Any]] = {
    "dict": _decode_dict,
    "float": _decode_float,
    "tuple": lambda d, p: tuple(_items(d, p)),
    "set": lambda d, p: set(_items(d, p)),
    "frozenset": lambda d, p: frozenset(_items(d, p)),
    "datetime": _decode_datetime,
    "date": lambda d, p: dt.date.fromisoformat(d["value"]),
    "time": _decode_time,
    "timedelta": lambda d, p: dt.timedelta(days=d["days"], seconds=d["seconds"], microseconds=d["microseconds"]),
    "decimal": lambda d, p: Decimal(d["value"]),
    "uuid": lambda d, p: uuid.UUID(d["value"]),
    "bytes": lambda d, p: base64.b64decode(d["b64"], validate=True),
    "bytearray": lambda d, p: bytearray(base64.b64decode(d["b64"], validate=True)),
    "dataclass": _decode_dataclass,
    "pydantic": _decode_pydantic,
    "enum": _decode_enum,
}
