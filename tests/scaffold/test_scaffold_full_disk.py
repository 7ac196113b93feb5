"""`igniter-nb new` on a full disk: nothing kept, exit code 2, and the one-line error names the file whose write
failed — it said only `[Errno 28] No space left on device`. Run in a child process with its own mount namespace
on a small tmpfs, as tests/stores/test_disk_full.py does."""

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
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount], check=True)
filler = os.path.join(mount, "filler")
handle = open(filler, "ab", buffering=0)
for size in (65536, 4096, 512, 1):
    try:
        while True:
            handle.write(b"\0" * size)
    except OSError:
        pass
handle.close()
os.truncate(filler, os.path.getsize(filler) - 6000)  # room for a file or two, not for all of them
out = []
for args in (["new", "contract", "Lead", "--inputs", "a", "--dir", mount], ["new", "project", "shop", "--dir", mount]):
    done = subprocess.run([sys.executable, "-m", "igniter_nb.cli", *args], capture_output=True, text=True, timeout=60)
    out.append({"code": done.returncode, "err": done.stderr, "left": sorted(os.listdir(mount))})
print(json.dumps(out))
'''


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux's unshare to mount a small tmpfs")
def test_a_full_disk_names_the_file_that_could_not_be_written(tmp_path: Path) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["unshare", "--mount", "--map-root-user", sys.executable, "-c", _CHILD, str(mount)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    for case in json.loads(done.stdout.strip().splitlines()[-1]):
        assert case["code"] == 2 and case["left"] == ["filler"], case
        (line,) = case["err"].splitlines()
        assert line.startswith("igniter-nb new: error: writing failed and nothing was kept: "), line
        assert "No space left on device" in line and f"{mount}/" in line, line
