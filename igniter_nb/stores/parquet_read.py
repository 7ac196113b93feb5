"""``ParquetStore`` reads that must not see a delete or an import halfway: the whole log (``to_frame``) and an
execution's whole history, and the sidecar index of a read-only opening (``read_only.py``). ``parquet.py`` holds
the store.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from igniter_nb.errors import StoreError
from igniter_nb.stores.base import StoredExecution, not_found
from igniter_nb.stores.parquet_import import IMPORTING
from igniter_nb.stores.parquet_index import DELETING, NOT_DELETING

if TYPE_CHECKING:
    from igniter_nb.stores.parquet import ParquetStore

ATTEMPTS = 300  # a read waits out an import's swap or a delete (each try 10 ms apart), a few ms in practice
_VERSION_FILE = re.compile(r"v[0-9]{9,}\.parquet")


def open_index_read_only(store: ParquetStore, index_path: Path, unbuilt: int, schema: str) -> sqlite3.Connection:
    """The sidecar index of a read-only opening, nothing written: read as it is when a writer has it open (its
    ``-shm`` file exists), as a fixed file when none has (SQLite cannot open a WAL index read-only without that file
    on a read-only disk, and would create it on a writable one), and built in memory from the log when there is no
    index, or one no rebuild has finished."""
    db: sqlite3.Connection | None = None
    if index_path.is_file():
        live = os.path.exists(f"{index_path}-shm")
        uri = index_path.as_uri() + ("?mode=ro" if live else "?mode=ro&immutable=1")
        db = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False, isolation_level=None)
        try:
            built = db.execute("PRAGMA user_version").fetchone()[0] != unbuilt and db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'intents'").fetchone() is not None
        except sqlite3.DatabaseError:
            db.close()
            raise
        if built:
            return db
        db.close()
    db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    db.executescript(schema)
    store._db = db
    store._rebuild()  # (into memory: the log's latest version of each execution)
    return db


def to_frame(store: ParquetStore) -> Any:
    """See :meth:`ParquetStore.to_frame`: the files listed, then read; a file a delete or an import's swap removed
    between the two is not an error: listed and read again, so a deleted execution is left out and a replaced one
    read whole as it is now. An execution whose delete's intent is noted is left out (not found, as by every read);
    one the index lists with no folder, no delete or swap under way, is a ``StoreError`` naming the folder (removed by
    hand), as ``record`` says of its file."""
    missing = None
    for _ in range(ATTEMPTS):
        if missing is not None:
            time.sleep(0.01)
        with store._db_lock:  # before the listing: an execution saved after it is not expected in the frame
            indexed = {eid for (eid,) in store._db.execute(f"SELECT execution_id FROM executions WHERE {NOT_DELETING}")}
        files = store._log_files()
        try:
            table = store._read_log(files)
        except FileNotFoundError as exc:
            missing = exc
            continue
        frame = table.to_pandas()
        with store._db_lock:
            deleting = [eid for (eid,) in store._db.execute("SELECT execution_id FROM intents WHERE version = ?",
                                                            (DELETING,))]
        frame = frame[~frame["execution_id"].isin(deleting)]
        for eid in sorted(indexed - set(frame["execution_id"])):
            folder = store.root / eid
            if store._row(eid) is not None and store._settling(eid) is None and not os.path.lexists(folder):
                raise StoreError(f"{store!r}: the index has execution {eid!r}, but its folder {folder} is missing "
                                 "(removed by hand?); rebuild_index() makes the index match the log",
                                 execution_id=eid)
        return frame.sort_values(["execution_id", "version"], ignore_index=True)
    raise StoreError(f"{store!r}: the log kept changing while it was read (last missing file: {missing})") from missing


def latest(store: ParquetStore, eid: str) -> StoredExecution:
    """See :meth:`ParquetStore.record`: its latest version, read again when a delete or an import's swap moved the
    file meanwhile; a file missing for good is a ``StoreError`` naming it."""
    missing, repeats = None, 0  # the version file found missing, and how many times in a row since
    for attempt in range(ATTEMPTS):  # a file gone: a delete or an import's swap ran meanwhile
        row = store._row(eid)
        if row is None:
            raise not_found(eid)
        path = store._path(eid, row["version"])
        if attempt:
            settling = store._settling(eid)
            if settling == DELETING:
                raise not_found(eid)
            if settling == IMPORTING:
                time.sleep(0.01)  # the swap renames two folders, then indexes the new latest version
            elif path == missing:
                repeats += 1
                if repeats > 2:  # the index stays on a file that is not there: not a race
                    break
        try:
            return store._read_file(path)
        except FileNotFoundError:
            if path != missing:
                missing, repeats = path, 0
    raise StoreError(f"{store!r}: the index has execution {eid!r}, but its latest version file {missing} is missing "
                     "(removed by hand?); rebuild_index() makes the index match the log", execution_id=eid)


def history(store: ParquetStore, eid: str, after: int = 0, limit: int | None = None) -> list[StoredExecution]:
    """See :meth:`ParquetStore.history_records`: the version files of the execution's folder read, and kept only if
    the folder was the same (its inode, held open meanwhile so that no new folder can take its number) before and
    after — a delete or an import's swap moves the folder away whole, so the history read is the old one whole or is
    read again (the new one whole, or ``SnapshotNotFoundError`` once the delete has begun). ``after`` and ``limit``:
    only the versions after that number, at most that many (``history_page``)."""
    gone = 0  # tries in a row that found the indexed execution without a folder and no delete or swap under way
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(0.01)
        folder = store.root / eid
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except (FileNotFoundError, NotADirectoryError):
            fd = None
        try:
            row = store._row(eid)
            if row is None:
                raise not_found(eid)
            settling = store._settling(eid)
            if settling == DELETING:
                raise not_found(eid)
            gone = gone + 1 if fd is None and settling is None else 0
            if gone > 2:  # the index has it, the log does not: not a race
                break
            if fd is None or settling is not None or not _same(folder, fd):
                continue  # deleted or swapped under way, or swapped since the folder was opened
            try:  # the version numbers an import brought may have gaps; files past the index's: a save under way
                versions = sorted(int(name[1:-8]) for name in os.listdir(folder) if _VERSION_FILE.fullmatch(name))
                wanted = [v for v in versions if after < v <= row["version"]][:limit]
                records = [store._read_file(store._path(eid, v)) for v in wanted]
            except FileNotFoundError:
                continue  # removed while read: read again
            if _same(folder, fd):
                return records
        finally:
            if fd is not None:
                os.close(fd)
    raise StoreError(f"{store!r}: the index has execution {eid!r}, but " + (
        f"its folder {store.root / eid} is missing (removed by hand?); rebuild_index() makes the index match the log"
        if gone else "its history kept changing while it was read"), execution_id=eid)


def _same(folder: Path, fd: int) -> bool:
    with contextlib.suppress(OSError):
        found = os.stat(folder)
        opened = os.fstat(fd)
        return (found.st_dev, found.st_ino) == (opened.st_dev, opened.st_ino)
    return False


__all__ = ["ATTEMPTS", "DELETING", "history", "latest", "open_index_read_only", "to_frame"]
