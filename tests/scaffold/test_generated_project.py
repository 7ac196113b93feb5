"""`igniter-nb new project`: the service it lays out passes its own tests, runs its notebook, and
`igniter-nb serve` serves it — also after a second contract was added the way its README says."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import httpx
import pytest

import igniter_nb as ig
from igniter_nb.cli import main
from tests.scaffold.generated import ROOT, code_cells, passed, run_pytest, tree
from tests.server.server_process import ServerProcess

pytestmark = pytest.mark.notebooks

LAYOUT = [
    ".env.example", ".gitignore", "Makefile", "README.md",
    "notebooks/order_workflow.ipynb", "notebooks/refund_workflow.ipynb",
    "pyproject.toml",
    "shop/__init__.py", "shop/contracts.py", "shop/refund_workflow.py",
    "tests/test_api.py", "tests/test_contracts.py", "tests/test_refund_workflow.py",
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("projects")
    assert main(["new", "project", "shop", "--dir", str(parent)]) == 0
    root = parent / "shop"
    # the README's "Add a contract", run from the project's root
    cwd = os.getcwd()
    os.chdir(root)
    try:
        assert main(["new", "contract", "RefundWorkflow", "--inputs", "refund_id", "--correlate-by", "refund_id",
                     "--awaits", "refund_approved", "--outputs", "refund", "--dir", "shop", "--tests-dir", "tests",
                     "--notebooks-dir", "notebooks"]) == 0
    finally:
        os.chdir(cwd)
    return root


def test_the_project_layout(project: Path) -> None:
    assert tree(project) == LAYOUT
    assert "from shop.refund_workflow import RefundWorkflow" in (project / "tests/test_refund_workflow.py").read_text()
    settings = (project / ".env.example").read_text()
    for variable in ("IGNITER_STORE_URL=sqlite:///shop.db", "IGNITER_SERVER_TOKEN=", "IGNITER_LOG_LEVEL=info"):
        assert variable in settings.splitlines()
    assert ".env" in (project / ".gitignore").read_text().splitlines()


class _Run(ig.Contract):
    def define(c):
        c.correlate_by("a")
        c.input("a")

        @c.compute
        def done(a):
            return a

        c.output("done")


def test_git_ignores_every_file_of_the_sqlite_store(project: Path, tmp_path: Path) -> None:
    # what `make serve` leaves beside shop.db while it runs: SQLite's -wal and -shm, igniter_nb's -igniter.lock
    shutil.copy(project / ".gitignore", tmp_path / ".gitignore")
    store = ig.stores.from_url(f"sqlite:///{tmp_path / 'shop.db'}")
    try:
        _Run.start({"a": "x"}, store=store)
        files = sorted(p.name for p in tmp_path.iterdir() if p.name != ".gitignore")
    finally:
        store.close()
    assert files == ["shop.db", "shop.db-igniter.lock", "shop.db-shm", "shop.db-wal"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, timeout=30)
    proc = subprocess.run(["git", "check-ignore", "--no-index", "--non-matching", "--verbose", *files], cwd=tmp_path,
                          capture_output=True, text=True, timeout=30, check=False)
    assert [line for line in proc.stdout.splitlines() if line.startswith("::")] == [], proc.stdout


def test_the_project_pyproject(project: Path) -> None:
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "shop"
    assert pyproject["project"]["dependencies"] == [f"igniter_nb[server,sql]>={ig.__version__}"]
    assert pyproject["tool"]["pytest"]["ini_options"] == {"testpaths": ["tests"], "pythonpath": ["."]}
    assert pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["shop"]


def test_the_project_tests_pass_as_generated(project: Path) -> None:
    # `pytest` in the project's root, as `make test` runs it: its own pyproject finds tests/ and the package
    # (example workflow 11, HTTP API 4, the added RefundWorkflow 11)
    assert passed(run_pytest(cwd=project)) == 26


def test_the_project_api_tests_pass_with_a_token_in_the_environment(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   ) -> None:
    # a token in the environment (a shell that exported the one of .env): create_app would read it
    monkeypatch.setenv("IGNITER_SERVER_TOKEN", "set-in-dot-env")
    assert passed(run_pytest("tests/test_api.py", cwd=project)) == 4


def test_the_project_notebook_runs_under_nbval(project: Path) -> None:
    notebook = project / "notebooks" / "order_workflow.ipynb"
    proc = run_pytest("--nbval-lax", "--nbval-current-env", str(notebook), cwd=project, pythonpath=[project],
                      nbval=True)
    assert passed(proc) == code_cells(notebook)


def test_igniter_nb_serve_serves_the_project(project: Path, tmp_path: Path) -> None:
    env = {"PYTHONPATH": os.pathsep.join([str(project), str(ROOT)])}
    with ServerProcess("shop.contracts:CONTRACTS", store=f"sqlite:///{tmp_path / 'shop.db'}", token="s3cret",
                       env=env) as server:
        headers = {"Authorization": "Bearer s3cret"}
        health = httpx.get(f"{server.url}/v1/health", headers=headers, timeout=10).json()
        assert health["contracts"] == ["order_workflow"]
        started = httpx.post(f"{server.url}/v1/contracts/order_workflow/execute", headers=headers, timeout=10,
                             json={"inputs": {"order_id": "o-1", "customer_id": "c-1"}})
        assert started.status_code == 200, started.text
        assert started.json()["status"] == "waiting"
        assert sorted(started.json()["waiting_for"]) == ["order_shipped", "payment_received"]
        for event in ("order_shipped", "payment_received"):
            answer = httpx.post(f"{server.url}/v1/contracts/order_workflow/events", headers=headers, timeout=10,
                                json={"event": event, "correlation": {"order_id": "o-1"}, "payload": {"ok": True}})
            assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "succeeded"
        assert answer.json()["outputs"]["receipt"]["payment_received"] == {"ok": True}
        assert httpx.get(f"{server.url}/v1/health", timeout=10).status_code == 401


def test_make_serve_runs_igniter_nb_serve_with_the_env_file(project: Path, tmp_path: Path) -> None:
    shutil.copy(project / "Makefile", tmp_path / "Makefile")
    # Not IGNITER_* (the test sets its own), and not make's own variables: run from `make test` (as CI does),
    # an inherited MAKELEVEL makes the inner make print "Entering directory" lines.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("IGNITER_") and key not in {"MAKELEVEL", "MAKEFLAGS", "MFLAGS"}}

    def dry_run(*args: str) -> str:
        proc = subprocess.run(["make", "--no-print-directory", "-n", "serve", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=30, check=False)
        assert proc.returncode == 0, proc.stderr
        return " ".join(proc.stdout.replace("\\\n", " ").split())

    serve = "igniter-nb serve shop.contracts:CONTRACTS --host 127.0.0.1"
    assert dry_run() == f"{serve} --port 8000"  # no .env: the environment's settings, else the defaults
    shutil.copy(project / ".env.example", tmp_path / ".env")
    assert dry_run("PORT=9000") == f"{serve} --port 9000 --env-file .env"  # serve reads it, each value as written


def test_make_serve_takes_a_token_holding_hash_and_dollar_as_written(project: Path, tmp_path: Path) -> None:
    """make's `-include .env` ended a value at '#' and expanded '$': `IGNITER_SERVER_TOKEN=tok#en$abc` served the
    token `tok` (a shorter one than configured, and every client sending the real one got 401), and a database
    password holding either was another password."""
    import signal
    import sys
    import time

    from tests.services import free_port

    work = tmp_path / "shop"
    shutil.copytree(project, work, ignore=shutil.ignore_patterns("__pycache__", "*.db*"))
    token = "tok#en$abc$$x"
    (work / ".env").write_text(f"IGNITER_STORE_URL=sqlite:///{tmp_path / 'shop.db'}\nIGNITER_SERVER_TOKEN={token}\n"
                               "IGNITER_LOG_LEVEL=warning\n", encoding="utf-8")
    bin_dir = tmp_path / "bin"  # `igniter-nb` as the console script runs it, from this checkout
    bin_dir.mkdir()
    shim = bin_dir / "igniter-nb"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m igniter_nb.cli "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("IGNITER_") and key not in {"MAKELEVEL", "MAKEFLAGS", "MFLAGS"}}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", PYTHONPATH=str(ROOT))
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(["make", "--no-print-directory", "serve", f"PORT={port}"], cwd=work, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/v1/health"
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.1)
        assert answer.status_code == 200, log.read_text()[-3000:]
        assert httpx.get(url, headers={"Authorization": "Bearer tok"}, timeout=5).status_code == 401
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_make_notebooks_runs_in_a_project_whose_path_holds_a_colon(tmp_path_factory: pytest.TempPathFactory) -> None:
    """PYTHONPATH splits at ':', so ``$(CURDIR)`` in it named two directories that do not exist and the notebook's
    kernel could not import the project; the Makefile gives such a path relatively."""
    import sys

    parent = tmp_path_factory.mktemp("projects") / "v1:2"
    parent.mkdir()
    assert main(["new", "project", "shop", "--dir", str(parent)]) == 0
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("IGNITER_") and key not in {"MAKELEVEL", "MAKEFLAGS", "MFLAGS", "PYTEST_ADDOPTS"}}
    env.update(PYTHONPATH=str(ROOT), IGNITER_NB_RENDER="python", PYTEST_ADDOPTS="-p no:cacheprovider")
    proc = subprocess.run(["make", "--no-print-directory", "notebooks", f"PYTHON={sys.executable}"],
                          cwd=parent / "shop", env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert f"{code_cells(parent / 'shop' / 'notebooks' / 'order_workflow.ipynb')} passed" in proc.stdout
