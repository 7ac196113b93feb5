"""``export_parquet`` into a full disk: a ``StoreError`` naming the store and the execution — it was a bare
``OSError`` — and the execution it was replacing keeps its old history whole. Run in a child process with its own
mount namespace on a small tmpfs, as ``test_disk_full.py`` does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_CHILD = r'''
import json, os, subprocess, sys
mount = sys.argv[1]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mount], check=True)
from igniter_nb.errors import StoreError
from igniter_nb.stores import MemoryStore, ParquetStore, export_parquet
root = os.path.join(mount, "audit")
source = MemoryStore()
source.save({"execution_id": "ex-1", "n": 1})
export_parquet(source, root)
for n in range(2, 40):  # a history too big for what is left
    source.save({"execution_id": "ex-1", "n": n, "blob": os.urandom(40_000).hex()})
handle = open(os.path.join(mount, "filler"), "ab", buffering=0)
try:
    handle.write(b"\0" * 1_000_000)
except OSError:
    pass
handle.close()
result = {}
try:
    export_parquet(source, root)
    result["error"] = None
except Exception as exc:
    result.update(error=type(exc).__name__, is_store_error=isinstance(exc, StoreError), message=str(exc))
store = ParquetStore(root)
result["history"] = [s["n"] for s in store.history("ex-1")]
result["left"] = sorted(os.listdir(root))
print(json.dumps(result))
'''


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux's unshare to mount a small tmpfs")
def test_an_export_into_a_full_disk_is_a_store_error_and_keeps_the_old_copy(tmp_path: Path) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["unshare", "--mount", "--map-root-user", sys.executable, "-c", _CHILD, str(mount)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["is_store_error"] is True, result
    assert "could not import execution 'ex-1'" in result["message"] and "ParquetStore(" in result["message"], result
    assert result["history"] == [1], result
    assert ".igniter-import" not in result["left"], result
