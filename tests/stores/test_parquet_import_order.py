"""``ParquetStore.import_records`` takes each execution's versions in increasing order. A version again or out of
order (a replayed record, two sources merged) was written over the file of that number and made the index's latest,
so the versions after it dropped out of the history; now it is a ``StoreArgumentError`` naming the execution and
the versions, and what was imported before it stays whole."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from igniter_nb.errors import StoreArgumentError
from igniter_nb.stores.base import StoredExecution
from igniter_nb.stores.parquet import ParquetStore

NOW = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)


def _rec(eid: str, version: Any, step: str) -> StoredExecution:
    return StoredExecution(eid, {"execution_id": eid, "step": step}, version, "G", None, "running", NOW)


@pytest.mark.parametrize("late", [_rec("a", 1, "replayed"), _rec("a", 2, "again"), _rec("a", 0, "zero"),
                                  _rec("a", True, "bool"), _rec("a", "3", "text")])
def test_a_version_out_of_order_is_refused_and_the_history_stays_whole(tmp_path: Path, late: StoredExecution) -> None:
    store = ParquetStore(tmp_path, fsync=False)
    records = [_rec("a", 1, "one"), _rec("a", 2, "two"), _rec("b", 1, "other"), late]
    with pytest.raises(StoreArgumentError, match=r"execution 'a'.*version"):
        store.import_records(records)
    assert [s["step"] for s in store.history("a")] == ["one", "two"]
    assert store.record("a").version == 2
    store.close()


def test_versions_in_order_across_runs_are_imported(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path, fsync=False)
    assert store.import_records([_rec("a", 1, "one"), _rec("b", 1, "other"), _rec("a", 3, "three")]) == 3
    assert [s["step"] for s in store.history("a")] == ["one", "three"]
    store.close()
