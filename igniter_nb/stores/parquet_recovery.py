"""What a ``ParquetStore`` writer killed halfway left, finished or dropped, and the sidecar index rebuilt from the log.

A save, a delete and an import's swap each note their intent in the sidecar index before they change anything
(``parquet.py``'s module docstring); the next writer or opening finishes the deletes and swaps and completes or drops
the saves (:func:`finish_intents`). The index itself is derived data: :func:`rebuild` recreates it from the log's
version files, and :func:`adopt` indexes the folder of one execution copied in without a rebuild. ``parquet.py``
holds the store; each function here runs under its write lock.
"""

from __future__ import annotations

import builtins
import logging
import shutil
from typing import TYPE_CHECKING, Any

from igniter_nb.errors import StoreError
from igniter_nb.stores.base import canonical_correlation
from igniter_nb.stores.parquet_import import IMPORTING, finish_import
from igniter_nb.stores.parquet_index import DELETING
from igniter_nb.stores.trash import Unmovable

if TYPE_CHECKING:
    from igniter_nb.stores.parquet import ParquetStore

# The store's logger (a pending delete or swap is the store's news: filtered by the name users know it by).
_log = logging.getLogger("igniter_nb.stores.parquet")

UNBUILT, BUILT = 1, 0  # the sidecar's `PRAGMA user_version`: UNBUILT until a rebuild from the log has committed


def finish_intents(store: ParquetStore, writing: str | None = None, *, strict: bool = False) -> builtins.set[str]:
    """Complete or drop the saves of writers that were killed between writing a file and indexing it, and finish
    their deletes and import swaps. A delete or swap whose folder cannot be moved (``EBUSY``: a mount point, a folder
    another program holds) stays pending, logged, so that one folder does not stop the store; it raises only for
    ``writing`` (the execution the caller is about to change) or when ``strict``. Returns the executions left
    pending."""
    with store._db_lock:
        pending = store._db.execute("SELECT execution_id, version FROM intents").fetchall()
    whole: set[str] = set()  # executions a delete or an import swap settled: their other intents went with it
    stuck: set[str] = set()
    for eid, version in sorted(pending):  # (an import's -1 and a delete's 0 before any save's version)
        if eid in whole:
            continue
        if version in (DELETING, IMPORTING):
            whole.add(eid)
            what = "an import" if version == IMPORTING else "a delete"
            try:
                if version == IMPORTING:
                    finish_import(store, eid)
                elif (doomed := store._finish_delete(eid)[1]) is not None:
                    shutil.rmtree(doomed, ignore_errors=True)
            except Unmovable as exc:
                if strict or eid == writing:
                    raise StoreError(f"{store!r}: execution {eid!r} has {what} under way that cannot finish: "
                                     f"{exc}; once it can be moved, the next writer finishes it",
                                     execution_id=eid) from exc.__cause__
                stuck.add(eid)
                if (eid, version) not in store._reported:  # once per store object, not on every save
                    store._reported.add((eid, version))
                    _log.warning("%r: %s of execution %r is left pending until its folder can be moved: %s",
                                 store, what, eid, exc)
            continue
        path = store._path(eid, version)
        if path.exists():
            rec = store._read_file(path)
            corr = None if rec.correlation is None else canonical_correlation(rec.correlation)
            store._index_version(rec, corr, drop_intent=True)
        else:
            store._drop_intent(eid, version)
        for leftover in (store.root / eid).glob(".tmp-*"):
            leftover.unlink(missing_ok=True)
    return stuck


def rebuild(store: ParquetStore) -> None:
    """Index the latest version file of every execution folder, in one transaction: a rebuild killed halfway leaves
    the index as it was before (a new one still marked unbuilt, so the next opening rebuilds it)."""
    with store._db_lock, store._transaction():
        store._db.execute("DELETE FROM executions")
        store._db.execute("DELETE FROM intents")
        for folder in sorted(store.root.iterdir()):
            if not folder.is_dir() or folder.name.startswith((".", "_")):
                continue
            versions = sorted(folder.glob("v*.parquet"))
            if versions:
                rec = store._read_file(versions[-1])
                store._index_row(rec, None if rec.correlation is None else canonical_correlation(rec.correlation))
        store._db.execute(f"PRAGMA user_version = {BUILT}")


def adopt(store: ParquetStore, eid: str) -> dict[str, Any] | None:
    """Index the latest of ``eid``'s version files when the index does not know them (a folder copied in without
    ``rebuild_index()``), so that a save continues the log instead of writing ``v000000001`` over its first version;
    None when there are none."""
    versions = sorted((store.root / eid).glob("v*.parquet"))
    if not versions:
        return None
    rec = store._read_file(versions[-1])
    if rec.execution_id != eid:
        raise StoreError(f"{store!r}: {versions[-1]} holds execution {rec.execution_id!r}, not {eid!r}: move it "
                         "away, or call rebuild_index()")
    corr = None if rec.correlation is None else canonical_correlation(rec.correlation)
    store._index_version(rec, corr, drop_intent=False)
    return store._row(eid)
