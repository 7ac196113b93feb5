"""``ParquetStore``: an append-only snapshot log as a parquet dataset, plus ``export_parquet`` from any store.

Layout under ``root``::

    <execution_id>/v000000001.parquet   one single-row file per saved version, written atomically
    _index.sqlite                       sidecar index: latest version, status, active correlation per execution
                                        (also what ``correlations()`` reads: no parquet file is opened for it)
    .lock                               writers hold an exclusive flock on it

Every file has the columns ``execution_id``, ``version``, ``saved_at`` (timestamp, UTC), ``graph``, ``status``,
``correlation`` (canonical JSON text or null) and ``snapshot`` (JSON text). ``pandas.read_parquet(root)`` or
``pyarrow.dataset.dataset(root)`` reads the whole log (names starting with ``_`` or ``.`` are skipped by both);
the current state of an execution is its highest version. The sidecar index is derived data: it makes
``fetch`` and ``find_by_correlation`` lookups instead of scans and can be rebuilt from the log with
:meth:`ParquetStore.rebuild_index` (in one transaction; a new index is rebuilt by every opening until one rebuild
has committed, so a rebuild killed halfway is redone).

A save first notes its intent in the index, then writes the version file (temporary name, fsync, rename), then
records it in the index; a writer killed in between leaves an intent that the next writer (or the next
``ParquetStore`` opened on the directory) finishes or drops, so no torn or duplicate version is ever visible. A
delete notes its intent too, moves the execution's folder away, then drops its index row: a delete killed halfway is
finished the same way.

A version's file (its columns, the atomic write, the read) is ``parquet_files.py``; the sidecar index's tables and
queries are ``parquet_index.py``; ``export_parquet`` (re-exported here) is ``parquet_export.py``, and the import it
writes with (each replaced execution written aside, then swapped in) ``parquet_import.py``; the reads that
must not see a delete or an import halfway (``to_frame``, ``history``, ``record``) and the index of a read-only opening
(``read_only.py``: nothing written, no killed writer's work finished) ``parquet_read.py``; what a killed writer left,
finished or dropped, and the index rebuilt from the log, ``parquet_recovery.py``.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import re
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from igniter_nb.errors import SnapshotNotFoundError, StoreError
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
    exclusive_lock,
    opening_errors,
    utc_now,
    write_errors,
)
from igniter_nb.stores.paging import check_history_page, check_page, cut
from igniter_nb.stores.parquet_export import export_parquet as export_parquet
from igniter_nb.stores.parquet_files import COLUMNS as COLUMNS
from igniter_nb.stores.parquet_files import read_version, schema, write_version
from igniter_nb.stores.parquet_import import IMPORTING as _IMPORTING
from igniter_nb.stores.parquet_import import import_records as _import_records
from igniter_nb.stores.parquet_import import remove_stale_staging as _remove_stale_staging
from igniter_nb.stores.parquet_index import ACTIVE_CORRELATIONS as _ACTIVE_CORRELATIONS
from igniter_nb.stores.parquet_index import ALL_CORRELATIONS as _ALL_CORRELATIONS
from igniter_nb.stores.parquet_index import FIND_LATEST as _FIND_LATEST
from igniter_nb.stores.parquet_index import INDEX_SCHEMA as _INDEX_SCHEMA
from igniter_nb.stores.parquet_index import NOT_DELETING as _NOT_DELETING
from igniter_nb.stores.parquet_index import delete_errors as _delete_errors
from igniter_nb.stores.parquet_index import filters as _filters
from igniter_nb.stores.parquet_index import key_text as _key_text
from igniter_nb.stores.parquet_index import metadata as _metadata
from igniter_nb.stores.parquet_index import sidecar_errors as _sidecar_errors
from igniter_nb.stores.parquet_read import DELETING as _DELETING
from igniter_nb.stores.parquet_read import history as _history
from igniter_nb.stores.parquet_read import latest as _latest
from igniter_nb.stores.parquet_read import open_index_read_only as _open_index_read_only
from igniter_nb.stores.parquet_read import to_frame as _to_frame
from igniter_nb.stores.parquet_recovery import UNBUILT, adopt, finish_intents, rebuild
from igniter_nb.stores.read_only import is_read_only, refuse_write
from igniter_nb.stores.trash import Unmovable, empty_trash, move_to_trash

_HAS_INDEX = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'executions'"
_VERSION_FILE = re.compile(r"v[0-9]{9,}\.parquet")


class ParquetStore(StoreBase):
    """Append-only parquet snapshot log under ``root`` (created if missing); see the module docstring."""

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True, read_only: bool | None = None) -> None:
        """``read_only=True`` writes nothing in ``root`` (stores/read_only.py); the default (None) opens a directory
        this process cannot write read-only and any other read-write."""
        self.root = Path(os.path.expanduser(os.fspath(root))).absolute()  # `~/x`: home, not ./~
        with opening_errors(repr(self)):
            self._explicit = read_only is True
            self.read_only = is_read_only(self.root, read_only, repr(self), self._index_files())
            self._open(fsync)

    def _open(self, fsync: bool) -> None:
        self._fsync = fsync
        self._lock_path = self.root / ".lock"
        self._trash = self.root / ".trash"
        self._reported: set[tuple[str, int]] = set()  # pending deletes and swaps already logged as stuck
        self._schema = schema()
        self._db_lock = threading.RLock()
        index_path = self.root / "_index.sqlite"
        if self.read_only:  # nothing written, no killed writer's work finished (stores/read_only.py)
            self._db = _open_index_read_only(self, index_path, UNBUILT, _INDEX_SCHEMA)
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock_path.touch(exist_ok=True)
        self._db = sqlite3.connect(index_path, timeout=30, check_same_thread=False, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            if self._db.execute(_HAS_INDEX).fetchone() is None:
                # A new index (or an empty file) is created marked unbuilt, in one transaction: until a rebuild
                # from the log has committed, every opening rebuilds it (a rebuild killed halfway is redone).
                self._db.executescript(f"BEGIN IMMEDIATE;{_INDEX_SCHEMA}PRAGMA user_version = {UNBUILT};COMMIT;")
            else:
                self._db.executescript(_INDEX_SCHEMA)  # (the sidecar indexes a later release added)
        except sqlite3.DatabaseError as exc:  # (not "database is locked": an OperationalError, raised as it is)
            self._db.close()
            if isinstance(exc, sqlite3.OperationalError):
                raise
            raise sqlite3.DatabaseError(f"{exc} ({index_path}: delete it and the store rebuilds it)") from exc
        with self._locked():
            if self._db.execute("PRAGMA user_version").fetchone()[0] == UNBUILT:
                self._rebuild()
            stuck = self._finish_intents()
            empty_trash(self._trash)  # what a delete killed before removing it left: deleted data
            _remove_stale_staging(self, keep=stuck)  # what an import killed before its swap wrote aside

    def __repr__(self) -> str:
        return f"ParquetStore({str(self.root)!r})"

    # ----------------------------------------------------------------------------------------------- writes

    def save(
        self,
        snapshot: Mapping[str, Any],
        *,
        graph: str | None = None,
        correlation: Mapping[str, Any] | None = None,
        status: str | None = None,
        expected_version: int | None = None,
    ) -> int:
        # Every version whole: this is the log analysts read as rows, each a self-contained snapshot (not packed)
        req = SaveRequest.build(snapshot, graph, correlation, status, expected_version, packed=False)
        eid = req.execution_id
        self._check_writable(f"save execution {eid!r}")
        with write_errors(repr(self), eid), _sidecar_errors(self, eid), self._locked():
            self._finish_intents(eid)
            row = self._row(eid) or adopt(self, eid)
            actual = row["version"] if row else 0
            meta = req.plan(actual, _metadata(row) if row else None, self._owner)
            record = StoredExecution(eid, {}, actual + 1, meta.graph, None, meta.status, utc_now())
            self._append(record, meta.correlation_json, req.snapshot_json)
            return record.version

    def _append(self, record: StoredExecution, correlation_json: str | None, snapshot_json: str) -> None:
        """Write one version under the lock: intent, file, index (see the module docstring)."""
        eid, version = record.execution_id, record.version
        self._note_intent(eid, version)
        path = self._path(eid, version)
        try:
            self._write_file(path, record, correlation_json, snapshot_json)
            self._index_version(record, correlation_json, drop_intent=True)
        except Exception:
            # A save that failed (a full disk) and said so must not be completed later, as a killed writer's
            # is: without its file, the next writer drops the intent (even if deleting it here fails too).
            path.unlink(missing_ok=True)
            with contextlib.suppress(sqlite3.Error):
                self._drop_intent(eid, version)
            raise

    def _note_intent(self, eid: str, version: int) -> None:
        """Note that ``eid``'s ``version`` is being written (or ``_DELETING``/``_IMPORTING``: deleted, swapped)."""
        with self._db_lock:
            self._db.execute("INSERT OR REPLACE INTO intents VALUES (?, ?)", (eid, version))

    def _drop_intent(self, eid: str, version: int) -> None:
        """Forget the intent :meth:`_note_intent` noted (its work done, or undone)."""
        with self._db_lock:
            self._db.execute("DELETE FROM intents WHERE execution_id = ? AND version = ?", (eid, version))

    def _index_version(self, record: StoredExecution, correlation_json: str | None, *, drop_intent: bool) -> None:
        with self._db_lock, self._transaction():
            self._index_row(record, correlation_json)
            if drop_intent:
                self._drop_intent(record.execution_id, record.version)

    def _index_row(self, record: StoredExecution, correlation_json: str | None) -> None:
        """Make ``record`` the execution's latest version in the index (the caller holds a transaction)."""
        key = Metadata(record.graph, correlation_json, record.status).active_key
        if key is not None:  # a stale owner can only exist after a rebuild from an inconsistent log
            self._db.execute("UPDATE executions SET active_key = NULL WHERE active_key = ?", (_key_text(key),))
        self._db.execute(
            "INSERT OR REPLACE INTO executions VALUES (?, ?, ?, ?, ?, ?, ?)",
            (record.execution_id, record.version, record.updated_at.isoformat(), record.graph, correlation_json,
             record.status, None if key is None else _key_text(key)),
        )

    def delete(self, execution_id: str) -> bool:
        eid = check_execution_id(execution_id)
        self._check_writable(f"delete execution {eid!r}")
        with _delete_errors(self, eid), self._locked():
            self._own_folder(eid)  # a folder of other files: refused before anything changes
            self._note_intent(eid, _DELETING)  # a writer killed from here on is finished by the next one
            try:
                found, doomed = self._finish_delete(eid)
            except Unmovable as exc:  # nothing moved, nothing deleted: the execution stays as it was
                self._drop_intent(eid, _DELETING)
                raise StoreError(f"{self!r}: could not delete execution {eid!r}: {exc}; nothing was deleted",
                                 execution_id=eid) from exc.__cause__
        if doomed is not None:
            shutil.rmtree(doomed, ignore_errors=True)
        return found or doomed is not None

    def _finish_delete(self, eid: str) -> tuple[bool, Path | None]:
        """Move ``eid``'s folder away (its log gone from ``to_frame`` at once), then drop its index row and intents;
        whether it had a row, and where the folder went (write lock held)."""
        folder, doomed = self.root / eid, None
        if os.path.lexists(folder):
            doomed = move_to_trash(self._trash, eid, folder)
        with self._db_lock, self._transaction():
            found = self._db.execute("DELETE FROM executions WHERE execution_id = ?", (eid,)).rowcount > 0
            self._db.execute("DELETE FROM intents WHERE execution_id = ?", (eid,))
        return found, doomed

    # ----------------------------------------------------------------------------------------------- reads

    def fetch(self, execution_id: str) -> dict[str, Any]:
        return self.record(execution_id).snapshot

    def record(self, execution_id: str) -> StoredExecution:
        return _latest(self, check_execution_id(execution_id))  # (waits out a delete or an import's swap)

    def _settling(self, eid: str) -> int | None:
        """The intent of a delete or an import's swap of ``eid`` under way, if one is."""
        with self._db_lock:
            found = self._db.execute("SELECT min(version) FROM intents WHERE execution_id = ? AND version IN (?, ?)",
                                     (eid, _DELETING, _IMPORTING)).fetchone()
        return None if found is None or found[0] is None else int(found[0])

    def exists(self, execution_id: str) -> bool:
        return self._row(check_execution_id(execution_id)) is not None

    def version_of(self, execution_id: str) -> int | None:
        """The latest version number of the execution, None when it is not stored (no snapshot is read). Reads the
        sidecar index only."""
        row = self._row(check_execution_id(execution_id))
        return None if row is None else int(row["version"])

    def find_by_correlation(self, graph: str, correlation: Mapping[str, Any]) -> str | None:
        return self._owner((check_graph(graph), canonical_correlation(correlation)))

    def find_latest_by_correlation(self, graph: str, correlation: Mapping[str, Any]) -> str | None:
        params = (check_graph(graph), canonical_correlation(correlation))
        with self._db_lock:
            found = self._db.execute(_FIND_LATEST, params).fetchone()
        return None if found is None else str(found[0])

    def correlations(
        self, graph: str, *, active_only: bool = True, limit: int = 1000
    ) -> builtins.list[tuple[str, dict[str, Any]]]:
        check_listing(graph, active_only, limit)
        with self._db_lock:
            rows = self._db.execute(_ACTIVE_CORRELATIONS if active_only else _ALL_CORRELATIONS, (graph, limit)).fetchall()
        return [(str(eid), json.loads(correlation)) for eid, correlation in rows]

    def list(self, graph: str | None = None, status: str | None = None) -> builtins.list[StoredExecution]:
        check_filters(graph, status)
        where, params = _filters(graph, status)
        query = "SELECT execution_id, version FROM executions" + (" WHERE " + " AND ".join(where) if where else "")
        with self._db_lock:
            rows = self._db.execute(query + " ORDER BY saved_at, execution_id", params).fetchall()
        return [record for eid, version in rows if (record := self._listed(eid, version)) is not None]

    def _listed(self, eid: str, version: int) -> StoredExecution | None:
        """The indexed latest version of a listing; None when a delete took it meanwhile, and a ``StoreError`` naming
        the file when it is missing for good (removed by hand), as :meth:`record` (``parquet_read.latest``)."""
        try:
            return self._read_file(self._path(eid, version))
        except FileNotFoundError:
            try:
                return _latest(self, eid)  # (read again: a delete, an import's swap or a new save meanwhile)
            except SnapshotNotFoundError:
                return None

    def list_page(
        self, graph: str | None = None, status: str | None = None, *, limit: int, after: str | None = None
    ) -> tuple[builtins.list[StoredExecution], str | None]:
        """A page of :meth:`list` newest first (``stores/paging.py``): keyset pagination in the sidecar index
        (``limit + 1`` rows read backwards along ``([graph,] [status,] saved_at, execution_id)``), then one
        parquet file read per record of the page (the row past the page, which says whether another page
        follows, is not read)."""
        key = check_page(graph, status, limit, after)
        below = None if key is None else (key[0].isoformat(), key[1])  # saved_at is kept as this text
        records: builtins.list[StoredExecution] = []
        more = False
        while True:  # more than once only when an execution was deleted between the index read and its file's
            where, params = _filters(graph, status)
            if below is not None:
                where, params = [*where, "(saved_at, execution_id) < (?, ?)"], [*params, *below]
            want = limit + 1 - len(records)
            query = ("SELECT execution_id, version, saved_at FROM executions"
                     + (" WHERE " + " AND ".join(where) if where else "")
                     + " ORDER BY saved_at DESC, execution_id DESC LIMIT ?")
            with self._db_lock:
                rows = self._db.execute(query, [*params, want]).fetchall()
            for eid, version, _ in rows:
                if len(records) == limit:  # past the page: its file's existence says whether another page follows
                    more = self._path(eid, version).exists()
                    if more:
                        break
                    continue
                if (record := self._listed(eid, version)) is not None:  # (None: deleted meanwhile)
                    records.append(record)
            if more or len(rows) < want:
                break
            below = (rows[-1][2], rows[-1][0])
        return cut(records, limit, more)

    def count(self, graph: str | None = None, status: str | None = None) -> int:
        """How many records :meth:`list` answers (counted in the sidecar index)."""
        check_filters(graph, status)
        where, params = _filters(graph, status)
        with self._db_lock:
            found = self._db.execute("SELECT count(*) FROM executions" + (" WHERE " + " AND ".join(where) if where
                                                                         else ""), params).fetchone()
        return int(found[0])

    def history_records(self, execution_id: str) -> builtins.list[StoredExecution]:
        """Every version, oldest first: the whole history — the old one or the new one whole while an import
        replaces it — or ``SnapshotNotFoundError`` once a delete under way has begun (``parquet_read.py``)."""
        return _history(self, check_execution_id(execution_id))

    def history_page(self, execution_id: str, *, after_version: int = 0, limit: int) -> builtins.list[StoredExecution]:
        """The versions after ``after_version``, oldest first, at most ``limit``: the latest version number from the
        sidecar index, then only the page's version files read."""
        eid = check_execution_id(execution_id)
        check_history_page(after_version, limit)
        return _history(self, eid, after_version, limit)  # (whole, or not found, across a delete or an import)

    def to_frame(self) -> Any:
        """The whole log as a pandas DataFrame, one row per saved version (columns: :data:`COLUMNS`)."""
        return _to_frame(self)  # (a file removed by a delete or an import meanwhile: listed and read again)

    def _log_files(self) -> builtins.list[str]:
        """The log's version files (``to_frame`` lists them, then reads them with :meth:`_read_log`)."""
        import pyarrow.dataset as ds

        return ds.dataset(self.root, format="parquet", schema=self._schema).files  # type: ignore[no-any-return]

    def _read_log(self, files: builtins.list[str]) -> Any:
        import pyarrow.dataset as ds

        return ds.dataset(files, format="parquet", schema=self._schema).to_table()

    def rebuild_index(self) -> None:
        """Recreate the sidecar index from the parquet files (after copying or hand-editing the log)."""
        self._check_writable("rebuild the index")
        with self._locked():
            self._finish_intents(strict=True)  # a killed writer's save, delete or swap first: the rebuild drops intents
            self._rebuild()

    def close(self) -> None:
        """Close the sidecar index connection."""
        with self._db_lock:
            self._db.close()

    # ----------------------------------------------------------------------------------------------- import

    def import_records(self, records: Iterable[StoredExecution]) -> int:
        """Append versions taken from another store, keeping their version numbers and times; returns the count.

        The records of one execution must come in increasing version order (a ``StoreArgumentError`` otherwise,
        before that record is written: a version again would be written over the first); an execution already in
        this store is replaced whole — its new versions are written aside and swapped in at once
        (``parquet_import.py``), so an import killed halfway leaves the old history or the new one.
        """
        self._check_writable("import records")
        return _import_records(self, records)

    # ----------------------------------------------------------------------------------------------- helpers

    def _own_folder(self, eid: str) -> Path | None:
        """``eid``'s folder, None when there is none. A folder (or file) of that name holding anything but version
        files and a killed writer's temporary ones is not this store's to remove: a ``StoreError`` naming it."""
        folder = self.root / eid
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            names = [""]
        for name in names:
            if not (_VERSION_FILE.fullmatch(name) or name.startswith(".tmp-v")):
                what = f"it holds {name!r}" if name else "it is a file"
                raise StoreError(f"{self!r}: {folder} is not a folder of this store's log ({what}, not a version "
                                 "file); left alone: move it away, or keep the store in a directory of its own")
        return folder

    def _path(self, eid: str, version: int) -> Path:
        return self.root / eid / f"v{version:09d}.parquet"

    def _row(self, eid: str) -> dict[str, Any] | None:
        with self._db_lock:
            cur = self._db.execute(
                f"SELECT version, graph, correlation, status FROM executions WHERE execution_id = ? AND {_NOT_DELETING}",
                (eid,))
            found = cur.fetchone()
        if found is None:
            return None
        return {"version": found[0], "graph": found[1], "correlation": found[2], "status": found[3]}

    def _owner(self, key: tuple[str, str]) -> str | None:
        with self._db_lock:
            found = self._db.execute(f"SELECT execution_id FROM executions WHERE active_key = ? AND {_NOT_DELETING}",
                                     (_key_text(key),)).fetchone()
        return None if found is None else str(found[0])

    def _write_file(self, path: Path, rec: StoredExecution, correlation_json: str | None, snapshot_json: str) -> None:
        write_version(path, self._schema, rec, correlation_json, snapshot_json, fsync=self._fsync)

    def _read_file(self, path: Path) -> StoredExecution:
        return read_version(path, self._schema, f"{self!r}, file {path}")

    def _finish_intents(self, writing: str | None = None, *, strict: bool = False) -> builtins.set[str]:
        """What killed writers left, finished (``parquet_recovery.py``; ``parquet_import.py`` calls it too)."""
        return finish_intents(self, writing, strict=strict)

    def _rebuild(self) -> None:
        """The index rebuilt from the log (``parquet_recovery.py``; ``parquet_read.py`` calls it too)."""
        rebuild(self)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return exclusive_lock(self._lock_path)

    def _check_writable(self, what: str) -> None:
        if self.read_only:
            raise refuse_write(repr(self), self.root, what, self._explicit, self._index_files())

    def _index_files(self) -> tuple[Path, ...]:
        """The sidecar index's files: one read-only in a writable directory opens the store read-only."""
        index = self.root / "_index.sqlite"
        return index, Path(f"{index}-wal"), Path(f"{index}-shm")
