"""A child process that deletes execution ``lead`` from a file or parquet store and SIGKILLs itself when the delete
moves the execution's folder: just ``before`` the move or just ``after`` it (shared by the killed-delete tests)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_CHILD = """
import os, signal, sys
from igniter_nb.stores import FileStore, ParquetStore
root, when, kind = sys.argv[1], sys.argv[2], sys.argv[3]
real = os.replace
def replace(src, dst, *args, **kwargs):
    if os.path.basename(os.fspath(src)) != "lead":
        return real(src, dst, *args, **kwargs)
    if when == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
(FileStore if kind == "file" else ParquetStore)(root, fsync=False).delete("lead")
"""


def kill_a_delete(root: Path, when: str, kind: str) -> None:
    """Run the child on ``root``; it must end killed."""
    killed = subprocess.run([sys.executable, "-c", _CHILD, str(root), when, kind], cwd=ROOT, timeout=60,
                            capture_output=True, text=True, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
