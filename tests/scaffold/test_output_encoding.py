"""`igniter-nb` on a terminal whose encoding cannot show a generated file's name (PYTHONIOENCODING=ascii, a C locale):
the command succeeds and prints the name escaped, instead of a UnicodeEncodeError traceback after the files are
written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_name_the_terminal_cannot_show_is_printed_escaped(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "igniter_nb.cli", "new", "contract", "Überweisung", "--inputs",
                           "betrag"], capture_output=True, text=True, encoding="ascii", env=env, cwd=tmp_path,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "created \\xfcberweisung.py" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["test_überweisung.py", "überweisung.ipynb", "überweisung.py"]
