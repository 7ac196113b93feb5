"""An execution the sidecar index lists whose folder was removed by hand (not by a delete, which notes its intent
first): ``list()``, ``list_page()`` and ``to_frame()`` raise the ``StoreError`` that ``record()`` raises, naming the
missing file or folder and ``rebuild_index()`` — ``list()`` skipped it silently (while ``count()`` still counted
it) and ``to_frame()`` left it out — and after ``rebuild_index()`` every read agrees."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from igniter_nb.errors import StoreError
from igniter_nb.stores.parquet import ParquetStore


def test_reads_of_an_indexed_execution_whose_folder_was_removed_by_hand_name_it(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path, fsync=False)
    for eid in ("a", "gone", "z"):
        store.save({"execution_id": eid})
    shutil.rmtree(tmp_path / "gone")
    for read in (store.list, lambda: store.list_page(limit=10), store.to_frame, lambda: store.record("gone")):
        with pytest.raises(StoreError, match="rebuild_index") as caught:
            read()
        assert str(tmp_path / "gone") in str(caught.value)
    store.rebuild_index()
    assert [r.execution_id for r in store.list()] == ["a", "z"] and store.count() == 2
    assert list(store.to_frame()["execution_id"]) == ["a", "z"]
    store.close()
