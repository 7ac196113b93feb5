"""``FileStore``: one directory per execution, every version kept, safe for several processes on one machine.

Layout under ``root``::

    executions/<id>/v000000001.json   one file per saved version (history)
    executions/<id>/current.json      the latest version (what fetch/record read)
    executions/<id>/parts/<sha256>.json   the parts of packed versions, each written once (stores/packing.py)
    index/<sha256>.json               active correlation index: {"execution_id", "graph", "correlation"}
    latest/<sha256>.json              every execution with that graph and correlation, any status, in save order:
                                      {"graph", "correlation", "ids": [..., most recently saved last]}
    .lock                             writers hold an exclusive flock on it

Every file is written to a temporary name in the same directory, fsynced and renamed over the target, so a
reader sees the old file or the new one, never a torn one. A writer killed between two steps leaves at worst
a version file newer than ``current.json`` (ignored and overwritten by the next save) or a stale index entry
(checked against ``current.json`` on every lookup and replaced by the next save). The same holds for the
``latest/`` entries: a lookup skips ids whose ``current.json`` is missing or has another correlation.

A directory this process cannot write, or ``read_only=True``, opens read-only (``read_only.py``): reads only, nothing
written, not even the trash a killed delete left.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import hashlib
import heapq
import json
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from igniter_nb.errors import StoreError
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
    ensure_aware,
    exclusive_lock,
    listed,
    not_found,
    opening_errors,
    utc_now,
    write_errors,
)
from igniter_nb.stores.file_history import CURRENT, missing_version, read_whole, version_file
from igniter_nb.stores.json_text import dump_json, parse_stored, unpack_stored
from igniter_nb.stores.packing import is_packed, part_digests
from igniter_nb.stores.paging import check_history_page, check_page, cut
from igniter_nb.stores.read_only import folders, is_read_only, refuse_write, scan
from igniter_nb.stores.trash import Unmovable, empty_trash, move_to_trash

_PARTS = "parts"  # <id>/parts/<sha256>.json: the parts of packed versions (stores/packing.py)
_SNAPSHOT_FIELD = b',"snapshot":'  # the envelope's last field: everything before it is the metadata
_HEAD_CHUNK = 4096


class FileStore(StoreBase):
    """Store executions as JSON files under ``root`` (created if missing). See the module docstring for layout."""

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True, read_only: bool | None = None) -> None:
        """``read_only=True`` writes nothing in ``root`` (stores/read_only.py); the default (None) opens a directory
        this process cannot write read-only and any other read-write."""
        self.root = Path(os.path.expanduser(os.fspath(root))).absolute()  # `~/x`: home, not ./~
        self._fsync = fsync
        self._executions = self.root / "executions"
        self._index = self.root / "index"
        self._latest_dir = self.root / "latest"
        self._trash = self.root / "trash"
        self._lock_path = self.root / ".lock"
        with opening_errors(repr(self)):
            self._explicit = read_only is True
            self.read_only = is_read_only(self.root, read_only, repr(self))
            if self.read_only:
                return  # nothing created, no trash emptied
            for folder in (self._executions, self._index, self._latest_dir, self._trash):
                folder.mkdir(parents=True, exist_ok=True)
            self._lock_path.touch(exist_ok=True)
            empty_trash(self._trash)  # what a delete killed before removing it left: deleted data

    def __repr__(self) -> str:
        return f"FileStore({str(self.root)!r})"

    # ----------------------------------------------------------------------------------------------- writes

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
        ``igniter_nb`` (JSON-safe by construction): they are written by the faster encoder of
        :func:`~igniter_nb.stores.json_text.runtime_json` — use the default for your own dicts."""
        req = SaveRequest.build(snapshot, graph, correlation, status, expected_version, trusted=not check_json)
        self._check_writable(f"save execution {req.execution_id!r}")
        folder = self._executions / req.execution_id
        with write_errors(repr(self), req.execution_id), self._locked():
            current = self._read_envelope(folder / CURRENT)
            actual = current["version"] if current else 0
            old = _metadata(current) if current else None
            meta = req.plan(actual, old, self._index_owner)
            key = meta.active_key
            version = actual + 1
            saved_at = utc_now()
            envelope = _envelope(req.execution_id, version, saved_at.isoformat(), meta, req.snapshot_json).encode()
            folder.mkdir(exist_ok=True)
            if req.parts:  # before the version that refers to them; a killed writer leaves only unreferenced parts
                parts = folder / _PARTS
                parts.mkdir(exist_ok=True)
                for found, text in req.parts.items():
                    if not (parts / f"{found}.json").exists():
                        self._write(parts / f"{found}.json", text.encode())
            self._write(folder / version_file(version), envelope)
            if key is not None:
                entry = {"execution_id": req.execution_id, "graph": key[0], "correlation": key[1]}
                self._write(self._index_path(key), dump_json(entry).encode())
            latest_key = meta.correlation_key
            if latest_key is not None:
                self._push_latest(latest_key, req.execution_id)
            self._write(folder / CURRENT, envelope)
            old_key = old.active_key if old else None
            if old_key is not None and old_key != key:
                self._drop_index(old_key, req.execution_id)
            old_latest = old.correlation_key if old else None
            if old_latest is not None and old_latest != latest_key:
                self._drop_latest(old_latest, req.execution_id)
            return version

    def delete(self, execution_id: str) -> bool:
        folder = self._executions / check_execution_id(execution_id)
        self._check_writable(f"delete execution {execution_id!r}")
        with self._locked():
            current = self._read_envelope(folder / CURRENT)
            if not folder.exists():
                return False
            try:
                doomed = move_to_trash(self._trash, execution_id, folder)  # atomic: readers see it or nothing
            except Unmovable as exc:
                raise StoreError(f"{self!r}: could not delete execution {execution_id!r}: {exc}; nothing was "
                                 "deleted", execution_id=execution_id) from exc.__cause__
            # The index entries go after the rename: a writer killed in between leaves entries that lookups skip
            # (no current.json), never an active execution its correlation no longer finds.
            meta = _metadata(current) if current is not None else None
            if meta is not None and meta.active_key is not None:
                self._drop_index(meta.active_key, execution_id)
            if meta is not None and meta.correlation_key is not None:
                self._drop_latest(meta.correlation_key, execution_id)
        shutil.rmtree(doomed, ignore_errors=True)
        return current is not None

    # ----------------------------------------------------------------------------------------------- reads

    def fetch(self, execution_id: str) -> dict[str, Any]:
        return self._whole(self._current(execution_id))["snapshot"]  # type: ignore[no-any-return]

    def record(self, execution_id: str) -> StoredExecution:
        return _record(self._whole(self._current(execution_id)))

    def exists(self, execution_id: str) -> bool:
        return (self._executions / check_execution_id(execution_id) / CURRENT).exists()

    def version_of(self, execution_id: str) -> int | None:
        """The latest version number of the execution, None when it is not stored (no snapshot is read). Reads the
        metadata head of ``current.json`` only."""
        head = self._head(check_execution_id(execution_id))
        return None if head is None else int(head["version"])

    def find_by_correlation(self, graph: str, correlation: Mapping[str, Any]) -> str | None:
        return self._index_owner((check_graph(graph), canonical_correlation(correlation)))

    def find_latest_by_correlation(self, graph: str, correlation: Mapping[str, Any]) -> str | None:
        key = (check_graph(graph), canonical_correlation(correlation))
        for owner in reversed(self._latest_ids(key)):
            # Normally the last id; an earlier one only after a writer was killed between two steps of a save.
            current = self._read_envelope(self._executions / check_execution_id(owner) / CURRENT)
            if current is not None and _metadata(current).correlation_key == key:
                return owner
        return None

    def correlations(
        self, graph: str, *, active_only: bool = True, limit: int = 1000
    ) -> builtins.list[tuple[str, dict[str, Any]]]:
        """Read from ``index/`` (active) or ``latest/`` (any status), then the metadata head of each candidate's
        ``current.json`` — never its snapshot — for the save time and to skip entries a killed writer left stale.
        """
        check_listing(graph, active_only, limit)
        if limit == 0:
            return []
        candidates: builtins.list[tuple[str, str]] = []  # (execution id, canonical correlation)
        with scan(self._index if active_only else self._latest_dir) as entries:
            for entry in entries:
                if entry.name.startswith(".") or not entry.name.endswith(".json"):
                    continue  # a temporary file of a writer
                data = self._read_envelope(Path(entry.path))
                if data is None or data.get("graph") != graph or not isinstance(data.get("correlation"), str):
                    continue
                owners = [data.get("execution_id")] if active_only else data.get("ids", [])
                candidates.extend((owner, data["correlation"]) for owner in owners if isinstance(owner, str))
        heads: dict[str, dict[str, Any] | None] = {}
        found = []
        for owner, correlation_json in candidates:
            if owner not in heads:
                heads[owner] = self._head(owner)
            head = heads[owner]
            if head is None:
                continue
            meta = _metadata(head)
            if (meta.active_key if active_only else meta.correlation_key) != (graph, correlation_json):
                continue  # stale: the execution's current version says otherwise
            found.append((ensure_aware(dt.datetime.fromisoformat(head["saved_at"])), owner, correlation_json))
        found.sort(reverse=True)  # newest save first; equal times by id, descending (as in the SQL store)
        return [(owner, json.loads(correlation_json)) for _, owner, correlation_json in found[:limit]]

    def list(self, graph: str | None = None, status: str | None = None) -> builtins.list[StoredExecution]:
        check_filters(graph, status)
        records = []
        for folder in folders(self._executions):
            current = self._read_envelope(folder / CURRENT)
            if current is None:
                continue
            if listed(current["graph"], graph) and (status is None or current["status"] == status):
                records.append(_record(self._whole(current)))
        records.sort(key=lambda r: (r.updated_at, r.execution_id))
        return records

    def list_page(
        self, graph: str | None = None, status: str | None = None, *, limit: int, after: str | None = None
    ) -> tuple[builtins.list[StoredExecution], str | None]:
        """A page of :meth:`list` newest first (``stores/paging.py``). The store keeps no listing index (one
        would be a file every save rewrites), so the page is chosen from the *metadata* of every execution —
        the head of each ``current.json``, its snapshot neither read to the end nor decoded — and only the
        page's ``limit`` records are then read whole (of the one past the page, which says whether another page
        follows, only the head)."""
        key = check_page(graph, status, limit, after)
        heads = [(_saved_at(head), head["execution_id"]) for head in self._heads(graph, status)]
        if key is not None:
            heads = [item for item in heads if item < key]
        records: builtins.list[StoredExecution] = []
        more = False
        for _, eid in heapq.nlargest(limit + 1, heads):
            if len(records) == limit:  # past the page: its metadata head says whether another page follows
                head = self._head(eid)
                more = head is not None and (key is None or (_saved_at(head), eid) < key)
                break
            current = self._read_envelope(self._executions / eid / CURRENT)
            if current is not None:  # None: deleted meanwhile
                record = _record(self._whole(current))
                if key is None or (record.updated_at, record.execution_id) < key:  # else saved again meanwhile
                    records.append(record)
        records.sort(key=lambda r: (r.updated_at, r.execution_id), reverse=True)  # saved again meanwhile
        return cut(records, limit, more)

    def count(self, graph: str | None = None, status: str | None = None) -> int:
        """How many records :meth:`list` answers, from the head of each ``current.json`` (no snapshot decoded)."""
        check_filters(graph, status)
        return sum(1 for _ in self._heads(graph, status))

    def _heads(self, graph: str | None, status: str | None) -> Iterator[dict[str, Any]]:
        for folder in folders(self._executions):
            if folder.name.startswith("."):
                continue
            head = self._head(folder.name)
            if head is not None and listed(head["graph"], graph) and (
                    status is None or head["status"] == status):
                yield head

    def history_records(self, execution_id: str) -> builtins.list[StoredExecution]:
        """Every version, oldest first: the whole history, or ``SnapshotNotFoundError`` when a delete removes the
        execution while it is read (never the versions read before the delete came, nor versions of a new
        execution saved under the same id meanwhile: ``stores/file_history.py``)."""
        folder = self._executions / check_execution_id(execution_id)

        def read() -> builtins.list[StoredExecution]:
            latest = self._current(execution_id)["version"]
            # files past `latest` are leftovers of a killed writer
            return self._versions(execution_id, folder, range(1, latest + 1), {})  # (each part read once)

        return read_whole(self, execution_id, folder, read)

    def history_page(self, execution_id: str, *, after_version: int = 0, limit: int) -> builtins.list[StoredExecution]:
        """The versions after ``after_version``, oldest first, at most ``limit``: the latest version number from the
        metadata head of ``current.json``, then only the page's version files read and decoded."""
        folder = self._executions / check_execution_id(execution_id)
        check_history_page(after_version, limit)

        def read() -> builtins.list[StoredExecution]:
            head = self._head(execution_id)
            if head is None:
                raise not_found(execution_id)
            last = min(int(head["version"]), after_version + limit)
            return self._versions(execution_id, folder, range(after_version + 1, last + 1), {})

        return read_whole(self, execution_id, folder, read)

    def _versions(self, execution_id: str, folder: Path, versions: range,
                  parts: dict[str, str]) -> builtins.list[StoredExecution]:
        records = []
        for version in versions:
            path = folder / version_file(version)
            envelope = self._read_envelope(path)
            if envelope is None:  # versions are never removed one by one: the execution went meanwhile
                raise missing_version(self, execution_id, path)
            records.append(_record(self._whole(envelope, parts)))
        return records

    def close(self) -> None:
        """Nothing is held open between calls."""

    # ----------------------------------------------------------------------------------------------- helpers

    def _whole(self, envelope: dict[str, Any], cache: dict[str, str] | None = None) -> dict[str, Any]:
        """``envelope`` with its snapshot whole: a packed version's parts read from ``parts/`` (stores/packing.py)."""
        snapshot = envelope["snapshot"]
        if not is_packed(snapshot):
            return envelope
        folder = self._executions / check_execution_id(envelope["execution_id"]) / _PARTS
        parts = cache if cache is not None else {}
        for found in part_digests(snapshot):
            if found not in parts:
                try:
                    parts[found] = (folder / f"{found}.json").read_text()
                except FileNotFoundError:
                    if not (self._executions / envelope["execution_id"]).exists():
                        raise not_found(envelope["execution_id"]) from None  # deleted while it was read
                    raise
        envelope["snapshot"] = unpack_stored(snapshot, parts, f"FileStore {folder.parent}")
        return envelope

    def _current(self, execution_id: str) -> dict[str, Any]:
        envelope = self._read_envelope(self._executions / check_execution_id(execution_id) / CURRENT)
        if envelope is None:
            raise not_found(execution_id)
        return envelope

    def _index_path(self, key: tuple[str, str]) -> Path:
        digest = hashlib.sha256(f"{key[0]}\x00{key[1]}".encode()).hexdigest()
        return self._index / f"{digest}.json"

    def _index_owner(self, key: tuple[str, str]) -> str | None:
        """The id the index names for ``key``, if that execution really is active with that key."""
        entry = self._read_envelope(self._index_path(key))
        if entry is None:
            return None
        owner = entry.get("execution_id")
        if not isinstance(owner, str) or (entry.get("graph"), entry.get("correlation")) != key:
            return None
        current = self._read_envelope(self._executions / check_execution_id(owner) / CURRENT)
        if current is None or _metadata(current).active_key != key:
            return None  # stale entry left by a killed writer or a crash between index and current
        return owner

    def _latest_path(self, key: tuple[str, str]) -> Path:
        return self._latest_dir / self._index_path(key).name

    def _latest_ids(self, key: tuple[str, str]) -> builtins.list[str]:
        entry = self._read_envelope(self._latest_path(key))
        if entry is None:
            return []
        if (entry.get("graph"), entry.get("correlation")) != key:
            return []  # a hash collision: never happens with sha256, but never answer for another key
        ids = entry.get("ids")
        return [owner for owner in ids if isinstance(owner, str)] if isinstance(ids, builtins.list) else []

    def _push_latest(self, key: tuple[str, str], execution_id: str) -> None:
        """Make ``execution_id`` the most recently saved of ``key`` (write lock held); no write if it already is."""
        ids = self._latest_ids(key)
        if ids and ids[-1] == execution_id:
            return
        ids = [owner for owner in ids if owner != execution_id] + [execution_id]
        self._write_latest(key, ids)

    def _drop_latest(self, key: tuple[str, str], execution_id: str) -> None:
        """Take ``execution_id`` out of ``key``'s ids (write lock held); the one saved before becomes the latest."""
        ids = self._latest_ids(key)
        if execution_id not in ids:
            return
        ids.remove(execution_id)
        if ids:
            self._write_latest(key, ids)
        else:
            self._latest_path(key).unlink(missing_ok=True)

    def _write_latest(self, key: tuple[str, str], ids: builtins.list[str]) -> None:
        self._write(self._latest_path(key), dump_json({"graph": key[0], "correlation": key[1], "ids": ids}).encode())

    def _drop_index(self, key: tuple[str, str], execution_id: str) -> None:
        path = self._index_path(key)
        entry = self._read_envelope(path)
        if entry is not None and entry.get("execution_id") == execution_id:
            path.unlink(missing_ok=True)

    def _head(self, execution_id: str) -> dict[str, Any] | None:
        """The metadata of ``current.json`` (id, version, saved_at, graph, correlation, status) without reading
        or decoding its snapshot; None when the execution is not stored (or the id is not a valid one)."""
        try:
            path = self._executions / check_execution_id(execution_id) / CURRENT
        except ValueError:
            return None  # a hand-edited index entry: never let it name a path outside the store
        data = bytearray()
        try:
            with open(path, "rb") as handle:
                while True:
                    chunk = handle.read(_HEAD_CHUNK)
                    # Only the new bytes (and the field's length before them, for a field cut by the chunk) are
                    # searched: a large correlation is read in linear time, not chunk count x its size.
                    start = max(len(data) - len(_SNAPSHOT_FIELD) + 1, 0)
                    data += chunk
                    # Inside the JSON strings before it every '"' is escaped, so the first match is the field.
                    cut = data.find(_SNAPSHOT_FIELD, start)
                    if cut >= 0:
                        return json.loads(bytes(data[:cut]) + b"}")  # type: ignore[no-any-return]
                    if not chunk:
                        raise StoreError(f"corrupt store file {path}: no snapshot field")
        except (FileNotFoundError, NotADirectoryError):
            return None
        except ValueError as exc:
            raise StoreError(f"corrupt store file {path}: {exc}") from exc

    def _read_envelope(self, path: Path) -> dict[str, Any] | None:
        try:
            data = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        found = parse_stored(data, f"FileStore: corrupt store file {path}")  # only if someone edited it by hand
        if not isinstance(found, dict):
            raise StoreError(f"FileStore: corrupt store file {path}: not a JSON object")
        return found

    def _write(self, path: Path, data: bytes) -> None:
        tmp = path.with_name(f".tmp-{path.name}-{uuid.uuid4().hex}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if self._fsync:
                os.fsync(fd)
        except BaseException as exc:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            if isinstance(exc, OSError) and exc.filename is None:  # os.write names no file: name the target
                raise OSError(exc.errno, exc.strerror, str(path)) from exc
            raise
        os.close(fd)
        os.replace(tmp, path)

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return exclusive_lock(self._lock_path)

    def _check_writable(self, what: str) -> None:
        if self.read_only:
            raise refuse_write(repr(self), self.root, what, self._explicit)


def _envelope(execution_id: str, version: int, saved_at: str, meta: Metadata, snapshot_json: str) -> str:
    head = dump_json(
        {
            "execution_id": execution_id,
            "version": version,
            "saved_at": saved_at,
            "graph": meta.graph,
            "correlation": meta.correlation_json,
            "status": meta.status,
        }
    )
    return f'{head[:-1]},"snapshot":{snapshot_json}}}'  # splice the already-encoded snapshot in, no re-encode


def _saved_at(head: dict[str, Any]) -> dt.datetime:
    return ensure_aware(dt.datetime.fromisoformat(head["saved_at"]))


def _metadata(envelope: dict[str, Any]) -> Metadata:
    return Metadata(envelope["graph"], envelope["correlation"], envelope["status"])


def _record(envelope: dict[str, Any]) -> StoredExecution:
    return StoredExecution(
        execution_id=envelope["execution_id"],
        snapshot=envelope["snapshot"],
        version=envelope["version"],
        graph=envelope["graph"],
        correlation=None if envelope["correlation"] is None else json.loads(envelope["correlation"]),
        status=envelope["status"],
        updated_at=ensure_aware(dt.datetime.fromisoformat(envelope["saved_at"])),
    )
