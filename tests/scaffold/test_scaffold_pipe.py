"""`igniter-nb new … | head -1`, or any reader of its output that goes away first: the files are written, then the
report of them meets a closed pipe. That ended in a BrokenPipeError traceback and exit code 1. It must end as Unix
tools end on a closed pipe — no traceback, exit code 141 (128 + SIGPIPE) — with every file written whole."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_reader_gone_before_the_report_ends_the_command_quietly(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-m", "igniter_nb.cli", "new", "contract", "PipedLead", "--inputs", "a"],
                             cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # the only reader: every write the child makes now meets a closed pipe
    try:
        err = child.stderr.read().decode()
        code = child.wait(timeout=60)
    finally:
        child.kill()
        child.stderr.close()
    assert code == 141 and err == "", (code, err)
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == ["piped_lead.ipynb", "piped_lead.py", "test_piped_lead.py"]
    compile((tmp_path / "piped_lead.py").read_text(), "piped_lead.py", "exec")  # whole, not cut off
