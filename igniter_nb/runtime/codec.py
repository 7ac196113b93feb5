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

This module is the codec's public face and the place new types are taught to it (:func:`register_codec`); the
work is done in ``codec_encoding`` (values into data), ``codec_decoding`` (data back into values), ``codec_plain``
(copies and checks of plain JSON data) and ``codec_tags`` (what both sides share: tags, limits, class names).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Each question in its own module; every name (the private ones other modules use too) is importable from here.
from igniter_nb.runtime.codec_decoding import _DECODERS as _DECODERS
from igniter_nb.runtime.codec_decoding import decode as decode
from igniter_nb.runtime.codec_decoding import decode_shared as decode_shared
from igniter_nb.runtime.codec_encoding import _Encoder as _Encoder
from igniter_nb.runtime.codec_encoding import encode as encode
from igniter_nb.runtime.codec_plain import _NOT_PLAIN as _NOT_PLAIN
from igniter_nb.runtime.codec_plain import _plain_copy as _plain_copy
from igniter_nb.runtime.codec_plain import is_plain as is_plain
from igniter_nb.runtime.codec_plain import plain_copy as plain_copy
from igniter_nb.runtime.codec_tags import _RESERVED as _RESERVED
from igniter_nb.runtime.codec_tags import MAX_DEPTH as MAX_DEPTH
from igniter_nb.runtime.codec_tags import PATH_SHOWN as PATH_SHOWN
from igniter_nb.runtime.codec_tags import TAG as TAG
from igniter_nb.runtime.codec_tags import JSONValue as JSONValue
from igniter_nb.runtime.codec_tags import _Extension as _Extension
from igniter_nb.runtime.codec_tags import _extensions_by_tag as _extensions_by_tag
from igniter_nb.runtime.codec_tags import _extensions_by_type as _extensions_by_type
from igniter_nb.runtime.codec_tags import located as located
from igniter_nb.runtime.codec_tags import short_path as short_path


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
