"""``ParquetStore.import_records`` (what ``export_parquet`` writes with): versions taken from another store, each
execution's history replaced whole or not at all.

The versions of an execution the import replaces are written aside, under ``<root>/.igniter-import/<id>/`` (a name
starting with ``.``: skipped by pyarrow, pandas and the index rebuild), then swapped in at once: the swap's intent
noted in the sidecar index, the old folder moved to the trash, the new one renamed into place, the index row
replaced. An import killed before the swap leaves the old history (its staging folder is removed by the next
opening); one killed after noting the intent is finished by the next writer or opening, as a save's is.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from igniter_nb.errors import StoreArgumentError, StoreError
from igniter_nb.stores.base import StoredExecution, canonical_correlation, check_execution_id
from igniter_nb.stores.parquet_files import write_version
from igniter_nb.stores.trash import Unmovable, move_to_trash

if TYPE_CHECKING:
    from igniter_nb.stores.parquet import ParquetStore

IMPORTING = -1
"""The version of an intent that is an import's swap under way."""

STAGING = ".igniter-import"


def import_records(store: ParquetStore, records: Iterable[StoredExecution]) -> int:
    """See :meth:`ParquetStore.import_records`; returns the number of versions written."""
    count = 0
    last: dict[str, int] = {}  # the version last imported of each execution
    staging_eid: str | None = None  # the execution being written aside
    eid = ""
    with store._locked():
        stuck = store._finish_intents()  # a delete or swap whose folder cannot move yet: its execution is refused
        try:
            for rec in records:
                eid = rec.execution_id
                before = last.get(eid, 0)
                if type(rec.version) is not int or rec.version <= before:
                    raise StoreArgumentError(
                        f"{store!r}: execution {eid!r}: version {rec.version!r} comes after version {before}; each "
                        "execution's versions must be whole numbers in increasing order")
                if staging_eid is not None and eid != staging_eid:
                    _swap(store, staging_eid)
                    staging_eid = None
                if not before:  # the first version of an execution this import replaces: written aside
                    store._own_folder(check_execution_id(eid))  # a folder of other files: refused before anything
                    if eid in stuck:  # (its swap's intent, finished first, would drop the pending one with it)
                        raise StoreError(f"{store!r}: could not import execution {eid!r}: a delete or an import of "
                                         "it is under way and its folder cannot be moved yet; nothing was imported "
                                         "for it (the next writer finishes it once the folder can move)",
                                         execution_id=eid)
                    shutil.rmtree(staging(store, eid), ignore_errors=True)
                    staging(store, eid).mkdir(parents=True)
                    staging_eid = eid
                last[eid] = rec.version
                corr = None if rec.correlation is None else canonical_correlation(rec.correlation)
                snapshot_json = json.dumps(rec.snapshot, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
                if eid == staging_eid:
                    write_version(staging(store, eid) / f"v{rec.version:09d}.parquet", store._schema, rec, corr,
                                  snapshot_json, fsync=store._fsync)
                else:  # a later run of an execution this import already swapped in: appended as a save is
                    store._append(rec, corr, snapshot_json)
                count += 1
            if staging_eid is not None:
                _swap(store, staging_eid)
                staging_eid = None
        except (OSError, sqlite3.OperationalError) as exc:  # a full disk, a read-only one
            file = getattr(exc, "filename", None)
            where = f" ({file})" if file else f" (index {store.root / '_index.sqlite'})" if isinstance(
                exc, sqlite3.OperationalError) else ""
            raise StoreError(f"{store!r}: could not import execution {eid!r}: {getattr(exc, 'strerror', None) or exc}"
                             f"{where}; its history in the store is as before this import", execution_id=eid,
                             file=file) from exc
        finally:
            if staging_eid is not None:  # the import failed before the swap: the old history stays
                shutil.rmtree(staging(store, staging_eid), ignore_errors=True)
    return count


def staging(store: ParquetStore, eid: str) -> Path:
    """Where an import writes ``eid``'s new versions before swapping them in."""
    return store.root / STAGING / eid


def _swap(store: ParquetStore, eid: str) -> None:
    store._note_intent(eid, IMPORTING)
    try:
        finish_import(store, eid)
    except Unmovable as exc:  # nothing swapped: the old history stays, and so must no intent to swap it
        store._drop_intent(eid, IMPORTING)
        raise StoreError(f"{store!r}: could not import execution {eid!r}: {exc}; nothing was imported for it, its "
                         "history in the store is as before", execution_id=eid) from exc.__cause__


def finish_import(store: ParquetStore, eid: str) -> None:
    """Swap ``eid``'s staged versions in, if still staged, and index its latest version (write lock held)."""
    staged, folder, doomed = staging(store, eid), store.root / eid, None
    if staged.is_dir():
        if os.path.lexists(folder):
            doomed = move_to_trash(store._trash, eid, folder)
        os.replace(staged, folder)
    versions = sorted(folder.glob("v*.parquet"))
    latest = store._read_file(versions[-1]) if versions else None
    with store._db_lock, store._transaction():
        store._db.execute("DELETE FROM executions WHERE execution_id = ?", (eid,))
        if latest is not None:
            corr = None if latest.correlation is None else canonical_correlation(latest.correlation)
            store._index_row(latest, corr)
        store._db.execute("DELETE FROM intents WHERE execution_id = ?", (eid,))
    if doomed is not None:
        shutil.rmtree(doomed, ignore_errors=True)


def remove_stale_staging(store: ParquetStore, keep: Iterable[str] = ()) -> None:
    """Remove what imports killed before their swap left (write lock held, intents finished), but the staged
    versions of ``keep``, whose swaps are still pending (a folder that could not be moved)."""
    keep = set(keep)
    if not keep:
        shutil.rmtree(store.root / STAGING, ignore_errors=True)
        return
    with contextlib.suppress(FileNotFoundError):
        for entry in (store.root / STAGING).iterdir():
            if entry.name not in keep:
                shutil.rmtree(entry, ignore_errors=True)


__all__ = ["IMPORTING", "STAGING", "finish_import", "import_records", "remove_stale_staging", "staging"]
