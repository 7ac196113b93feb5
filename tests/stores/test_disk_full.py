"""A full disk while saving (issue 11 point 17): the file, SQLite and parquet stores raise a ``StoreError`` naming
the store and the path — never a raw ``OSError``/``OperationalError`` — and stay consistent: the last
acknowledged version is what reads back, the whole history parses, and once there is room again the next
compare-and-set save succeeds.

Each case runs in a child process with its own mount namespace (``unshare --mount --map-root-user``, no root
needed where user namespaces are allowed) on a 3 MiB tmpfs, so a real ENOSPC hits the store's own writes. A
full Redis (``maxmemory``) refuses the save script whole: tested against its own small server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

_CHILD = r'''
import json, os, subprocess, sys
kind, mount = sys.argv[1], sys.argv[2]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mount], check=True)
filler = os.path.join(mount, "filler")
with open(filler, "wb") as f:
    f.write(b"\0" * 512 * 1024)
from igniter_nb.errors import StoreError
from igniter_nb.stores import FileStore, ParquetStore, SQLStore
store = {"file": lambda: FileStore(os.path.join(mount, "files")),
         "sqlite": lambda: SQLStore(f"sqlite:///{mount}/store.db"),
         "parquet": lambda: ParquetStore(os.path.join(mount, "log"))}[kind]()
acknowledged, error = 0, None
for n in range(1, 200):
    snapshot = {"execution_id": "ex-1", "graph": "G", "n": n, "blob": os.urandom(60_000).hex()}
    try:
        store.save(snapshot, correlation={"k": 1}, status="waiting", expected_version=acknowledged)
    except Exception as exc:
        error = exc
        break
    acknowledged = n
result = {"error_type": type(error).__name__, "is_store_error": isinstance(error, StoreError),
          "message": str(error), "cause": type(error.__cause__).__name__, "acknowledged": acknowledged}
result["fetched"] = store.fetch("ex-1")["n"]
result["history"] = [h["n"] for h in store.history("ex-1")]
result["found"] = store.find_by_correlation("G", {"k": 1})
os.remove(filler)  # room again
store.save({"execution_id": "ex-1", "graph": "G", "n": "after"}, expected_version=acknowledged)
result["after"] = store.fetch("ex-1")["n"]
print(json.dumps(result))
'''


def _run_full(kind: str, tmp_path: Path) -> dict[str, Any]:
    unshare = shutil.which("unshare")
    assert unshare, "util-linux's unshare is needed to mount a small tmpfs for this test"
    mount = tmp_path / "small"
    mount.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([unshare, "--mount", "--map-root-user", sys.executable, "-c", _CHILD, kind, str(mount)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize(("kind", "names"), [("file", "FileStore("), ("sqlite", "SQLStore('sqlite:///"),
                                              ("parquet", "ParquetStore(")])
def test_a_full_disk_is_a_store_error_naming_the_store_and_the_store_stays_consistent(
        kind: str, names: str, tmp_path: Path) -> None:
    result = _run_full(kind, tmp_path)
    assert result["is_store_error"], result
    assert names in result["message"] and str(tmp_path / "small") in result["message"], result["message"]
    assert "could not save execution 'ex-1'" in result["message"]
    assert result["cause"] in ("OSError", "OperationalError", "ArrowException", "ArrowIOError"), result
    assert result["acknowledged"] >= 1
    assert result["fetched"] == result["acknowledged"]  # the last acknowledged version, nothing torn
    assert result["history"] == list(range(1, result["acknowledged"] + 1))
    assert result["found"] == "ex-1"
    assert result["after"] == "after"  # the next compare-and-set save works once there is room


def test_a_full_redis_refuses_the_whole_save(tmp_path: Path) -> None:
    from igniter_nb.errors import StoreError
    from igniter_nb.stores import RedisStore
    from tests.services import RedisServer

    with RedisServer() as server:
        store = RedisStore(server.url, namespace="full")
        store.save({"execution_id": "ex-1", "graph": "G", "n": 1}, correlation={"k": 1}, status="waiting")
        store.client.config_set("maxmemory", store.client.info("memory")["used_memory"] + 64 * 1024)
        store.client.config_set("maxmemory-policy", "noeviction")
        with pytest.raises(StoreError, match=r"RedisStore\(namespace='full'\): the server refused to save execution "
                                             r"'ex-1': .*used memory > 'maxmemory'"):
            for n in range(2, 100):
                store.save({"execution_id": "ex-1", "graph": "G", "n": n, "blob": "x" * 50_000},
                           expected_version=n - 1)
        refused_at = store.record("ex-1").version
        assert store.fetch("ex-1")["n"] == refused_at  # the refused save wrote nothing
        assert [h["n"] for h in store.history("ex-1")] == list(range(1, refused_at + 1))
        store.client.config_set("maxmemory", 0)
        assert store.save({"execution_id": "ex-1", "graph": "G", "n": "after"}, expected_version=refused_at)
        store.close()
