"""``ParquetStore.delete`` on a full disk: a ``StoreError`` naming the store, the execution and the index — it was
a bare ``sqlite3.OperationalError`` — the execution still whole, and the delete works once there is room again.
Run in a child process with its own mount namespace on a small tmpfs, as ``test_disk_full.py`` does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_CHILD = r'''
import json, os, subprocess, sys
mount = sys.argv[1]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mount], check=True)
from igniter_nb.errors import StoreError
from igniter_nb.stores import ParquetStore
root = os.path.join(mount, "log")
store = ParquetStore(root, fsync=False)
store.save({"execution_id": "ex-1", "n": 1}, graph="G", correlation={"k": 1}, status="waiting")
filler = os.path.join(mount, "filler")
handle = open(filler, "ab", buffering=0)
for size in (65536, 4096, 512, 1):
    try:
        while True:
            handle.write(b"\0" * size)
    except OSError:
        pass
result = {}
try:
    store.delete("ex-1")
    result["error"] = None
except Exception as exc:
    result.update(error=type(exc).__name__, is_store_error=isinstance(exc, StoreError), message=str(exc))
result["still"] = store.fetch("ex-1") if store.exists("ex-1") else None
handle.close()
os.remove(filler)  # room again
result["deleted"] = store.delete("ex-1")
result["gone"] = not store.exists("ex-1") and store.find_by_correlation("G", {"k": 1}) is None
print(json.dumps(result))
'''


def test_a_delete_on_a_full_disk_is_a_store_error_and_works_once_there_is_room(tmp_path: Path) -> None:
    unshare = shutil.which("unshare")
    assert unshare, "util-linux's unshare is needed to mount a small tmpfs for this test"
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run([unshare, "--mount", "--map-root-user", sys.executable, "-c", _CHILD, str(mount)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["is_store_error"] is True, result
    assert "could not delete execution 'ex-1'" in result["message"] and "ParquetStore(" in result["message"], result
    assert "_index.sqlite" in result["message"], result
    assert result["still"] == {"execution_id": "ex-1", "n": 1}, result
    assert result["deleted"] is True and result["gone"] is True, result
