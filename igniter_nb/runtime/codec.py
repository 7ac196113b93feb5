"""JSON-safe value codec for snapshots: ``encode`` turns Python values into JSON data, ``decode`` turns it back.

Plain JSON values (``None``, ``bool``, ``int``, finite ``float``, ``str``, ``list``, ``dict`` with string keys)
encode as themselves. Every other supported value becomes a *tagged* dict ``{"__ig__": "<tag>", ...}``; a user
dict that itself has the key ``"__ig__"`` is escaped as ``{"__ig__": "dict", "items": [[key, value], ...]}``, so
user data can never be mistaken for a tag::

    >>> encode({"when": datetime.date(2026, 1, 2), "ids": (1, 2)})
    {'when': {'__ig__': 'date', 'value': '2026-01-02'}, 'ids': {'__ig__': 'tuple', 'items': [1, 2]}}

No pickle, ``eval`` or ``exec`` is used. Decoding a dataclass, pydantic model or enum looks its class up by
``module:qualname`` among the modules already imported (a module named in stored data is never imported) and
refuses anything that is not such a class (security: stored data never names a function to call or a module to
run). Values nest at most :data:`MAX_DEPTH` levels. Anything the codec does not support raises :class:`~igniter_nb.errors.SnapshotEncodingError` naming the
Python type and where it sits inside the value (``inputs.order.items[2]``). See ``docs/snapshots.md``.
"""

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

TAG = "__ig__"

JSONValue = Any  # None | bool | int | float | str | list[JSONValue] | dict[str, JSONValue]

# How deep a value may nest. Each level costs the encoder up to four Python frames, so this stays well below
# the interpreter's recursion limit (1000 by default) and deeper values get SnapshotEncodingError, never
# RecursionError. A caller that is itself deep in the stack can still run out first: encode/decode turn that
# RecursionError into SnapshotEncodingError too.
MAX_DEPTH = 200


def _is_class_ref(ref: str) -> bool:
    """``module:QualName`` made of Python identifiers (any the language accepts, ``Überweisung`` included)."""
    module_name, colon, qualname = ref.partition(":")
    return bool(colon) and all(part.isidentifier() for part in (*module_name.split("."), *qualname.split(".")))


@dataclasses.dataclass(frozen=True, slots=True)
class _Extension:
    tag: str
    type_: type
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]


_extensions_by_tag: dict[str, _Extension] = {}
_extensions_by_type: dict[type, _Extension] = {}
_importable_classes: dict[type, str] = {}


# --------------------------------------------------------------------------------------------------- encoding


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
        raise SnapshotEncodingError(
            f"Cannot encode the value at {path or '<root>'}: it is nested too deeply for Python's recursion limit "
            f"(values may nest at most {MAX_DEPTH} levels)", node=node, path=path or "<root>") from None


_NOT_PLAIN: Any = object()
_BUILT_IN_KINDS = frozenset({str, int, bool, float, type(None), dict, list, tuple, set, frozenset})  # never extensions


def plain_copy(value: Any) -> Any:
    """A copy of ``value`` when it is plain JSON data that encodes as itself, else ``None``."""
    found = _plain_copy(value, 0)
    return None if found is _NOT_PLAIN else found


