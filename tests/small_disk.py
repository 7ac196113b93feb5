"""Running a check on a small, full disk: a child process with its own mount namespace (``unshare --mount
--map-root-user``, no root needed where user namespaces are allowed) mounts a tmpfs and fills it, so a real ENOSPC
hits the code under test. ``FILL`` is the child's snippet that fills ``mount`` (leaving ``handle`` closed), ``OUTCOME``
its ``outcome(call)`` that reports how a call failed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

FILL = '''
filler = os.path.join(mount, "filler")
handle = open(filler, "ab", buffering=0)
for size in (65536, 4096, 512, 1):
    try:
        while True:
            handle.write(b"\\0" * size)
    except OSError:
        pass
handle.close()
'''

# The child's function that runs a call expected to fail: the error's class, whether it is a StoreError, its message.
OUTCOME = '''
def outcome(call):
    from igniter_nb.errors import StoreError
    try:
        call()
    except Exception as exc:
        return {"error": type(exc).__name__, "is_store_error": isinstance(exc, StoreError), "message": str(exc)}
    return {"error": None}
'''

needs_unshare = pytest.mark.skipif(shutil.which("unshare") is None,
                                   reason="needs util-linux's unshare to mount a small tmpfs")


def run_on_small_disk(child: str, tmp_path: Path, size: str = "2m") -> Any:
    """Run ``child`` (Python; ``mount`` is the mounted tmpfs, ``os`` imported) and return the JSON it prints last."""
    mount = tmp_path / "small"
    mount.mkdir()
    script = ("import json, os, subprocess, sys\nmount = sys.argv[1]\n"
              f"subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size={size}', 'tmpfs', mount], check=True)\n" + child)
    done = subprocess.run(["unshare", "--mount", "--map-root-user", sys.executable, "-c", script, str(mount)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_store_error(result: Any, *parts: str) -> None:
    """The child's ``outcome`` was a ``StoreError`` whose message holds every one of ``parts``."""
    assert result["is_store_error"] is True, result
    for part in parts:
        assert part in result["message"], result
