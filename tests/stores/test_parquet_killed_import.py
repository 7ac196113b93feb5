"""An import (``export_parquet``, ``ParquetStore.import_records``) killed (SIGKILL) halfway through an execution it
replaces leaves that execution's history whole — the old one or the new one, never a mix or a cut: the old copy was
removed first and the new versions appended one by one, so a kill left the first few new versions as the whole
history. The new versions are now written aside and swapped in at once."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from igniter_nb.stores.base import StoredExecution
from igniter_nb.stores.parquet import ParquetStore

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)

# Imports a new history of "ex" (4 versions) and "other", SIGKILLing itself at the 2nd parquet file written
# ("writing") or when the new history of "ex" is moved into place ("swapping").
KILLED_IMPORT = """
import datetime as dt, os, signal, sys
import pyarrow.parquet as pq
from igniter_nb.stores.base import StoredExecution
from igniter_nb.stores.parquet import ParquetStore
root, when = sys.argv[1], sys.argv[2]
writes = 0
real_write, real_replace = pq.write_table, os.replace
def write_table(*args, **kwargs):
    global writes
    writes += 1
    if when == "writing" and writes == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return real_write(*args, **kwargs)
def replace(src, dst, *args, **kwargs):
    if when == "swapping" and os.fspath(dst) == os.path.join(root, "ex"):
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *args, **kwargs)
pq.write_table, os.replace = write_table, replace
now = dt.datetime(2026, 12, 5, 1, tzinfo=dt.UTC)
records = [StoredExecution("ex", {"step": f"new-{n}"}, n, "G", {"k": 1}, "waiting", now) for n in (1, 2, 3, 4)]
records.append(StoredExecution("other", {"step": "x"}, 1, "G", None, "running", now))
ParquetStore(root, fsync=False).import_records(records)
"""


@pytest.mark.parametrize(("when", "expected"), [("writing", ["old-1", "old-2", "old-3"]),
                                                ("swapping", ["new-1", "new-2", "new-3", "new-4"])])
def test_an_import_killed_halfway_leaves_each_history_whole(tmp_path: Path, when: str, expected: list[str]) -> None:
    store = ParquetStore(tmp_path, fsync=False)
    store.import_records([StoredExecution("ex", {"step": f"old-{n}"}, n, "G", {"k": 1}, "waiting", NOW)
                          for n in (1, 2, 3)])
    store.close()
    killed = subprocess.run([sys.executable, "-c", KILLED_IMPORT, str(tmp_path), when], cwd=ROOT, timeout=60,
                            capture_output=True, text=True, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    store = ParquetStore(tmp_path, fsync=False)
    assert [s["step"] for s in store.history("ex")] == expected
    assert store.record("ex").version == len(expected)
    assert store.find_by_correlation("G", {"k": 1}) == "ex"
    frame = store.to_frame()
    assert sorted(frame[frame["execution_id"] == "ex"]["version"]) == list(range(1, len(expected) + 1))
    assert not (tmp_path / ".igniter-import").exists()  # what was written aside is swapped in or removed
    store.close()
