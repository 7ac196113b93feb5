"""`igniter-nb new` stopped halfway, or started where it cannot write.

1. Killed by SIGTERM (``kill``, a container stopping) or SIGHUP (its terminal closed) while writing, it kept the
   files written so far, where Ctrl-C removed them: now every stop removes them and the directories made for
   them, and the command ends with one line and 128 + the signal's number. The child stops deterministically: an
   audit hook blocks the second file's creation until the signal arrives.
2. Run in a current directory that was removed meanwhile, it said "writing failed ... No such file or directory"
   instead of the cause."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_CHILD = r'''
import os, sys
ready, hold, target = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
created = set()

def hook(event, args):
    if event == "open" and "x" in str(args[1]) and os.fspath(args[0]).startswith(target):
        created.add(os.fspath(args[0]))
        if len(created) == 2:  # the first file is written whole: stop before the second is made
            os.write(ready, b"!")
            os.read(hold, 1)  # nobody writes there: blocks until the signal's handler raises

sys.addaudithook(hook)
from igniter_nb.cli import main
sys.exit(main(["new", "project", "shop", "--dir", target]))
'''


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_a_signal_while_writing_removes_what_was_written(tmp_path: Path, sig: str) -> None:
    signum = getattr(signal, sig)
    ready_r, ready_w = os.pipe()
    hold_r, hold_w = os.pipe()
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(ready_w), str(hold_r), str(tmp_path)],
                             pass_fds=(ready_w, hold_r), env={**os.environ, "PYTHONPATH": str(ROOT)},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    os.close(ready_w)
    os.close(hold_r)
    try:
        assert os.read(ready_r, 1) == b"!", "the child ended before writing its second file"
        assert [path for path in (tmp_path / "shop").rglob("*") if path.is_file()]  # halfway: the first file is there
        child.send_signal(signum)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(10)
        os.close(ready_r)
        os.close(hold_w)
    assert child.returncode == 128 + signum, (child.returncode, err)
    assert err == f"igniter-nb new: terminated by {sig}\n" and out == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["contract", "Lead", "--inputs", "a"], ["project", "shop"]])
def test_a_removed_current_directory_is_named_as_the_cause(tmp_path: Path, command: list[str]) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    done = subprocess.run(["sh", "-c", 'cd "$1" && rmdir "$1" && shift && exec "$@"', "sh", str(gone),
                           sys.executable, "-m", "igniter_nb.cli", "new", *command],
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "igniter-nb new: error: the current directory no longer exists (it was removed or moved away after this "
        "shell entered it), and nothing was written: cd to an existing directory, or give --dir an absolute path"]
    assert list(tmp_path.iterdir()) == []
