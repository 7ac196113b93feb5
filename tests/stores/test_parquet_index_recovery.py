"""The parquet store's sidecar index is derived data: a rebuild killed halfway, or version files the index does not
know, never make a save overwrite a version already in the log."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from igniter_nb.errors import SnapshotNotFoundError, StoreError
from igniter_nb.stores.parquet import ParquetStore

ROOT = Path(__file__).resolve().parents[2]
EXECUTIONS = 12

# Opens the store (its index file deleted, so it rebuilds the index from the log) and SIGKILLs itself on the 6th
# version file the rebuild reads: a kill -9 in the middle of the rebuild.
KILLED_REBUILD = """
import os, signal, sys
from igniter_nb.stores import parquet
reads = 0
real = parquet.read_version
def read_then_die(*args, **kwargs):
    global reads
    reads += 1
    if reads == 6:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kwargs)
parquet.read_version = read_then_die
parquet.ParquetStore(sys.argv[1], fsync=False)
"""


def _log(root: Path) -> None:
    store = ParquetStore(root, fsync=False)
    for n in range(EXECUTIONS):
        for version in (1, 2):
            store.save({"execution_id": f"ex-{n:02d}", "step": version}, graph="G", correlation={"k": n},
                       status="waiting")
    store.close()


def test_a_rebuild_killed_halfway_is_redone_and_no_version_is_overwritten(tmp_path: Path) -> None:
    root = tmp_path / "log"
    _log(root)
    for sidecar in root.glob("_index.sqlite*"):
        sidecar.unlink()
    killed = subprocess.run([sys.executable, "-c", KILLED_REBUILD, str(root)], cwd=ROOT, timeout=60,
                            capture_output=True, text=True, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    store = ParquetStore(root, fsync=False)
    assert store.count() == EXECUTIONS
    last = f"ex-{EXECUTIONS - 1:02d}"
    assert store.find_by_correlation("G", {"k": EXECUTIONS - 1}) == last
    assert store.save({"execution_id": last, "step": 3}) == 3
    assert [s["step"] for s in store.history(last)] == [1, 2, 3]
    store.close()


def test_version_files_the_index_does_not_know_are_continued_not_overwritten(tmp_path: Path) -> None:
    _log(tmp_path / "a")
    store = ParquetStore(tmp_path / "b", fsync=False)
    shutil.copytree(tmp_path / "a" / "ex-03", tmp_path / "b" / "ex-03")  # copied in without rebuild_index()
    assert store.save({"execution_id": "ex-03", "step": 3}) == 3
    assert [s["step"] for s in store.history("ex-03")] == [1, 2, 3]
    assert store.record("ex-03").graph == "G"  # the log's metadata carried on, as by any save
    store.close()


def test_a_version_file_removed_by_hand_is_a_store_error_naming_it(tmp_path: Path) -> None:
    _log(tmp_path)
    shutil.rmtree(tmp_path / "ex-03")
    store = ParquetStore(tmp_path, fsync=False)
    for read in (store.record, store.fetch):
        with pytest.raises(StoreError, match="rebuild_index") as info:
            read("ex-03")
        assert str(tmp_path / "ex-03" / "v000000002.parquet") in str(info.value)
    store.rebuild_index()
    with pytest.raises(SnapshotNotFoundError):
        store.record("ex-03")
    store.close()


def test_an_index_file_left_empty_by_a_killed_opening_is_rebuilt(tmp_path: Path) -> None:
    # An opening killed after SQLite created the file but before its tables: the file exists, yet indexes nothing.
    _log(tmp_path)
    for sidecar in tmp_path.glob("_index.sqlite*"):
        sidecar.unlink()
    (tmp_path / "_index.sqlite").write_bytes(b"")
    store = ParquetStore(tmp_path, fsync=False)
    assert store.count() == EXECUTIONS
    assert store.save({"execution_id": "ex-00", "step": 3}) == 3
    store.close()
