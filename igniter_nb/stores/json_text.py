"""How the JSON stores (file, SQL, Redis) write and read snapshot text.

Every snapshot is stored as compact ASCII JSON. Snapshots a caller saves are checked and written by the standard
encoder (:func:`snapshot_json`: NaN, dates, sets and other non-JSON values are refused naming the execution).
Snapshots the runtime built — JSON-safe by construction — are written by ``orjson`` (:func:`runtime_json`), and
stored text is read by ``orjson`` (:func:`parse_stored`), each falling back to the standard library wherever
``orjson`` would give something else, so the text and the values read back are the same either way
(docs/stores.md, "How the JSON stores write runtime snapshots").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from igniter_nb.errors import SnapshotEncodingError, StoreError
from igniter_nb.stores.packing import is_packed, unpack

# Built once: ``json.dumps`` with options builds a new encoder on every call.
_SNAPSHOT_JSON = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":"))
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))


def snapshot_json(snapshot: Any, execution_id: str) -> str:
    """``snapshot`` as JSON text, checked: ``SnapshotEncodingError`` naming ``execution_id`` for what is not JSON."""
    try:
        return _SNAPSHOT_JSON.encode(snapshot)
    except (TypeError, ValueError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise SnapshotEncodingError(
            f"snapshot is not JSON-safe ({why}); encode values with igniter_nb.runtime.codec.encode first",
            execution_id=execution_id,
        ) from None


_ORJSON: list[Any] = []  # [orjson.dumps, orjson.loads], imported on first use (a dependency; ~25 ms to import)


def _load_orjson() -> None:
    import orjson

    _ORJSON[:] = [orjson.dumps, orjson.loads]


def runtime_json(value: Any) -> str:
    """JSON text of data the runtime built — plain dicts with text keys, lists, text, finite floats (the codec tags
    the others), ints, bools and None — written by ``orjson`` (~10x faster than the standard encoder: ~10 µs
    against ~90 µs for a two-event workflow's 6 KB snapshot). Where ``orjson`` would write something else, the
    standard encoder of :func:`snapshot_json` writes it, with its checks: text with non-ASCII characters (stored
    text stays ASCII, ``\\u`` escapes, whatever the database's encoding), ints beyond 64 bits, nesting ``orjson``
    refuses. Raises what ``_SNAPSHOT_JSON.encode`` raises."""
    if not _ORJSON:
        _load_orjson()
    try:
        data: bytes = _ORJSON[0](value)
    except TypeError:  # (orjson.JSONEncodeError is a TypeError)
        return _SNAPSHOT_JSON.encode(value)
    return data.decode("ascii") if data.isascii() else _SNAPSHOT_JSON.encode(value)


def runtime_snapshot_json(snapshot: Any, execution_id: str) -> str:
    """:func:`snapshot_json` for a snapshot the runtime built: written by :func:`runtime_json`; what it cannot write
    fails with :func:`snapshot_json`'s error."""
    try:
        return runtime_json(snapshot)
    except (TypeError, ValueError, RecursionError):
        return snapshot_json(snapshot, execution_id)


def dump_json(value: Any) -> str:
    return _COMPACT_JSON.encode(value)


_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19  # (after _DIGITS) a run of 19 digits: maybe a number past 64 bits


def parse_stored(data: str | bytes, where: str) -> Any:
    """JSON a store read back; ``StoreError`` naming ``where`` (store, execution, field) when it is not valid JSON
    or nests too deeply to read — only possible when the stored data was edited by hand.

    Read by ``orjson`` (~2.5x the standard decoder) unless the text holds a run of 19 digits — a number past 64
    bits, which ``orjson`` would read as a float (a long digit run inside a string costs nothing but the slower
    read) — or ``orjson`` refuses it (NaN, a lone surrogate escape, nesting past 1,024 levels): then the standard
    decoder reads it, or refuses it, exactly as before."""
    try:
        raw = data.encode() if type(data) is str else data
    except UnicodeEncodeError:  # (a lone surrogate in the text itself)
        raw = None
    if raw is not None and _LONG_NUMBER not in raw.translate(_DIGITS):
        if not _ORJSON:
            _load_orjson()
        try:
            return _ORJSON[1](raw)
        except ValueError:  # (orjson.JSONDecodeError is a ValueError) the standard decoder decides, below
            pass
    try:
        return json.loads(data)
    except RecursionError:
        raise StoreError(f"{where}: stored JSON is nested too deeply to read (edited by hand?)") from None
    except ValueError as exc:
        raise StoreError(f"{where}: stored data is not valid JSON ({exc})") from None


def unpack_stored(data: Any, parts: Mapping[str, Any], where: str, decode: Callable[[Any], Any] | None = None) -> Any:
    """The whole snapshot of a version read back (``stores/packing.py``); ``parts`` maps digests to part data,
    which ``decode`` turns into a fresh value (default: JSON text). A version stored whole is returned as it is."""
    if not is_packed(data):
        return data

    def load(found: str) -> Any:
        part = parts.get(found)
        if part is None:
            raise StoreError(f"{where}: part {found} of a packed version is missing (the store was edited by hand?)")
        return decode(part) if decode is not None else parse_stored(part, f"{where}, part {found}")

    return unpack(data, load)
