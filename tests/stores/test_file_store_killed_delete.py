"""A ``FileStore.delete`` killed (SIGKILL) halfway leaves the execution either stored and found by its correlation,
or gone — never stored, still active, but unknown to the correlation index (a second workflow with the same
correlation could then start beside it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from igniter_nb.errors import DuplicateWorkflowError
from igniter_nb.stores.file import FileStore
from tests.stores.killed_delete import kill_a_delete


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_delete_killed_around_the_folder_move_leaves_the_index_true(tmp_path: Path, when: str) -> None:
    store = FileStore(tmp_path, fsync=False)
    store.save({"execution_id": "lead", "step": 1}, graph="Lead", correlation={"k": 1}, status="waiting")
    kill_a_delete(tmp_path, when, "file")

    if store.exists("lead"):
        assert store.find_by_correlation("Lead", {"k": 1}) == "lead"
        with pytest.raises(DuplicateWorkflowError):
            store.save({"execution_id": "other"}, graph="Lead", correlation={"k": 1}, status="waiting")
    else:
        assert store.find_by_correlation("Lead", {"k": 1}) is None
        assert store.find_latest_by_correlation("Lead", {"k": 1}) is None
        assert store.save({"execution_id": "other"}, graph="Lead", correlation={"k": 1}, status="waiting") == 1
    assert when == "after" or store.exists("lead")  # killed before the move: nothing was deleted
    FileStore(tmp_path, fsync=False)  # an opening empties the trash a killed delete left: deleted data goes
    assert list((tmp_path / "trash").iterdir()) == []


def test_an_opening_keeps_what_a_trash_folder_held_before_the_store(tmp_path: Path) -> None:
    (tmp_path / "trash" / "photos").mkdir(parents=True)  # a directory given to a FileStore that had a trash/ of its own
    (tmp_path / "trash" / "photos" / "cat.jpg").write_bytes(b"\xff\xd8")
    (tmp_path / "trash" / "notes.0123456789abcdef0123456789abcdef").write_text("mine\n")  # a name like a leftover's
    FileStore(tmp_path, fsync=False).save({"execution_id": "lead"})
    FileStore(tmp_path, fsync=False).delete("lead")
    FileStore(tmp_path, fsync=False)
    assert sorted(p.name for p in (tmp_path / "trash").iterdir()) == ["notes.0123456789abcdef0123456789abcdef", "photos"]
    assert (tmp_path / "trash" / "photos" / "cat.jpg").read_bytes() == b"\xff\xd8"
