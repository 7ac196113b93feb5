"""``export_parquet``: any store's history copied into a ``ParquetStore``-compatible dataset (``parquet.py``, which
re-exports it, holds the store)."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Iterable, Iterator

from igniter_nb.stores.base import ExecutionStore, StoredExecution


def export_parquet(store: ExecutionStore, path: str | os.PathLike[str], execution_ids: Iterable[str] | None = None) -> int:
    """Copy the history of ``execution_ids`` (default: every execution) of any store into a ParquetStore-compatible
    dataset at ``path``; returns the number of versions written. Executions already in the dataset are replaced.

    Example: ``export_parquet(SQLStore("sqlite:///app.db"), "audit/")`` then ``pandas.read_parquet("audit/")``.
    """
    ids = [r.execution_id for r in store.list()] if execution_ids is None else list(execution_ids)
    from igniter_nb.stores.parquet import ParquetStore  # (which imports this module)

    target = ParquetStore(path)
    try:
        return target.import_records(itertools.chain.from_iterable(_versions(store, eid) for eid in ids))
    finally:
        target.close()


def _versions(store: ExecutionStore, eid: str) -> Iterator[StoredExecution]:
    reader = getattr(store, "history_records", None)
    if callable(reader):
        yield from reader(eid)
        return
    latest = store.record(eid)
    snapshots = store.history(eid)
    for number, snap in enumerate(snapshots, start=1):
        last = number == len(snapshots)
        yield StoredExecution(eid, snap, number, latest.graph, latest.correlation, latest.status if last else None,
                              latest.updated_at if last else dt.datetime.fromtimestamp(0, dt.UTC))
