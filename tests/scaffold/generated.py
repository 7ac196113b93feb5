"""Running what the generators wrote, the way its user would: pytest (and nbval) in a subprocess, with only the
generated directory and this checkout importable, and none of this repository's pytest plugins or settings."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_pytest(*args: str, cwd: Path, pythonpath: Iterable[Path] = (), nbval: bool = False,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*map(str, pythonpath), str(ROOT)]),
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "IGNITER_NB_RENDER": "python"}
    env.pop("PYTEST_ADDOPTS", None)
    plugins = ["-p", "nbval.plugin"] if nbval else []
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *plugins, *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def passed(proc: subprocess.CompletedProcess[str]) -> int:
    """The number of passed tests of a run that must have passed entirely (else the assertion shows its log)."""
    log = proc.stdout[-8000:] + proc.stderr[-3000:]
    assert proc.returncode == 0, log
    summary = proc.stdout.strip().splitlines()[-1]
    assert "failed" not in summary and "error" not in summary, log
    found = re.search(r"(\d+) passed", summary)
    assert found, log
    return int(found.group(1))


def code_cells(notebook: Path) -> int:
    return sum(cell["cell_type"] == "code" for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"])


def tree(root: Path) -> list[str]:
    """Every file under ``root``, relative, sorted (caches left out)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts)
