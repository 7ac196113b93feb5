"""One execution folder that cannot be moved (``EBUSY``: a mount point, a folder a network share or another
program holds) must not block the rest of a ``ParquetStore``.

A delete that could not move the folder has not happened: it raises a ``StoreError`` naming the folder and the
execution stays whole and readable. A delete killed after noting its intent, whose folder became unmovable
before the next writer could finish it, is left pending (the execution reads as not found, as a begun delete
does) while every other execution opens, saves and deletes as usual; saving to that execution names the
pending delete; once the folder can move, the next writer finishes the delete.

Each case runs in a child process with its own mount namespace (``unshare --mount --map-root-user``): a folder
bind-mounted onto itself is a mount point, which ``rename(2)`` refuses with ``EBUSY``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The bind mount is taken off with retries: on a loaded host ``umount`` once failed with "target is busy" (a file
# of the folder not yet closed by a worker thread); after 5 s of retries it is detached lazily (``-l``), which
# the cases' assertions do not depend on.
UNMOUNT = r'''
import gc as _gc, subprocess as _subprocess, time as _time
def unmount(path):
    _gc.collect()
    for _ in range(50):
        if _subprocess.run(["umount", str(path)], capture_output=True).returncode == 0:
            return
        _time.sleep(0.1)
    _subprocess.run(["umount", "-l", str(path)], check=True)
'''

_CHILD = UNMOUNT + r'''
import json, logging, subprocess, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
warned = []
class Count(logging.Handler):
    def emit(self, record):
        warned.append(record.getMessage())
logging.getLogger("igniter_nb.stores.parquet").addHandler(Count(logging.WARNING))
from igniter_nb.errors import SnapshotNotFoundError, StoreError
from igniter_nb.stores import ParquetStore
case, root = sys.argv[1], Path(sys.argv[2])
subprocess.run(["mount", "--bind", str(root / "ex-a"), str(root / "ex-a")], check=True)
found = {}

def attempt(name, call):
    try:
        found[name] = {"ok": call()}
    except (StoreError, SnapshotNotFoundError) as exc:
        found[name] = {"error": type(exc).__name__, "message": str(exc)}

attempt("open", lambda: ParquetStore(root, fsync=False) and True)
store = ParquetStore(root, fsync=False) if "error" not in found["open"] else None
if store is not None:
    if case == "delete":
        attempt("delete_a", lambda: store.delete("ex-a"))
    attempt("read_a", lambda: store.record("ex-a").version)
    attempt("save_b", lambda: store.save({"execution_id": "ex-b", "n": 2}, expected_version=1))
    attempt("read_b", lambda: store.record("ex-b").snapshot["n"])
    attempt("save_c", lambda: store.save({"execution_id": "ex-c", "n": 1}, expected_version=0))
    attempt("delete_c", lambda: store.delete("ex-c"))
    attempt("save_a", lambda: store.save({"execution_id": "ex-a", "n": 2}, expected_version=1))
    attempt("listed", lambda: sorted(r.execution_id for r in store.list()))
    attempt("rebuild", lambda: store.rebuild_index())
    found["warned"] = sum("left pending" in m for m in warned)
    unmount(root / "ex-a")
    attempt("reopen", lambda: sorted(r.execution_id for r in ParquetStore(root, fsync=False).list()))
print(json.dumps(found))
'''


def in_namespace(case: str, root: Path) -> dict[str, Any]:
    child = subprocess.Popen(["unshare", "--mount", "--map-root-user", sys.executable, "-c", _CHILD, case, str(root),
                              str(ROOT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        out, err = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        raise
    assert child.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def filled(tmp_path: Path) -> Path:
    from igniter_nb.stores import ParquetStore

    root = tmp_path / "log"
    store = ParquetStore(root, fsync=False)
    store.save({"execution_id": "ex-a", "n": 1}, expected_version=0)
    store.save({"execution_id": "ex-b", "n": 1}, expected_version=0)
    store.close()
    return root


needs_unshare = pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux's unshare")


@needs_unshare
def test_a_delete_that_cannot_move_the_folder_leaves_the_execution_whole_and_blocks_nothing(tmp_path: Path) -> None:
    root = filled(tmp_path)
    found = in_namespace("delete", root)
    assert found["delete_a"]["error"] == "StoreError"
    message = found["delete_a"]["message"]
    assert "ex-a" in message and str(root / "ex-a") in message and "busy" in message.lower(), message
    assert found["read_a"] == {"ok": 1}  # not deleted: still there, whole
    assert found["save_b"] == {"ok": 2} and found["read_b"] == {"ok": 2}
    assert found["save_c"] == {"ok": 1} and found["delete_c"] == {"ok": True}
    assert found["save_a"] == {"ok": 2}
    assert found["listed"] == {"ok": ["ex-a", "ex-b"]}
    assert found["rebuild"] == {"ok": None}
    assert found["reopen"] == {"ok": ["ex-a", "ex-b"]}


@needs_unshare
def test_a_begun_delete_of_a_busy_folder_waits_while_the_rest_of_the_store_works(tmp_path: Path) -> None:
    root = filled(tmp_path)
    with sqlite3.connect(root / "_index.sqlite") as db:  # what a delete killed right after noting its intent leaves
        db.execute("INSERT INTO intents VALUES ('ex-a', 0)")
    found = in_namespace("begun", root)
    assert found["open"] == {"ok": True}, found["open"]
    assert found["read_a"]["error"] == "SnapshotNotFoundError"  # a begun delete reads as not found
    assert found["save_b"] == {"ok": 2} and found["read_b"] == {"ok": 2}
    assert found["save_c"] == {"ok": 1} and found["delete_c"] == {"ok": True}
    assert found["save_a"]["error"] == "StoreError"
    message = found["save_a"]["message"]
    assert "ex-a" in message and str(root / "ex-a") in message and "delete" in message, message
    assert found["listed"] == {"ok": ["ex-b"]}
    assert found["warned"] == 2  # once by each store object (the opening's and the one used), not on every save
    assert found["rebuild"]["error"] == "StoreError" and "ex-a" in found["rebuild"]["message"]  # would drop it
    assert found["reopen"] == {"ok": ["ex-b"]}  # once it could move, the next writer finished the delete
    assert not (root / "ex-a").exists()


_FILE_CHILD = r'''
import json, subprocess, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from igniter_nb.errors import StoreError
from igniter_nb.stores import FileStore
root = Path(sys.argv[1])
store = FileStore(root, fsync=False)
folder = store._executions / "ex-a"
subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
found = {"folder": str(folder)}
try:
    store.delete("ex-a")
    found["delete"] = "deleted"
except StoreError as exc:
    found["delete"] = str(exc)
found["read_a"] = store.record("ex-a").version
found["save_b"] = store.save({"execution_id": "ex-b", "n": 2}, expected_version=1)
print(json.dumps(found))
'''


@needs_unshare
def test_a_file_store_delete_that_cannot_move_the_folder_is_a_store_error_and_deletes_nothing(tmp_path: Path) -> None:
    from igniter_nb.stores import FileStore

    root = tmp_path / "files"
    store = FileStore(root, fsync=False)
    store.save({"execution_id": "ex-a", "n": 1}, expected_version=0)
    store.save({"execution_id": "ex-b", "n": 1}, expected_version=0)
    child = subprocess.run(["unshare", "--mount", "--map-root-user", sys.executable, "-c", _FILE_CHILD, str(root),
                            str(ROOT)], capture_output=True, text=True, timeout=60)
    assert child.returncode == 0, child.stderr[-3000:]
    found = json.loads(child.stdout.strip().splitlines()[-1])
    assert "ex-a" in found["delete"] and found["folder"] in found["delete"] and "busy" in found["delete"].lower()
    assert found["read_a"] == 1 and found["save_b"] == 2
