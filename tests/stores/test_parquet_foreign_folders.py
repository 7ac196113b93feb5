"""A ``ParquetStore`` keeps each execution in ``<root>/<execution id>/``, beside whatever else the directory holds
(``export_parquet(store, ".")``, ``parquet://.``). Deleting or re-exporting an execution removed the folder of
that name whatever was in it: ``store.delete("notes")`` threw away ``notes/todo.txt``. Only a folder of version
files is an execution's; any other is left alone with a ``StoreError`` naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from igniter_nb.errors import StoreError
from igniter_nb.stores import MemoryStore
from igniter_nb.stores.parquet import ParquetStore, export_parquet


def _notes(root: Path) -> Path:
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "todo.txt").write_text("mine\n")
    return root / "notes" / "todo.txt"


def test_delete_leaves_a_folder_that_is_not_an_executions_alone(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path, fsync=False)
    todo = _notes(tmp_path)
    with pytest.raises(StoreError, match=r"notes.*todo\.txt"):
        store.delete("notes")
    assert todo.read_text() == "mine\n"
    store.close()


def test_a_version_folder_with_a_foreign_file_is_left_whole(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path, fsync=False)
    store.save({"execution_id": "notes", "step": 1})
    (tmp_path / "notes" / "todo.txt").write_text("mine\n")
    with pytest.raises(StoreError, match=r"todo\.txt"):
        store.delete("notes")
    assert (tmp_path / "notes" / "todo.txt").read_text() == "mine\n"
    assert store.fetch("notes") == {"execution_id": "notes", "step": 1}  # not deleted either
    store.close()


def test_export_does_not_replace_a_folder_that_is_not_an_executions(tmp_path: Path) -> None:
    source = MemoryStore()
    source.save({"execution_id": "notes", "step": 1})
    todo = _notes(tmp_path / "out")
    with pytest.raises(StoreError, match="notes"):
        export_parquet(source, tmp_path / "out")
    assert todo.read_text() == "mine\n"


def test_delete_still_removes_an_executions_folder(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path, fsync=False)
    store.save({"execution_id": "notes", "step": 1})
    store.save({"execution_id": "notes", "step": 2})
    (tmp_path / "notes" / ".tmp-v000000003.parquet-0123").write_bytes(b"torn")  # a killed writer's leftover
    assert store.delete("notes") is True
    assert not (tmp_path / "notes").exists() and not store.exists("notes")
    store.close()
