"""What `igniter-nb new contract` writes compiles, passes its own tests and runs as a notebook, as generated
(the reference's generator wrote a contract without outputs that failed to load: L-24) — for a plain contract,
a workflow awaiting events, a workflow awaiting none, and names in other scripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from igniter_nb.cli import main
from igniter_nb.notebook.extension import sanitizer_path
from tests.scaffold.generated import ROOT, code_cells, passed, run_pytest, tree

pytestmark = pytest.mark.notebooks

CASES = {
    "price_quote": ["PriceQuote", "--inputs", "order_total", "country", "--outputs", "gross", "net"],
    "lead_workflow": ["LeadWorkflow", "--inputs", "request_id", "company_id", "--correlate-by", "request_id",
                      "company_id", "--awaits", "crm_received", "billing.data:fetched", "--outputs", "report"],
    "audit_entry": ["AuditEntry", "--inputs", "account_id", "--correlate-by", "account_id", "--outputs", "entry"],
    "überweisung": ["Überweisung", "--inputs", "konto", "betrag", "--correlate-by", "konto", "--awaits",
                    "zahlung_eingegangen", "--outputs", "quittung"],
    "数据流": ["数据流", "--inputs", "输入", "--outputs", "结果"],
}
# tests each generated file holds: a plain contract 3, a workflow with events 1 + 5 per store, without 1 + 1 per store
GENERATED_TESTS = {"price_quote": 3, "lead_workflow": 11, "audit_entry": 3, "überweisung": 11, "数据流": 3}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("contracts")
    for args in CASES.values():
        assert main(["new", "contract", *args, "--dir", str(directory)]) == 0
    return directory


def test_each_contract_gets_a_module_a_test_and_a_notebook(generated: Path) -> None:
    assert tree(generated) == sorted(f"{pattern.format(module)}" for module in CASES
                                     for pattern in ("{}.py", "test_{}.py", "{}.ipynb"))
    workflow = (generated / "lead_workflow.py").read_text(encoding="utf-8")
    assert 'c.correlate_by("request_id", "company_id")' in workflow
    assert 'c.await_event("billing_data_fetched", event="billing.data:fetched")' in workflow
    assert 'c.output("report")' in workflow


def test_generated_tests_pass_as_generated_L24(generated: Path) -> None:
    assert passed(run_pytest(cwd=generated)) == sum(GENERATED_TESTS.values())


def test_generated_notebooks_run_under_nbval_L24(generated: Path) -> None:
    # One notebook per template branch (plain, workflow with events, workflow without); the strict test below
    # runs lead_workflow's. A kernel per notebook is the slow part.
    notebooks = [generated / f"{module}.ipynb" for module in ("price_quote", "überweisung", "audit_entry")]
    proc = run_pytest("--nbval-lax", "--nbval-current-env", *map(str, notebooks), cwd=generated, nbval=True)
    # --nbval-lax: one test per code cell, each failing on any error, the assert cells included
    assert passed(proc) == sum(map(code_cells, notebooks))


def test_generated_code_passes_ruff(generated: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--select", "E,F,W,I,B,UP,SIM",
                           "--line-length", "120", "."], cwd=generated, capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ruff's defaults (what a generated project without ruff settings gets: isort wraps at 88), and the rules above
@pytest.mark.parametrize("rules", [[], ["--select", "E,F,W,I,B,UP,SIM", "--line-length", "120"]])
def test_a_long_import_line_passes_ruff_as_generated(tmp_path: Path, rules: list[str]) -> None:
    # `from shop.orders.customer_onboarding_approval_workflow import CustomerOnboardingApprovalWorkflow` is 96
    # characters: isort (ruff I001) wants it wrapped at the default line length.
    package = tmp_path / "shop" / "orders"
    package.mkdir(parents=True)
    (tmp_path / "shop" / "__init__.py").touch()
    (package / "__init__.py").touch()
    assert main(["new", "contract", "CustomerOnboardingApprovalWorkflow", "--inputs", "customer_id",
                 "--dir", str(package)]) == 0
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", *rules, "."],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert passed(run_pytest(cwd=tmp_path)) == 3


def test_the_generated_test_fails_when_the_contract_changes(tmp_path: Path) -> None:
    # The generated test pins the outputs: a different computation must make it fail, not pass silently.
    assert main(["new", "contract", "PriceQuote", "--inputs", "total", "--dir", str(tmp_path)]) == 0
    module = tmp_path / "price_quote.py"
    module.write_text(module.read_text(encoding="utf-8").replace("return {", "return {'changed': True} or {"),
                      encoding="utf-8")
    proc = run_pytest(cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout
    assert "1 failed, 2 passed" in proc.stdout and "test_it_computes_every_output" in proc.stdout


def test_the_executed_notebook_validates_with_stored_outputs(tmp_path: Path) -> None:
    # For users who keep outputs: run the notebook once, save it, and plain `--nbval` (outputs compared, with the
    # shipped sanitizer for execution ids and timestamps) passes on a second run.
    assert main(["new", "contract", *CASES["lead_workflow"], "--dir", str(tmp_path)]) == 0
    notebook = tmp_path / "lead_workflow.ipynb"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]), "IGNITER_NB_RENDER": "python"}
    executed = subprocess.run([sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute", "--inplace",
                               str(notebook)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                              check=False)
    assert executed.returncode == 0, executed.stderr[-3000:]
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    outputs = [out for cell in cells for out in cell.get("outputs", [])]
    assert any("image/svg+xml" in out.get("data", {}) for out in outputs)
    assert any("succeeded" in "".join(out.get("text", "")) for out in outputs)
    proc = run_pytest("--nbval", "--nbval-current-env", f"--nbval-sanitize-with={sanitizer_path()}", str(notebook),
                      cwd=tmp_path, nbval=True)
    assert passed(proc) == code_cells(notebook)
