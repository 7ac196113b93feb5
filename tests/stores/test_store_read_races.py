"""Reads racing a delete or an import on the file and parquet stores: ``ParquetStore.to_frame()`` leaves out an
execution deleted between listing the log and reading it (it raised pyarrow's ``FileNotFoundError``), and
``history()`` / ``history_records()`` answer the whole history or ``SnapshotNotFoundError`` for a delete, the old
history or the new one whole for an import (they returned the versions read before the delete, or old ones followed
by new ones). Each race is made deterministic by a store subclass that runs the delete or the import, through
another store on the same directory, at the worst moment; ``to_frame`` also meets a real deleting thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from igniter_nb.errors import SnapshotNotFoundError, StoreError
from igniter_nb.stores.base import StoredExecution
from igniter_nb.stores.file import FileStore
from igniter_nb.stores.parquet import ParquetStore


def fill(store: Any) -> None:
    for step in (1, 2, 3):
        store.save({"execution_id": "lead", "step": step})
    store.save({"execution_id": "kept", "step": 1})


def new_history(store: ParquetStore) -> list[StoredExecution]:
    at = store.record("lead").updated_at
    return [StoredExecution("lead", {"execution_id": "lead", "step": f"new {v}"}, v, None, None, None, at)
            for v in (1, 2, 3)]


def _with(rec: StoredExecution, step: str) -> StoredExecution:
    return StoredExecution(rec.execution_id, {"execution_id": "lead", "step": step}, rec.version, None, None, None,
                           rec.updated_at)


class MeddlingParquet(ParquetStore):
    """Runs ``meddle`` once: after the first version file of ``lead`` is read, or between listing the log and
    reading it."""

    meddle: Callable[[], Any] | None = None

    def _once(self) -> None:
        meddle, self.meddle = self.meddle, None
        if meddle is not None:
            meddle()

    def _read_file(self, path: Path) -> StoredExecution:
        found = super()._read_file(path)
        if path.parent.name == "lead":
            self._once()
        return found

    def _log_files(self) -> list[str]:
        files = super()._log_files()
        self._once()
        return files


class MeddlingFile(FileStore):
    meddle: Callable[[], Any] | None = None

    def _read_envelope(self, path: Path) -> dict[str, Any] | None:
        found = super()._read_envelope(path)
        if path.name == "v000000001.json" and path.parent.name == "lead" and self.meddle is not None:
            meddle, self.meddle = self.meddle, None
            meddle()
        return found


READS = {"history": lambda s: s.history("lead"), "history_records": lambda s: s.history_records("lead"),
         "history_page": lambda s: s.history_page("lead", limit=3)}


@pytest.mark.parametrize("read", READS)
def test_parquet_history_racing_a_delete_is_not_found_not_partial(tmp_path: Path, read: str) -> None:
    store = MeddlingParquet(tmp_path, fsync=False)
    fill(store)
    other = ParquetStore(tmp_path, fsync=False)
    store.meddle = lambda: other.delete("lead")
    with pytest.raises(SnapshotNotFoundError):
        READS[read](store)
    assert store.meddle is None  # the delete ran in the middle of the read
    store.close()
    other.close()


def test_parquet_history_racing_an_import_is_the_new_history_whole(tmp_path: Path) -> None:
    store = MeddlingParquet(tmp_path, fsync=False)
    fill(store)
    other = ParquetStore(tmp_path, fsync=False)
    store.meddle = lambda: other.import_records(new_history(other))
    assert [s["step"] for s in store.history("lead")] == ["new 1", "new 2", "new 3"]
    assert store.meddle is None
    store.meddle = lambda: other.import_records([*new_history(other)[:2], _with(new_history(other)[2], "newer 3")])
    assert [r.snapshot["step"] for r in store.history_page("lead", after_version=1, limit=2)] == ["new 2", "newer 3"]
    assert store.meddle is None
    store.close()
    other.close()


@pytest.mark.parametrize("read", READS)
def test_file_history_racing_a_delete_is_not_found_not_partial(tmp_path: Path, read: str) -> None:
    store = MeddlingFile(tmp_path, fsync=False)
    fill(store)
    other = FileStore(tmp_path, fsync=False)
    store.meddle = lambda: other.delete("lead")
    with pytest.raises(SnapshotNotFoundError):
        READS[read](store)
    assert store.meddle is None


def test_to_frame_racing_a_delete_leaves_the_execution_out(tmp_path: Path) -> None:
    store = MeddlingParquet(tmp_path, fsync=False)
    fill(store)
    other = ParquetStore(tmp_path, fsync=False)
    store.meddle = lambda: other.delete("lead")
    frame = store.to_frame()
    assert store.meddle is None  # deleted between listing the log and reading it
    assert list(frame["execution_id"]) == ["kept"]
    store.close()
    other.close()


def test_to_frame_racing_an_import_reads_the_new_history(tmp_path: Path) -> None:
    store = MeddlingParquet(tmp_path, fsync=False)
    fill(store)
    other = ParquetStore(tmp_path, fsync=False)
    store.meddle = lambda: other.import_records(new_history(other))
    frame = store.to_frame()
    assert store.meddle is None
    lead = frame[frame["execution_id"] == "lead"]
    assert [v for v in lead["version"]] == [1, 2, 3] and all('"new ' in s for s in lead["snapshot"])
    store.close()
    other.close()


def test_to_frame_while_a_thread_deletes_executions(tmp_path: Path) -> None:
    """A real deleter: each frame holds every version of the executions it holds (none cut), never an error."""
    store = ParquetStore(tmp_path, fsync=False)
    ids = [f"e{n:03d}" for n in range(60)]
    for eid in ids:
        for step in (1, 2):
            store.save({"execution_id": eid, "step": step})
    deleter_store = ParquetStore(tmp_path, fsync=False)
    done = threading.Event()

    def delete_all() -> None:
        try:
            for eid in ids:
                deleter_store.delete(eid)
        finally:
            done.set()

    deleter = threading.Thread(target=delete_all, daemon=True)
    deleter.start()
    frames = 0
    while not done.is_set() and frames < 500:
        frame = store.to_frame()
        counts = frame.groupby("execution_id")["version"].count()
        assert set(counts) <= {2}, counts[counts != 2]
        frames += 1
    deleter.join(timeout=60)
    assert not deleter.is_alive()
    assert len(store.to_frame()) == 0
    store.close()
    deleter_store.close()


def test_file_history_with_a_version_file_removed_by_hand_names_it(tmp_path: Path) -> None:
    """Not a race: the execution is still there, so a missing version is a StoreError naming its file."""
    store = FileStore(tmp_path, fsync=False)
    fill(store)
    (tmp_path / "executions" / "lead" / "v000000002.json").unlink()
    with pytest.raises(StoreError, match=r"v000000002\.json is missing") as caught:
        store.history("lead")
    assert not isinstance(caught.value, SnapshotNotFoundError)


def test_parquet_history_of_a_folder_removed_by_hand_names_it(tmp_path: Path) -> None:
    import shutil

    store = ParquetStore(tmp_path, fsync=False)
    fill(store)
    shutil.rmtree(tmp_path / "lead")
    with pytest.raises(StoreError, match=r"folder .*lead is missing .*rebuild_index") as caught:
        store.history("lead")
    assert not isinstance(caught.value, SnapshotNotFoundError)
    store.close()


def _saved_anew(store: FileStore, versions: int) -> Callable[[], None]:
    """Another process's delete of ``lead``, then a new ``lead`` saved ``versions`` times."""
    def meddle() -> None:
        store.delete("lead")
        for v in range(1, versions + 1):
            store.save({"execution_id": "lead", "step": f"new {v}"})
    return meddle


