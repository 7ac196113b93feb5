"""The implicit default store warns once per process when something is saved into it (issue 11 point 6): its data
is gone at exit. Each case runs in a fresh interpreter, since "once per process" is the point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_SCRIPT = """
import json, warnings
warnings.simplefilter("always")
import igniter_nb as ig
from igniter_nb.stores import MemoryStore

class Job(ig.Contract):
    def define(c):
        c.correlate_by("job")
        c.input("job", type=str)
        c.await_event("done", event="done")
        c.output("done")

{setup}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for n in range(3):
        {start}
print(json.dumps([{{"category": w.category.__name__, "message": str(w.message), "file": w.filename}} for w in caught]))
"""


def _warnings(setup: str, start: str, env: dict[str, str] | None = None) -> list[dict[str, str]]:
    script = _SCRIPT.format(setup=setup, start=start)
    environment = {k: v for k, v in os.environ.items() if k != "IGNITER_STORE_URL"}
    environment.update({"PYTHONPATH": str(ROOT)}, **(env or {}))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          env=environment, cwd=ROOT, timeout=60, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_saving_into_the_implicit_memory_store_warns_once_per_process_naming_the_fix() -> None:
    caught = _warnings("", 'Job.start(job=f"j-{n}")')
    assert len(caught) == 1
    (warning,) = caught
    assert warning["category"] == "UserWarning"
    assert "IGNITER_STORE_URL" in warning["message"] and "ig.configure(store=...)" in warning["message"]
    assert "lost when this process exits" in warning["message"]
    assert warning["file"] == "<string>"  # points at the caller's line, not inside igniter_nb


def test_the_store_runner_warns_too() -> None:
    caught = _warnings("""
@ig.contract
def Saved(c):
    c.run_with("store")
    c.input("n", type="integer")
    c.output("n")
""", 'Saved(n=n).resolve_all()')
    assert [w["category"] for w in caught] == ["UserWarning"]


@pytest.mark.parametrize(("setup", "start", "env"), [
    ("", 'Job.start(job=f"j-{n}", store=STORE)', None),
    ("ig.configure(store=MemoryStore())", 'Job.start(job=f"j-{n}")', None),
    ("ig.configure(store='memory://')", 'Job.start(job=f"j-{n}")', None),
    ("", 'Job.start(job=f"j-{n}")', {"IGNITER_STORE_URL": "memory://"}),
])
def test_a_store_chosen_on_purpose_never_warns(setup: str, start: str, env: dict[str, str] | None) -> None:
    assert _warnings("STORE = MemoryStore()\n" + setup, start, env) == []
