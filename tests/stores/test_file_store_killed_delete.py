"""A ``FileStore.delete`` killed (SIGKILL) halfway leaves the execution either stored and found by its correlation,
or gone — never stored, still active, but unknown to the correlation index (a second workflow with the same
correlation could then start beside it)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from igniter_nb.errors import DuplicateWorkflowError
from igniter_nb.stores.file import FileStore

ROOT = Path(__file__).resolve().parents[2]

# Deletes execution "lead" and SIGKILLs itself when the delete moves the execution's folder (before or after).
KILLED_DELETE = """
import os, signal, sys
from igniter_nb.stores.file import FileStore
root, when = sys.argv[1], sys.argv[2]
real = os.replace
def replace(src, dst, *args, **kwargs):
    if os.path.basename(os.fspath(src)) != "lead":
        return real(src, dst, *args, **kwargs)
    if when == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
FileStore(root, fsync=False).delete("lead")
"""


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_delete_killed_around_the_folder_move_leaves_the_index_true(tmp_path: Path, when: str) -> None:
    store = FileStore(tmp_path, fsync=False)
    store.save({"execution_id": "lead", "step": 1}, graph="Lead", correlation={"k": 1}, status="waiting")
    killed = subprocess.run([sys.executable, "-c", KILLED_DELETE, str(tmp_path), when], cwd=ROOT, timeout=60,
                            capture_output=True, text=True, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

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