def is_plain(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is plain JSON data that encodes as itself (what :func:`plain_copy` would copy), checked
    without copying it."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is float:
        return math.isfinite(value)
    if depth > 64:
        return False
    if kind is dict:
        if TAG in value:
            return False
        for k, v in value.items():
            if type(k) is not str:
                return False
            kv = type(v)  # (a str, int, bool or None leaf is checked here, without a call)
            if not (kv is str or kv is int or kv is bool or v is None) and not is_plain(v, depth + 1):
                return False
        return True
    if kind is list:
        for v in value:
            kv = type(v)
            if not (kv is str or kv is int or kv is bool or v is None) and not is_plain(v, depth + 1):
                return False
        return True
    return False


def _plain_copy(value: Any, depth: int) -> Any:
    """A copy of ``value`` if it is plain JSON data (the common case), else ``_NOT_PLAIN``.

    Much cheaper than the full encoder, which tracks paths for its error messages. A str, int, bool or None
    inside a container is taken as it is without a call (most values are such leaves).
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return value if math.isfinite(value) else _NOT_PLAIN
    if depth > 64:
        return _NOT_PLAIN  # deep (or self-containing): let the full encoder decide
    # A container is copied whole at C speed, then its non-scalar entries are replaced by their copies (a value
    # replaced while iterating keeps the dict's size: allowed).
    if kind is dict:
        if TAG in value:
            return _NOT_PLAIN
        out: dict[str, Any] = value.copy()
        for k, v in out.items():
            if type(k) is not str:
                return _NOT_PLAIN
            kv = type(v)
            if kv is str or kv is int or kv is bool or v is None:
                continue
            c = _plain_copy(v, depth + 1)
            if c is _NOT_PLAIN:
                return c
            out[k] = c
        return out
    if kind is list:
        items = value.copy()
        for i, v in enumerate(items):
            kv = type(v)
            if kv is str or kv is int or kv is bool or v is None:
                continue
            c = _plain_copy(v, depth + 1)
            if c is _NOT_PLAIN:
                return c
            items[i] = c
        return items
    return _NOT_PLAIN


class _Encoder:
    __slots__ = ("active", "node")

    def __init__(self, node: str | None) -> None:
        self.node = node
        self.active: set[int] = set()  # ids of the containers on the current path (cycle detection)

    def fail(self, value: Any, path: str, why: str) -> SnapshotEncodingError:
        where = path or "<root>"
        kind = type(value)
        name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        return SnapshotEncodingError(
            f"Cannot encode a value of type {name} at {where}: {why}", node=self.node, path=where, value_type=name
        )

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


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


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


# --------------------------------------------------------------------------------------------------- decoding


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
    return SnapshotEncodingError(f"Cannot decode the snapshot value at {where}: {why}", path=where)


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


def _resolve_attr(module: Any, qualname: str) -> Any:
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


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


# --------------------------------------------------------------------------------------------------- extension

# Tags the stores use in what they write (never in a value): "part" marks where a packed version's part goes
# (stores/packing.py), so no codec may produce it.
_RESERVED = frozenset({"part"})



def register_codec(tag: str, type_: type, encode_fn: Callable[[Any], Any], decode_fn: Callable[[Any], Any]) -> None:
    """Teach the codec a new type: instances of ``type_`` (and subclasses) encode as ``{"__ig__": tag, "value": ...}``.

    ``encode_fn(value)`` returns data that is itself encoded (so it may contain any supported value);
    ``decode_fn(data)`` receives that data decoded and returns the value. Built-in tags cannot be replaced;
    registering the same tag again replaces the earlier registration for that tag.
    """
    if not isinstance(tag, str) or not tag or tag in _DECODERS or tag in _RESERVED:
        raise ValueError(f"codec tag {tag!r} is empty or reserved by igniter_nb "
                         f"({', '.join(sorted({*_DECODERS, *_RESERVED}))})")
    if not isinstance(type_, type):
        raise TypeError(f"register_codec() needs a class, got {type_!r}")
    previous = _extensions_by_tag.pop(tag, None)
    if previous is not None:
        _extensions_by_type.pop(previous.type_, None)
    ext = _Extension(tag, type_, encode_fn, decode_fn)
    _extensions_by_tag[tag] = ext
    _extensions_by_type[type_] = ext


def unregister_codec(tag: str) -> None:
    """Remove a tag added with :func:`register_codec` (no error when it is not registered)."""
    ext = _extensions_by_tag.pop(tag, None)
    if ext is not None:
        _extensions_by_type.pop(ext.type_, None)


__all__ = ["TAG", "decode", "encode", "register_codec", "unregister_codec"]
