"""The codec's vocabulary, shared by encoding and decoding: the tag key, the depth limit, how a class is named in
stored data (``module:QualName``) and found again, and the types taught to it with ``register_codec``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

# (``short_path`` and ``PATH_SHOWN`` live in ``igniter_nb/_error_text.py``, below every layer: errors.py cuts the
# items of an error's ``[graph=..., path=...]`` with it too)
from igniter_nb._error_text import PATH_SHOWN as PATH_SHOWN
from igniter_nb._error_text import short_path as short_path
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
