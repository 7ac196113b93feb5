"""E-4 (examples/async_store.py) prints the reference's lines; a second process resumes from the file store."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_async_store_example(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "async_store.py"), str(tmp_path)],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout.splitlines()
    assert out[0] == "pending_token=quote-100"
    assert re.fullmatch(r"stored_execution_id=[0-9a-f-]{36}", out[1])
    assert out[2] == "pending_status=True"
    assert out[3] == "resumed_gross_total=180.0"
    execution_id = out[1].split("=", 1)[1]
    # The store alone is enough for another process to read the finished execution.
    check = (
        "import sys; sys.path.insert(0, 'examples'); from async_store import AsyncPricingContract;"
        "from igniter_nb.stores import FileStore;"
        f"c = AsyncPricingContract.restore_from_store('{execution_id}', store=FileStore(r'{tmp_path}'));"
        "print(c.status, c.result.gross_total)"
    )
    again = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True, cwd=ROOT)
    assert again.stdout.strip() == "succeeded 180.0"
