"""Plain JSON data, which encodes as itself: a cheap copy or check of it, without the full encoder's paths."""

from __future__ import annotations

import math
from typing import Any

from igniter_nb.runtime.codec_tags import TAG

_NOT_PLAIN: Any = object()


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
