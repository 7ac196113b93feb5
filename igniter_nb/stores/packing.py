"""How stores keep history without writing unchanged parts again: large snapshots are stored *packed*.

Every save of an execution is a new version, and a version holds the whole snapshot — so a workflow that
received 20 payloads of 200 KB would write the first payload 20 times (the store grew with the square of the
deliveries: 11.5× the final snapshot). A snapshot whose JSON is larger than :data:`PACK_THRESHOLD` is stored
packed instead: each large entry of ``states``, ``inputs``, ``bound_events``, ``children``, ``children_given``,
``selections`` and ``collections`` (JSON larger than :data:`PART_THRESHOLD`), and each full chunk of
:data:`EVENT_CHUNK` events, becomes a *part* stored once per execution under the SHA-256 of its text; the version
keeps a marker ``{"__ig__": "part", "sha256": ...}`` in its place (event chunks add ``"count"``) and the
top-level key ``"__ig_packed__": 1``. A part is immutable: an unchanged node state, an earlier payload or the
event-log prefix has the same digest in every version, so it is written once. Reading a version puts the parts
back: ``fetch``, ``record``, ``history`` and ``history_records`` return exactly the snapshots that were saved.

Smaller snapshots — nearly all of them — are stored whole, exactly as before, at no extra cost. Data stored
before packing existed is whole, and reads as it always did. The marker cannot be confused with user data: the
codec escapes any user dict with an ``"__ig__"`` key and reserves the tag ``part``; a snapshot that is not in
the runtime's format, or already holds such a marker, is stored whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

PACK_THRESHOLD = 64 * 1024  # bytes of snapshot JSON above which a version is stored packed
PART_THRESHOLD = 2 * 1024  # bytes of JSON above which an entry becomes a part
EVENT_CHUNK = 64  # events per stored chunk of the event log
PACKED_KEY = "__ig_packed__"
PART_TAG = "part"

_FORMAT = "igniter_nb.snapshot/1"
_ENTRY_KEYS = ("states", "inputs", "bound_events", "children", "children_given", "selections", "collections")


def digest(data: str | bytes) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def _marker(value: Any) -> bool:
    return type(value) is dict and value.get("__ig__") == PART_TAG


def pack(snapshot: Mapping[str, Any], dumps: Callable[[Any], str | bytes]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """``(packed version, {digest: part data})`` for a snapshot in the runtime's format, else None (store it
    whole). ``dumps`` serialises a part (JSON text for most stores, marshal bytes for the memory store)."""
    if snapshot.get("format") != _FORMAT or PACKED_KEY in snapshot:
        return None
    packed: dict[str, Any] = dict(snapshot)
    packed[PACKED_KEY] = 1
    parts: dict[str, Any] = {}
    for key in _ENTRY_KEYS:
        entries = snapshot.get(key)
        if type(entries) is not dict:
            continue
        replaced: dict[str, Any] | None = None
        for name, value in entries.items():
            kind = type(value)
            if not (kind is dict or kind is list or (kind is str and len(value) > PART_THRESHOLD)):
                continue  # numbers, booleans, short text: never worth a part
            if _marker(value):
                return None
            data = dumps(value)
            if len(data) > PART_THRESHOLD:
                found = digest(data)
                parts[found] = data
                if replaced is None:
                    replaced = dict(entries)
                replaced[name] = {"__ig__": PART_TAG, "sha256": found}
        if replaced is not None:
            packed[key] = replaced
    events = snapshot.get("events")
    if type(events) is list and len(events) >= EVENT_CHUNK:
        if any(_marker(e) for e in events):
            return None
        full = len(events) - len(events) % EVENT_CHUNK
        refs: list[Any] = []
        for start in range(0, full, EVENT_CHUNK):
            data = dumps(events[start:start + EVENT_CHUNK])
            found = digest(data)
            parts[found] = data
            refs.append({"__ig__": PART_TAG, "sha256": found, "count": EVENT_CHUNK})
        packed["events"] = refs + events[full:]
    return packed, parts


def is_packed(data: Any) -> bool:
    return type(data) is dict and data.get(PACKED_KEY) == 1


def part_digests(data: Mapping[str, Any]) -> list[str]:
    """The digests a packed version refers to, in order, each once."""
    found: dict[str, None] = {}
    for key in _ENTRY_KEYS:
        entries = data.get(key)
        if type(entries) is dict:
            for value in entries.values():
                if _marker(value):
                    found[value["sha256"]] = None
    for event in data.get("events") or ():
        if _marker(event):
            found[event["sha256"]] = None
    return list(found)


def unpack(data: dict[str, Any], load: Callable[[str], Any]) -> dict[str, Any]:
    """The whole snapshot of a packed version (changed in place and returned); ``load(digest)`` returns a fresh
    copy of a part's value (raising ``StoreError`` for a part the store does not have)."""
    del data[PACKED_KEY]
    for key in _ENTRY_KEYS:
        entries = data.get(key)
        if type(entries) is dict:
            for name, value in entries.items():
                if _marker(value):
                    entries[name] = load(value["sha256"])
    events = data.get("events")
    if type(events) is list and any(_marker(e) for e in events):
        whole: list[Any] = []
        for event in events:
            if _marker(event):
                whole.extend(load(event["sha256"]))
            else:
                whole.append(event)
        data["events"] = whole
    return data
