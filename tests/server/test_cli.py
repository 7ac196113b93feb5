"""`igniter-nb`: help and version on a plain install (L-42), `serve`'s checks and messages, a clean stop on
SIGTERM/SIGINT (L-18), and two workers sharing one SQLite / PostgreSQL store with every signal applied once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

import igniter_nb as ig
from igniter_nb.cli import main
from tests.server.conftest import TARGET
from tests.server.server_contracts import Lead
from tests.server.server_process import ROOT

HEAVY = ("fastapi", "starlette", "uvicorn", "httpx", "pydantic", "sqlalchemy")


def _run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    code = ("import json, sys\nfrom igniter_nb.cli import main\ntry:\n    rc = main(sys.argv[1:])\n"
            "except SystemExit as exc:\n    rc = exc.code\n"
            f"print(json.dumps([rc, sorted(m for m in {HEAVY!r} if m in sys.modules)]))\n")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", **(env or {})})


def test_help_and_version_work_without_heavy_imports_L42() -> None:
    version = _run_cli("--version")
    assert version.stdout.splitlines()[0] == f"igniter-nb {ig.__version__}"
    assert json.loads(version.stdout.splitlines()[-1]) == [0, []]
    for args in (("--help",), ("serve", "--help")):
        shown = _run_cli(*args)
        rc, loaded = json.loads(shown.stdout.splitlines()[-1])
        assert rc == 0 and loaded == [], (args, loaded)
        assert "serve" in shown.stdout
    assert "--token-env VAR" in _run_cli("serve", "--help").stdout


def test_no_command_is_a_usage_error_on_stderr(capsys: Any) -> None:
    assert main([]) == 2
    shown = capsys.readouterr()
    assert shown.out == ""  # (it printed the whole help on stdout: a pipe read it as the command's output)
    lines = shown.err.splitlines()
    assert lines[0].startswith("usage: igniter-nb ") and "COMMAND" in lines[0]
    assert lines[-1] == "igniter-nb: error: choose a command: serve, new (igniter-nb --help describes them)"


def test_help_stays_on_stdout_with_exit_code_0(capsys: Any) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--help"])
    assert stopped.value.code == 0
    shown = capsys.readouterr()
    assert "COMMAND" in shown.out and "serve" in shown.out and shown.err == ""


@pytest.mark.parametrize(("target", "says"), [
    ("no_such_module_x:CONTRACTS", "cannot import module 'no_such_module_x'"),
    ("tests.server.server_contracts:NOPE", "has no attribute 'NOPE'"),
    ("tests.server.server_contracts", "is not MODULE:CONTRACTS"),
    ("tests.server.server_contracts:CrmPayload", "contracts= must be"),
    ("json:dumps", "contracts= must be"),
])
def test_serve_names_a_bad_target(capsys: Any, target: str, says: str) -> None:
    assert main(["serve", target, "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("igniter-nb serve: error:") and says in err and target in err


def test_serve_reports_a_module_that_fails_to_import(capsys: Any, tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "broken_contracts_mod.py").write_text("raise RuntimeError('config missing')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["serve", "broken_contracts_mod:CONTRACTS"]) == 2
    assert "importing module 'broken_contracts_mod'" in capsys.readouterr().err


@pytest.mark.parametrize("store", ["memory://", "sqlite://"])
def test_serve_refuses_several_workers_on_an_in_process_store(capsys: Any, store: str) -> None:
    assert main(["serve", TARGET, "--workers", "2", "--store", store]) == 2
    err = capsys.readouterr().err
    assert "in-memory store lives inside one process" in err and "postgresql" in err


def test_serve_checks_its_settings(capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.delenv("IGNITER_NB_TEST_NO_TOKEN", raising=False)
    monkeypatch.setenv("IGNITER_NB_TEST_PADDED_TOKEN", " s3cret-value\t")
    monkeypatch.setenv("IGNITER_NB_TEST_CONTROL_TOKEN", "s3cret\x1bvalue")
    cases = [
        (["--token-env", "IGNITER_NB_TEST_NO_TOKEN"], "IGNITER_NB_TEST_NO_TOKEN is not set"),
        (["--token-env", "IGNITER_NB_TEST_PADDED_TOKEN"], "IGNITER_NB_TEST_PADDED_TOKEN starts or ends with whitespace"),
        (["--token-env", "IGNITER_NB_TEST_CONTROL_TOKEN"], "holds control characters"),
        (["--store", "nosuch://x"], "unknown store URL scheme"),
        (["--public-url", "ftp://host"], "--public-url: public_url must be"),
        (["--public-url", "http://host/?q=1"], "--public-url: public_url must be"),
    ]
    for extra, says in cases:
        assert main(["serve", TARGET, *extra]) == 2
        err = capsys.readouterr().err
        assert says in err
        assert "s3cret" not in err and "Traceback" not in err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_cleanly_on_signals_L18(serve: Any, tmp_path: Path, sig: int) -> None:
    server = serve(store=f"sqlite:///{tmp_path / 'stop.db'}", token="t")
    assert httpx.get(f"{server.url}/v1/health", headers={"Authorization": "Bearer t"}).status_code == 200
    assert httpx.get(f"{server.url}/v1/health").status_code == 401
    assert server.stop(sig) == 0
    assert "Traceback" not in server.log(), server.log()


def _deliver_everything(url: str, count: int) -> list[int]:
    """Start ``count`` workflows, then deliver both events of each from 8 threads, every delivery twice with
    its idempotency key (the repeat must be answered, not applied)."""
    with httpx.Client(base_url=url, timeout=30) as http:
        for i in range(count):
            assert http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": f"w-{i}"}}).status_code == 200
    deliveries = []
    for i in range(count):
        corr = {"request_id": f"w-{i}"}
        deliveries.append({"event": "crm_received", "correlation": corr, "payload": {"name": f"n{i}"},
                           "idempotency_key": f"crm-{i}"})
        deliveries.append({"event": "billing_received", "correlation": corr, "payload": i,
                           "idempotency_key": f"bill-{i}"})
    deliveries = deliveries + deliveries  # every signal sent twice, in another order the second time
    deliveries[len(deliveries) // 2:] = deliveries[len(deliveries) // 2:][::-1]

    with httpx.Client(base_url=url, timeout=30) as http, ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda body: http.post("/v1/contracts/lead/events", json=body).status_code, deliveries))


def _assert_each_signal_applied_once(store_url: str, count: int) -> None:
    from igniter_nb.stores import from_url

    with from_url(store_url) as store:
        records = store.list(graph="Lead")
        assert len(records) == count
        for record in records:
            assert record.status == "succeeded", record.execution_id
            workflow = record.snapshot["workflow"]
            assert sorted(s["event"] for s in workflow["signals"]) == ["billing_received", "crm_received"]
            restored = Lead.restore(record.snapshot)
            i = int(record.correlation["request_id"].removeprefix("w-"))
            assert restored.result.report == {"crm": f"n{i}", "billing": i}


def test_two_workers_share_a_sqlite_store(serve: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    server = serve(store=url, workers=2)
    statuses = _deliver_everything(server.url, 12)
    assert set(statuses) == {200}, statuses
    _assert_each_signal_applied_once(url, 12)


@pytest.mark.services
def test_two_workers_share_a_postgresql_store(serve: Any, postgres_url: str) -> None:
    import uuid

    from sqlalchemy import create_engine, text

    database = f"serve_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {database}"))
    admin.dispose()
    url = postgres_url.rsplit("/", 1)[0] + f"/{database}"
    server = serve(store=url, workers=2)
    statuses = _deliver_everything(server.url, 12)
    assert set(statuses) == {200}, statuses
    _assert_each_signal_applied_once(url, 12)


@pytest.mark.services
def test_two_workers_share_a_redis_store(serve: Any, redis_url: str) -> None:
    import uuid

    sep = "&" if "?" in redis_url else "?"
    url = f"{redis_url}{sep}namespace=serve{uuid.uuid4().hex[:8]}"
    server = serve(store=url, workers=2)
    statuses = _deliver_everything(server.url, 12)
    assert set(statuses) == {200}, statuses
    _assert_each_signal_applied_once(url, 12)
