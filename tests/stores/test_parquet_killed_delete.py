"""A ``ParquetStore.delete`` killed (SIGKILL) halfway is finished by the next opening: the execution is gone from
the index and from the log analysts read (``to_frame``), and a new execution of that id starts at version 1. The
index rows went first, so a kill before the folder moved left a log that still held the execution, which a new
save of the id then wrote over (or, since the index adopts unknown version files, continued)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from igniter_nb.stores.parquet import ParquetStore

ROOT = Path(__file__).resolve().parents[2]

# Deletes execution "lead" and SIGKILLs itself when the delete moves the execution's folder (before or after).
KILLED_DELETE = """
import os, signal, sys
from igniter_nb.stores.parquet import ParquetStore
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
ParquetStore(root, fsync=False).delete("lead")
"""


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_delete_killed_around_the_folder_move_is_finished_by_the_next_opening(tmp_path: Path, when: str) -> None:
    store = ParquetStore(tmp_path, fsync=False)
    for step in (1, 2):
        store.save({"execution_id": "lead", "step": step}, graph="Lead", correlation={"k": 1}, status="waiting")
    store.save({"execution_id": "kept", "step": 1})
    store.close()
    killed = subprocess.run([sys.executable, "-c", KILLED_DELETE, str(tmp_path), when], cwd=ROOT, timeout=60,
                            capture_output=True, text=True, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    store = ParquetStore(tmp_path, fsync=False)
    assert not (tmp_path / ".trash").exists() or list((tmp_path / ".trash").iterdir()) == []  # deleted data goes
    assert not store.exists("lead") and store.find_by_correlation("Lead", {"k": 1}) is None
    assert set(store.to_frame()["execution_id"]) == {"kept"}
    assert store.save({"execution_id": "lead", "step": "new"}) == 1
    assert store.history("lead") == [{"execution_id": "lead", "step": "new"}]
    assert store.fetch("kept") == {"execution_id": "kept", "step": 1}
    store.close()
