"""``MemoryStore``: a process-local store for tests, notebooks and single-process services."""

from __future__ import annotations

import bisect
import builtins
import dataclasses
import datetime as dt
import heapq
import itertools
import json
import marshal
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from igniter_nb.errors import SnapshotEncodingError
from igniter_nb.model.correlation_values import too_long_int
from igniter_nb.runtime.event_chunks import EventChunks
from igniter_nb.stores.base import (
    Metadata,
    SaveRequest,
    StoreBase,
    StoredExecution,
    canonical_correlation,
    check_execution_id,
    check_filters,
    check_graph,
    check_listing,
    listed,
    not_found,
    utc_now,
)
from igniter_nb.stores.json_text import parse_stored, unpack_stored
from igniter_nb.stores.packing import PACK_THRESHOLD, is_packed, pack
from igniter_nb.stores.paging import check_history_page, check_page, decode_page

_NO_PARTS: Mapping[str, str | bytes] = {}


def _load_part(part: str | bytes) -> Any:
    return json.loads(part) if isinstance(part, str) else marshal.loads(part)


def _marshal_part(value: Any) -> bytes:
    return marshal.dumps(value, 2)  # version 2 writes no back-references: equal data, equal bytes, one digest


def _version_number(entry: _Version) -> int:
    return entry.version


if TYPE_CHECKING:
    from igniter_nb.stores.changes import ChangeHub, ChangeSubscription


@dataclasses.dataclass(frozen=True, slots=True)
class _Version:
    version: int
    saved_at: dt.datetime
    meta: Metadata
    data: str | bytes  # JSON text (a checked save) or marshal bytes (a runtime save, ``check_json=False``)
    # A runtime save's event log, kept by reference (its chunks are shared with the versions before it; ``data``
    # then holds None in place of the list): runtime/event_chunks.py
    events: EventChunks | None = None

    def snapshot(self, parts: Mapping[str, str | bytes], execution_id: str, event_chunks: bool = False) -> dict[str, Any]:
        data = self.data
        loaded = parse_stored(data, _where(execution_id)) if isinstance(data, str) else marshal.loads(data)
        snapshot: dict[str, Any] = (unpack_stored(loaded, parts, _where(execution_id), _load_part) if is_packed(loaded)
                                    else loaded)
        if self.events is not None:
            snapshot["events"] = self.events if event_chunks else self.events.load()
        return snapshot

    def to_record(self, execution_id: str, parts: Mapping[str, str | bytes], event_chunks: bool = False,
                  correlation: dict[str, Any] | None = None) -> StoredExecution:
        """The record of this version; ``correlation``: its correlation as :meth:`Metadata.correlation` reads it,
        when the caller has it already (``_read_back``), else read from the metadata."""
        meta = self.meta
        return StoredExecution(  # (by position: execution_id, snapshot, version, graph, correlation, status, updated_at)
            execution_id,
            self.snapshot(parts, execution_id, event_chunks),
            self.version,
            meta.graph,
            meta.correlation() if correlation is None else correlation,
            meta.status,
            self.saved_at,
        )


def _where(execution_id: str) -> str:
    """What a read's errors name (only ever read when something is wrong)."""
    return f"MemoryStore, execution {execution_id!r}"


def _read_back(correlation: Any) -> dict[str, Any] | None:
    """What ``json.loads`` gives back from the canonical text of ``correlation`` (``Metadata.correlation``), for the
    commonest form — one ASCII key to an ASCII str or an int with a text form (``canonical_correlation``'s fast
    path) — without writing and parsing the text: the same key and value, a new dict. None for any other form
    (non-ASCII text may hold a surrogate pair that JSON would read back as one character: parsed as before)."""
    if type(correlation) is dict and len(correlation) == 1:
        ((key, value),) = correlation.items()
        kind = type(value)
        if type(key) is str and key.isascii() and (
                (kind is str and value.isascii()) or (kind is int and not too_long_int(value))):
            return {key: value}
    return None


