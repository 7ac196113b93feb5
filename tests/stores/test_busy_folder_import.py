"""``ParquetStore.import_records`` over an execution whose folder cannot be moved (``EBUSY``: a mount point).

The swap raised the bare internal ``Unmovable`` (no ``StoreError``), leaving its import intent behind; when that
execution also had a delete pending (a killed delete whose folder became busy), the import went ahead and its
left-over intent, finished first once the folder could move, dropped the pending delete with it: the deleted
execution came back. Now the import is a ``StoreError`` saying nothing was imported for it, leaves no intent, and
refuses an execution whose delete is pending, which the next writer still finishes.

Runs in a child process with its own mount namespace, as ``test_busy_folder.py``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.stores.test_busy_folder import UNMOUNT, filled, needs_unshare

_CHILD = UNMOUNT + r'''
import datetime as dt, json, subprocess, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from igniter_nb.errors import SnapshotNotFoundError, StoreError
from igniter_nb.stores import ParquetStore
from igniter_nb.stores.base import StoredExecution
case, root = sys.argv[1], Path(sys.argv[2])
subprocess.run(["mount", "--bind", str(root / "ex-a"), str(root / "ex-a")], check=True)
found = {}

def attempt(name, call):
    try:
        found[name] = {"ok": call()}
    except (StoreError, SnapshotNotFoundError) as exc:
        found[name] = {"error": type(exc).__name__, "message": str(exc)}
    except Exception as exc:
        found[name] = {"error": type(exc).__name__, "message": str(exc), "bare": True}

def rec(eid, version, n):
    return StoredExecution(eid, {"execution_id": eid, "n": n}, version, None, None, None,
                           dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))

store = ParquetStore(root, fsync=False)
attempt("import", lambda: store.import_records([rec("ex-a", 1, 10), rec("ex-a", 2, 20)]))
attempt("read_a", lambda: store.record("ex-a").snapshot["n"])
attempt("save_b", lambda: store.save({"execution_id": "ex-b", "n": 2}, expected_version=1))
unmount(root / "ex-a")
attempt("reopen", lambda: sorted(r.execution_id for r in ParquetStore(root, fsync=False).list()))
attempt("read_a_after", lambda: ParquetStore(root, fsync=False).record("ex-a").snapshot["n"])
print(json.dumps(found))
'''


def _run(case: str, root: Path) -> dict:
    import tests.stores.test_busy_folder as busy

    saved = busy._CHILD
    busy._CHILD = _CHILD
    try:
        return busy.in_namespace(case, root)
    finally:
        busy._CHILD = saved


@needs_unshare
def test_an_import_over_a_busy_folder_is_a_store_error_and_imports_nothing_for_it(tmp_path: Path) -> None:
    root = filled(tmp_path)
    found = _run("import", root)
    assert found["import"]["error"] == "StoreError", found["import"]
    message = found["import"]["message"]
    assert "ex-a" in message and str(root / "ex-a") in message and "nothing was imported" in message, message
    assert found["read_a"] == {"ok": 1}  # its history as before
    assert found["save_b"] == {"ok": 2}
    assert found["reopen"] == {"ok": ["ex-a", "ex-b"]} and found["read_a_after"] == {"ok": 1}
    with sqlite3.connect(root / "_index.sqlite") as db:
        assert db.execute("SELECT * FROM intents").fetchall() == []


@needs_unshare
def test_an_import_does_not_undo_a_pending_delete(tmp_path: Path) -> None:
    root = filled(tmp_path)
    with sqlite3.connect(root / "_index.sqlite") as db:  # a delete killed right after noting its intent
        db.execute("INSERT INTO intents VALUES ('ex-a', 0)")
    found = _run("import", root)
    assert found["import"]["error"] == "StoreError", found["import"]
    assert "ex-a" in found["import"]["message"] and "delete" in found["import"]["message"], found["import"]
    assert found["read_a"]["error"] == "SnapshotNotFoundError"  # a begun delete reads as not found
    assert found["save_b"] == {"ok": 2}
    assert found["reopen"] == {"ok": ["ex-b"]}  # the delete was finished, not undone
    assert found["read_a_after"]["error"] == "SnapshotNotFoundError"
    assert not (root / "ex-a").exists()


