"""`igniter-nb` whose standard output cannot be written (`> /dev/full`) or is closed (`>&-`): the files are written
whole, then the report fails. That ended in a traceback (an `OSError` from `print`, an `AttributeError` from
flushing a missing `sys.stdout`) and exit code 1 or 120. A full output is a one-line error and exit code 1; a
closed one drops the report, as `print` does, and the command succeeds. `--version` and `--help` into a full output
exited 0 with nothing printed (argparse drops the error): the same one-line error and exit code 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "igniter_nb.cli", "new", "contract", "OutLead", "--inputs", "a"]
WRITTEN = ["out_lead.ipynb", "out_lead.py", "test_out_lead.py"]


def _run(tmp_path: Path, **how: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(COMMAND, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE,
                          text=True, timeout=60, check=False, **how)  # type: ignore[call-overload]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_standard_output_is_a_one_line_error_and_the_files_are_kept(tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        done = _run(tmp_path, stdout=full)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == ["igniter-nb new: error: cannot write to standard output: No space left on "
                                        "device (the command's work is done and kept)"], done.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == WRITTEN


def test_a_closed_standard_output_drops_the_report_and_the_command_succeeds(tmp_path: Path) -> None:
    done = _run(tmp_path, preexec_fn=lambda: os.close(1))
    assert (done.returncode, done.stderr) == (0, "")
    assert sorted(path.name for path in tmp_path.iterdir()) == WRITTEN


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["--version"], ["--help"], ["new", "--help"]])
def test_version_and_help_into_a_full_standard_output_fail_with_one_line(tmp_path: Path, args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "igniter_nb.cli", *args], cwd=tmp_path, stdout=full,
                              stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)}, text=True,
                              timeout=60, check=False)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == ["igniter-nb: error: cannot write to standard output: No space left on device"]