class MemoryStore(StoreBase):
    """Thread-safe in-memory store (one lock).

    Every version is kept as one immutable ``str`` or ``bytes`` object, never as the caller's dict: a dict
    changed after ``save`` cannot change the store, ``fetch`` returns a fresh dict, and a store holding millions
    of snapshots adds nothing for Python's garbage collector to scan (a store keeping snapshot dicts would make every full
    collection walk all of them). ``save`` checks the snapshot is JSON-safe and keeps its JSON text; the
    runtime, whose snapshots are JSON-safe by construction, saves with ``check_json=False``, which keeps the
    snapshot as ``marshal`` bytes instead — a C-level copy of plain data several times cheaper than JSON
    (L-47: no deep copy of arbitrary objects, ever). See docs/stores.md for the figures.

    The runtime also hands its event log over as :class:`~igniter_nb.runtime.event_chunks.EventChunks` (this
    store sets ``takes_event_chunks``): the chunks are immutable ``bytes`` shared by every version that has them,
    so a save serialises only the events it added and a workflow's read for a delivery decodes none of them.
    """

    takes_event_chunks = True  # runtime/event_chunks.py

    def __init__(self, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        if clock is not None and not callable(clock):
            raise TypeError(f"MemoryStore(clock=...) takes a function giving the time, not {type(clock).__name__}")
        self._clock = clock  # None: the real UTC time (stores/base.utc_now)
        self._lock = threading.RLock()
        self._executions: dict[str, list[_Version]] = {}
        self._active: dict[tuple[str, str], str] = {}
        # (graph, correlation) -> ids of every execution with it, in save order (last = most recently saved);
        # a dict used as an ordered set, so moving an id to the end and removing one are both O(1).
        self._by_correlation: dict[tuple[str, str], dict[str, None]] = {}
        # graph -> ids of its executions that have a correlation (any status / active only), in save order
        # (last = most recently saved): what correlations() reads, without touching a snapshot.
        self._recent: dict[str, dict[str, None]] = {}
        self._recent_active: dict[str, dict[str, None]] = {}
        self._changes: ChangeHub | None = None  # created by the first subscribe_changes (the change feed)
        # execution id -> {digest: part} of its packed versions (stores/packing.py); parts are never changed
        self._parts: dict[str, dict[str, str | bytes]] = {}

    def __repr__(self) -> str:
        count = len(self._executions)
        return f"MemoryStore({count} execution{'' if count == 1 else 's'})"

    def save(
        self,
        snapshot: Mapping[str, Any],
        *,
        graph: str | None = None,
        correlation: Mapping[str, Any] | None = None,
        status: str | None = None,
        expected_version: int | None = None,
        check_json: bool = True,
    ) -> int:
        """See :class:`~igniter_nb.stores.base.ExecutionStore`. ``check_json=False`` is for snapshots built by
        ``igniter_nb`` (JSON-safe by construction): the JSON-safety check is skipped and the snapshot is kept as
        ``marshal`` bytes of its plain dicts, lists and scalars (a value marshal cannot write raises
        ``SnapshotEncodingError``; other non-JSON values are not caught — use the default for your own dicts)."""
        req = SaveRequest.build(snapshot, graph, correlation, status, expected_version, encode=check_json)
        data: str | bytes = req.snapshot_json
        parts: Mapping[str, str | bytes] = req.parts
        events = snapshot.get("events")
        if type(events) is EventChunks:  # (only with check_json=False: the checked path refused it above, not JSON)
            snapshot = {**snapshot, "events": None}  # (same key order: a read puts the list back in its place)
        else:
            events = None
        if not check_json:
            try:  # (runtime snapshots never hold one container in two places, so no copy shares one either)
                data = marshal.dumps(snapshot)  # type: ignore[arg-type]
            except ValueError as exc:
                raise SnapshotEncodingError(f"snapshot is not plain data ({exc})", execution_id=req.execution_id) from exc
            if len(data) > PACK_THRESHOLD:
                split = pack(snapshot, _marshal_part)
                if split is not None:
                    data, parts = marshal.dumps(split[0]), split[1]
        with self._lock:
            saved_at = utc_now() if self._clock is None else self._now()
            versions = self._executions.get(req.execution_id)
            current = versions[-1] if versions else None
            actual = current.version if current else 0
            meta = req.plan(actual, current.meta if current else None, self._active.get)
            key = meta.active_key
            old_key = current.meta.active_key if current else None
            if old_key is not None and old_key != key and self._active.get(old_key) == req.execution_id:
                del self._active[old_key]
            if key is not None:
                self._active[key] = req.execution_id
            if current is not None and meta is current.meta:  # (most saves: the same graph, correlation, status)
                self._touch(req.execution_id, meta)
            else:
                self._move_latest(req.execution_id, current.meta.correlation_key if current else None,
                                  meta.correlation_key)
                self._move_recent(req.execution_id, current.meta if current else None, meta)
            if parts:
                kept = self._parts.setdefault(req.execution_id, {})
                for found, part in parts.items():
                    kept.setdefault(found, part)
            entry = _Version(actual + 1, saved_at, meta, data, events)
            self._executions.setdefault(req.execution_id, []).append(entry)
            if self._changes is not None:
                self._changes.publish(req.execution_id)
            return entry.version

    def _now(self) -> dt.datetime:
        assert self._clock is not None
        now = self._clock()
        if not isinstance(now, dt.datetime) or now.tzinfo is None or now.utcoffset() is None:
            raise TypeError(f"MemoryStore's clock gave {type(now).__name__} {now!r:.80}, not a timezone-aware "
                            "datetime: nothing was saved")
        return now

    def fetch(self, execution_id: str) -> dict[str, Any]:
        version, parts = self._latest(execution_id)
        return version.snapshot(parts, execution_id)

    def record(self, execution_id: str, *, event_chunks: bool = False) -> StoredExecution:
        """See :class:`~igniter_nb.stores.base.ExecutionStore`. ``event_chunks=True`` (the runtime) may give the
        snapshot's ``"events"`` as the :class:`~igniter_nb.runtime.event_chunks.EventChunks` kept, undecoded."""
        version, parts = self._latest(execution_id)
        return version.to_record(execution_id, parts, event_chunks)

    def _latest(self, execution_id: str) -> tuple[_Version, Mapping[str, str | bytes]]:
        check_execution_id(execution_id)
        with self._lock:
            versions = self._executions.get(execution_id)
            if not versions:
                raise not_found(execution_id)
            return versions[-1], self._parts.get(execution_id, _NO_PARTS)

    def delete(self, execution_id: str) -> bool:
        check_execution_id(execution_id)
        with self._lock:
            versions = self._executions.pop(execution_id, None)
            self._parts.pop(execution_id, None)
            if not versions:
                return False
            key = versions[-1].meta.active_key
            if key is not None and self._active.get(key) == execution_id:
                del self._active[key]
            self._move_latest(execution_id, versions[-1].meta.correlation_key, None)
            self._move_recent(execution_id, versions[-1].meta, None)
            if self._changes is not None:
                self._changes.publish(execution_id)
            return True

    def _move_latest(self, execution_id: str, old: tuple[str, str] | None, new: tuple[str, str] | None) -> None:
        """Take ``execution_id`` out of ``old``'s ids and make it the latest of ``new`` (lock held)."""
        if old is not None and old != new:
            ids = self._by_correlation.get(old)
            if ids is not None:
                ids.pop(execution_id, None)
                if not ids:
                    del self._by_correlation[old]
        if new is not None:
            ids = self._by_correlation.setdefault(new, {})
            ids.pop(execution_id, None)
            ids[execution_id] = None

    def _touch(self, execution_id: str, meta: Metadata) -> None:
        """Make ``execution_id`` the most recently saved in the indexes it is in, its metadata unchanged: what
        ``_move_latest`` and ``_move_recent`` do with equal old and new metadata (lock held)."""
        graph, key = meta.graph, meta.correlation_key
        if key is None or graph is None:
            return  # (in none of them)
        for ids in (self._by_correlation[key], self._recent[graph],
                    self._recent_active[graph] if meta.active_key is not None else None):
            if ids is not None and next(reversed(ids)) != execution_id:  # (already the last: nothing to move)
                del ids[execution_id]
                ids[execution_id] = None

    def _move_recent(self, execution_id: str, old: Metadata | None, new: Metadata | None) -> None:
        """Take ``execution_id`` out of the per-graph recency sets of ``old`` and make it the most recently saved
        in those of ``new`` (lock held)."""
        for index, wanted in ((self._recent, "correlation_key"), (self._recent_active, "active_key")):
            if old is not None and old.graph is not None:
                ids = index.get(old.graph)
                if ids is not None:
                    ids.pop(execution_id, None)
                    if not ids:
                        del index[old.graph]
            if new is not None and new.graph is not None and getattr(new, wanted) is not None:
                index.setdefault(new.graph, {})[execution_id] = None

    def exists(self, execution_id: str) -> bool:
        check_execution_id(execution_id)
        with self._lock:
            return execution_id in self._executions

    def version_of(self, execution_id: str) -> int | None:
        """The latest version number of the execution, None when it is not stored (no snapshot is read)."""
        check_execution_id(execution_id)
        with self._lock:
            versions = self._executions.get(execution_id)
            return versions[-1].version if versions else None

    def subscribe_changes(self, execution_id: str) -> ChangeSubscription:
        """Wake-ups on every save and delete of ``execution_id`` through this store (see ``stores.feed``)."""
        from igniter_nb.stores.changes import ChangeHub

        check_execution_id(execution_id)
        with self._lock:
            if self._changes is None:
                self._changes = ChangeHub()
            hub = self._changes
        return hub.subscribe(execution_id)

    def find_by_correlation(self, graph: str, correlation: Mapping[str, Any]) -> str | None:
        key = (check_graph(graph), canonical_correlation(correlation))
        with self._lock:
            return self._active.get(key)

    def record_by_correlation(
        self, graph: str, correlation: Mapping[str, Any], *, event_chunks: bool = False
    ) -> StoredExecution | None:
        """The record of the *active* execution of ``graph`` with this correlation, or None (one lookup);
        ``event_chunks`` as in :meth:`record`."""
        key = (check_graph(graph), canonical_correlation(correlation))
        with self._lock:
            execution_id = self._active.get(key)
            if execution_id is None:
                return None
            version, parts = self._executions[execution_id][-1], self._parts.get(execution_id, _NO_PARTS)
        # (the active index matched the canonical text of ``correlation``: the record's correlation reads back
        # from the same text)
        return version.to_record(execution_id, parts, event_chunks, _read_back(correlation))

    def find_latest_by_correlation(self, graph: str, correlation: Mapping[str, Any]) -> str | None:
        key = (check_graph(graph), canonical_correlation(correlation))
        with self._lock:
            ids = self._by_correlation.get(key)
            return next(reversed(ids)) if ids else None

    def correlations(
        self, graph: str, *, active_only: bool = True, limit: int = 1000
    ) -> builtins.list[tuple[str, dict[str, Any]]]:
        check_listing(graph, active_only, limit)
        with self._lock:
            ids = (self._recent_active if active_only else self._recent).get(graph)
            if not ids:
                return []
            chosen = [(eid, self._executions[eid][-1].meta) for eid in itertools.islice(reversed(ids), limit)]
        return [(eid, meta.correlation() or {}) for eid, meta in chosen]

    def list(self, graph: str | None = None, status: str | None = None) -> builtins.list[StoredExecution]:
        check_filters(graph, status)
        with self._lock:
            latest = [(eid, versions[-1], self._parts.get(eid, _NO_PARTS)) for eid, versions in self._executions.items()]
        chosen = [
            (v.saved_at, eid, v, parts)
            for eid, v, parts in latest
            if listed(v.meta.graph, graph) and (status is None or v.meta.status == status)
        ]
        chosen.sort(key=lambda item: (item[0], item[1]))
        return [v.to_record(eid, parts) for _, eid, v, parts in chosen]

    def list_page(
        self, graph: str | None = None, status: str | None = None, *, limit: int, after: str | None = None
    ) -> tuple[builtins.list[StoredExecution], str | None]:
        """A page of :meth:`list` newest first (``stores/paging.py``): the metadata of every execution is compared
        (no snapshot is touched), then only the page's ``limit`` snapshots are decoded."""
        key = check_page(graph, status, limit, after)
        with self._lock:
            keys = ((versions[-1].saved_at, eid) for eid, versions in self._executions.items() if versions
                    and listed(versions[-1].meta.graph, graph)
                    and (status is None or versions[-1].meta.status == status))
            chosen = heapq.nlargest(limit + 1, keys if key is None else (k for k in keys if k < key))
            picked = [(eid, self._executions[eid][-1], self._parts.get(eid, _NO_PARTS)) for _, eid in chosen]
        return decode_page(picked, limit, lambda item: item[1].to_record(item[0], item[2]))

    def count(self, graph: str | None = None, status: str | None = None) -> int:
        """How many records :meth:`list` answers, from the metadata only."""
        check_filters(graph, status)
        with self._lock:
            return sum(1 for versions in self._executions.values()
                       if versions and listed(versions[-1].meta.graph, graph)
                       and (status is None or versions[-1].meta.status == status))

    def history_records(self, execution_id: str) -> builtins.list[StoredExecution]:
        check_execution_id(execution_id)
        with self._lock:
            versions = list(self._executions.get(execution_id, ()))
            parts = self._parts.get(execution_id, _NO_PARTS)
        if not versions:
            raise not_found(execution_id)
        return [v.to_record(execution_id, parts) for v in versions]

    def history_page(self, execution_id: str, *, after_version: int = 0, limit: int) -> builtins.list[StoredExecution]:
        """The versions after ``after_version``, oldest first, at most ``limit``: only these are decoded."""
        check_execution_id(execution_id)
        check_history_page(after_version, limit)
        with self._lock:
            versions = self._executions.get(execution_id, ())
            start = bisect.bisect_right(versions, after_version, key=_version_number)
            chosen = list(versions[start:start + limit])
            parts = self._parts.get(execution_id, _NO_PARTS)
        if not versions:
            raise not_found(execution_id)
        return [v.to_record(execution_id, parts) for v in chosen]

    def stored_bytes(self) -> int:
        """Bytes of snapshot data held (versions and parts): what the history layout is measured by."""
        with self._lock:
            versions = sum(len(v.data) for kept in self._executions.values() for v in kept)
            chunks: dict[int, int] = {}  # each chunk once, however many versions share it
            for kept in self._executions.values():
                for v in kept:
                    node = v.events
                    while node is not None and id(node) not in chunks:
                        chunks[id(node)] = len(node.chunk)
                        node = node.before
            return versions + sum(chunks.values()) + sum(len(p) for kept in self._parts.values() for p in kept.values())

    def close(self) -> None:
        """Nothing to release; the data stays readable (a memory store has no connection)."""
