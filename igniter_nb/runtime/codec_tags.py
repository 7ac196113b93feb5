"""The codec's vocabulary, shared by encoding and decoding: the tag key, the depth limit, how a class is named in
stored data (``module:QualName``) and found again, and the types taught to it with ``register_codec``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
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


# The longest path an error shows whole (it shows it twice: in its text and in ``[path=...]``).
PATH_SHOWN = 160
_LEVEL_STARTS = frozenset(".[{")  # what starts a level in a path: ``.key``, ``[index]``, ``{set item}``


def short_path(path: str, limit: int = PATH_SHOWN) -> str:
    """``path`` when it has at most ``limit`` characters, else its head and tail around what was left out:
    ``inputs.order.a.a … 180 levels left out … .a.a`` (whole levels), or, when no level ends near the cut (a key
    thousands of characters long), ``… 99,850 characters left out …``. A character that would break the line or
    read as something else (a newline, a control character, a bidi override, a lone surrogate) is shown escaped
    as ``repr`` shows it (``\\n``, ``\\u202e``), so the message stays one readable line; ``full_path`` keeps it."""
    if type(path) is not str:  # (a caller's ``path=`` of another type: named as its text, not a TypeError)
        path = str(path)
    if not path.isprintable():
        path = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in path)
    if len(path) <= limit:
        return path
    half = limit // 2
    end = len(path)
    head = next((i for i in range(half, half // 2, -1) if path[i] in _LEVEL_STARTS), None)
    tail = next((i for i in range(end - half, end - half // 2) if path[i] in _LEVEL_STARTS), None)
    if head is not None and tail is not None:
        levels = sum(1 for i in range(head, tail) if path[i] in _LEVEL_STARTS)
        left_out = f"{levels:,} level{'s' if levels != 1 else ''}"
    else:
        head, tail = half, end - half
        left_out = f"{tail - head:,} character{'s' if tail - head != 1 else ''}"
    return f"{path[:head]} … {left_out} left out … {path[tail:]}"


def located(err: SnapshotEncodingError, path: str) -> SnapshotEncodingError:
    """``err`` (a ``SnapshotEncodingError``) keeping the whole of ``path``, the place it names, as ``full_path``."""
    err.full_path = path if type(path) is str else str(path)
    return err


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _resolve_attr(module: Any, qualname: str) -> Any:
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


# Tags the stores use in what they write (never in a value): "part" marks where a packed version's part goes
# (stores/packing.py), so no codec may produce it.
_RESERVED = frozenset({"part"})
