"""The codec's vocabulary, shared by encoding and decoding: the tag key, the depth limit, how a class is named in
stored data (``module:QualName``) and found again, and the types taught to it with ``register_codec``."""

from __future__ import annotations

import bisect
import dataclasses
import itertools
from collections.abc import Callable, Sequence
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
# What may start a level in a path (``.key``, ``[index]``, ``{set item}``): where a cut is made when one is near.
# Only "may": a key can hold these characters itself ("a.b", "x[1]"), so a path's text cannot say how many levels
# it has, and a cut says how many characters it left out.
_LEVEL_STARTS = frozenset(".[{")


def short_path(path: str, limit: int = PATH_SHOWN) -> str:
    """``path`` when it has at most ``limit`` characters, else its head and tail around what was left out:
    ``inputs.order.a.a … 360 characters left out … .a.a``, each cut just before a ``.``, ``[`` or ``{`` when one is
    near (else mid-key); the count is exact, in characters of ``path`` itself. A character that would break the line
    or read as something else (a newline, a control character, a bidi override, a lone surrogate) is shown escaped
    as ``repr`` shows it (``\\n``, ``\\u202e``), so the message stays one readable line, and a cut never splits
    such an escape; ``full_path`` keeps the path whole."""
    if type(path) is not str:  # (a caller's ``path=`` of another type: named as its text, not a TypeError)
        path = str(path)
    shown = path
    at: Sequence[int] = range(len(path) + 1)  # where each character of ``path`` starts in ``shown``
    if not path.isprintable():
        pieces = [ch if ch.isprintable() else repr(ch)[1:-1] for ch in path]
        shown = "".join(pieces)
        at = [0, *itertools.accumulate(map(len, pieces))]
    limit = max(limit, 0)  # (a limit below 0 cuts as 0 does: everything left out, counted)
    if len(shown) <= limit:
        return shown
    half = limit // 2
    end = len(shown)
    head = bisect.bisect_right(at, half) - 1  # the last character that starts within the first half
    for i in range(head, -1, -1):
        if at[i] <= half // 2:
            break
        if path[i] in _LEVEL_STARTS:
            head = i
            break
    tail = bisect.bisect_left(at, end - half)  # the first character that starts within the last half
    for i in range(tail, len(path)):
        if at[i] >= end - half // 2:
            break
        if path[i] in _LEVEL_STARTS:
            tail = i
            break
    left_out = tail - head
    return f"{shown[:at[head]]} … {left_out:,} character{'s' if left_out != 1 else ''} left out … {shown[at[tail]:]}"


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
