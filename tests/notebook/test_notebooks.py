"""The example notebooks run under nbval with their stored outputs compared (sanitizer applied).

`make test` runs plain pytest over tests/; this module runs the one nbval command in a subprocess:

    IGNITER_NB_RENDER=python pytest --nbval notebooks/ --nbval-current-env \
        --nbval-sanitize-with igniter_nb/notebook/nbval_sanitize.cfg

``IGNITER_NB_RENDER=python`` pins the pure-Python layout, so stored SVGs do not depend on the Graphviz version.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from igniter_nb.notebook.extension import sanitizer_path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"

pytestmark = pytest.mark.notebooks


def run_nbval(target: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IGNITER_NB_RENDER": "python"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--nbval", str(target),
         "--nbval-current-env", "--nbval-sanitize-with", sanitizer_path(), "--rootdir", str(target)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )


def test_notebooks_match_their_stored_outputs():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")), "no notebooks to validate"
    proc = run_nbval(NOTEBOOKS)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout


def test_a_changed_stored_output_fails_validation(tmp_path):
    # Proof that outputs are compared, not only executed: tamper with one stored value.
    copy = tmp_path / "01_quickstart.ipynb"
    shutil.copy(NOTEBOOKS / "01_quickstart.ipynb", copy)
    nb = json.loads(copy.read_text())
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/plain")
            if text and "gross_total [succeeded] = 120.0" in "".join(text):
                out["data"]["text/plain"] = [line.replace("120.0", "121.0") for line in text]
                break
    copy.write_text(json.dumps(nb))
    proc = run_nbval(tmp_path)
    assert proc.returncode != 0
    assert "121.0" in proc.stdout
