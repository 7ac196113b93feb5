"""A generated project passes its team's type checker as generated: the contracts are written in the typed form
of docs/contracts.md ("Type checking your contracts"), ``@staticmethod def define(c: ig.ContractBuilder) -> None``
with annotated computations, which mypy checks under ``--strict``'s rules for untyped code; the plain
``def define(c):`` it had is unchecked by mypy's defaults and an error under those rules (and in pyright).

One run of the venv's mypy (a subprocess in its own process group, killed with it if it overruns; its cache in
tmp; ``--follow-imports=silent``: igniter_nb's own errors are not the project's) over the package — strict rules
— and its generated tests (mypy's defaults). The generated tests still pass."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

from igniter_nb.cli import main
from tests.scaffold.generated import ROOT, passed, run_pytest

# mypy's --strict, as per-module options for the generated package (`strict` itself is global only, and the
# generated pytest functions are not annotated: they get mypy's defaults)
MYPY_INI = dedent("""\
    [mypy]
    follow_imports = silent
    warn_unused_configs = True
    warn_redundant_casts = True
    warn_unused_ignores = True
    strict_equality = True

    [mypy-shop.*]
    disallow_any_generics = True
    disallow_subclassing_any = True
    disallow_untyped_calls = True
    disallow_untyped_defs = True
    disallow_incomplete_defs = True
    check_untyped_defs = True
    disallow_untyped_decorators = True
    warn_return_any = True
    no_implicit_reexport = True
    """)
TIMEOUT = 180  # seconds: a cold cache costs ~10-30 s on a busy machine


def test_a_generated_project_passes_mypy_and_its_tests(tmp_path: Path) -> None:
    assert main(["new", "project", "shop", "--dir", str(tmp_path)]) == 0
    project = tmp_path / "shop"
    added = [["RefundWorkflow", "--inputs", "refund_id", "Any", "--correlate-by", "refund_id", "--awaits",
              "refund_approved", "--outputs", "refund"],
             ["PriceQuote", "--inputs", "order_total", "country", "--outputs", "gross", "net"]]
    for args in added:  # the README's "Add a contract"
        assert main(["new", "contract", *args, "--dir", str(project / "shop"), "--tests-dir",
                     str(project / "tests"), "--notebooks-dir", str(project / "notebooks")]) == 0
    for module in ("contracts", "refund_workflow", "price_quote"):
        assert "def define(c: ig.ContractBuilder) -> None:" in (project / "shop" / f"{module}.py").read_text()

    (tmp_path / "mypy.ini").write_text(MYPY_INI)
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    env.pop("PYTHONPATH", None)  # MYPYPATH says which igniter_nb is checked
    command = [sys.executable, "-m", "mypy", "--config-file", str(tmp_path / "mypy.ini"), "--cache-dir",
               str(tmp_path / ".mypy_cache"), "--no-color-output", "shop", "tests"]
    proc = subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert proc.returncode == 0, out + err
    assert "Success: no issues found in 8 source files" in out, out

    # (example workflow 11, HTTP API 4, RefundWorkflow 11, PriceQuote 3)
    assert passed(run_pytest(cwd=project)) == 29
