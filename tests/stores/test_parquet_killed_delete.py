"""A ``ParquetStore.delete`` killed (SIGKILL) halfway is finished by the next opening: the execution is gone from
the index and from the log analysts read (``to_frame``), and a new execution of that id starts at version 1. The
index rows went first, so a kill before the folder moved left a log that still held the execution, which a new
save of the id then wrote over (or, since the index adopts unknown version files, continued)."""

from __future__ import annotations

from pathlib import Path

import pytest

from igniter_nb.errors import SnapshotNotFoundError
from igniter_nb.stores.parquet import ParquetStore
from tests.stores.killed_delete import kill_a_delete


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_delete_killed_around_the_folder_move_is_finished_by_the_next_opening(tmp_path: Path, when: str) -> None:
    store = ParquetStore(tmp_path, fsync=False)
    for step in (1, 2):
        store.save({"execution_id": "lead", "step": step}, graph="Lead", correlation={"k": 1}, status="waiting")
    store.save({"execution_id": "kept", "step": 1})
    store.close()
    kill_a_delete(tmp_path, when, "parquet")

    store = ParquetStore(tmp_path, fsync=False)
    assert not (tmp_path / ".trash").exists() or list((tmp_path / ".trash").iterdir()) == []  # deleted data goes
    assert not store.exists("lead") and store.find_by_correlation("Lead", {"k": 1}) is None
    assert set(store.to_frame()["execution_id"]) == {"kept"}
    assert store.save({"execution_id": "lead", "step": "new"}) == 1
    assert store.history("lead") == [{"execution_id": "lead", "step": "new"}]
    assert store.fetch("kept") == {"execution_id": "kept", "step": 1}
    store.close()


def test_a_killed_deletes_intent_is_not_found_for_every_read_before_it_is_finished(tmp_path: Path) -> None:
    """The delete's intent noted, the folder not yet moved, and no writer has opened the store since (a store opened
    before the kill, or a read-only opening): the execution is not found by any read — the next writer or opening
    finishes that delete — where ``record()`` answered its latest version while ``history()`` said not found."""
    store = ParquetStore(tmp_path, fsync=False)
    for step in (1, 2):
        store.save({"execution_id": "lead", "step": step}, graph="Lead", correlation={"k": 1}, status="waiting")
    store.save({"execution_id": "kept", "step": 1}, graph="Lead")
    kill_a_delete(tmp_path, "before", "parquet")
    assert (tmp_path / "lead").is_dir()  # the folder was not moved
    for reader in (store, ParquetStore(tmp_path, read_only=True)):
        for read in (reader.record, reader.fetch, reader.history, reader.history_records):
            with pytest.raises(SnapshotNotFoundError):
                read("lead")
        assert not reader.exists("lead") and reader.version_of("lead") is None
        assert reader.find_by_correlation("Lead", {"k": 1}) is None
        assert [r.execution_id for r in reader.list()] == ["kept"] and reader.count() == 1
        assert set(reader.to_frame()["execution_id"]) == {"kept"}
        reader.close()