@pytest.mark.parametrize("versions", [1, 3, 4])
@pytest.mark.parametrize("read", READS)
def test_file_history_racing_a_delete_and_a_new_save_is_the_new_history_whole(tmp_path: Path, read: str,
                                                                              versions: int) -> None:
    """A delete then a new execution under the same id, while the old one's history is read: with fewer versions
    the read met a missing file and blamed a hand removal (a ``StoreError``); with as many or more it returned the
    old first version followed by the new ones, with no error. Now the new execution's history, whole."""
    store = MeddlingFile(tmp_path, fsync=False)
    fill(store)
    store.meddle = _saved_anew(FileStore(tmp_path, fsync=False), versions)
    steps = [(r if isinstance(r, dict) else r.snapshot)["step"] for r in READS[read](store)]
    assert store.meddle is None  # the delete and the saves ran in the middle of the read
    shown = min(versions, 3) if read == "history_page" else versions  # (the page reads at most 3)
    assert steps == [f"new {v}" for v in range(1, shown + 1)]


def test_file_history_replaced_at_every_read_is_a_store_error_saying_so(tmp_path: Path) -> None:
    """Replaced again at every attempt: reported after a few attempts instead of read for ever."""
    class AlwaysMeddling(FileStore):
        def _read_envelope(self, path: Path) -> dict[str, Any] | None:
            found = super()._read_envelope(path)
            if path.name == "v000000001.json":
                _saved_anew(other, 2)()
            return found

    other = FileStore(tmp_path, fsync=False)
    store = AlwaysMeddling(tmp_path, fsync=False)
    fill(other)
    with pytest.raises(StoreError, match="deleted and saved again 5 times while its history was read"):
        store.history_records("lead")
