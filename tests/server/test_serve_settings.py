"""`igniter-nb serve` takes each setting from its flag, else its IGNITER_* variable, else its default (issue 15
point 5); a bad variable stops it naming the variable before any worker starts; the token never shows on a
command line or in the log."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from igniter_nb import settings
from igniter_nb.cli import main
from tests.server.conftest import TARGET
from tests.server.logging_probe import MARKER
from tests.server.server_process import LISTEN, ServerProcess

PROBE = "tests.server.logging_probe:CONTRACTS"
TOKEN = "tok-5e8b2a7c9d1f"
ENVIRONMENT = {"IGNITER_SERVER_TOKEN": TOKEN, "IGNITER_MAX_BODY_BYTES": "300", "IGNITER_LOG_LEVEL": "debug",
               "IGNITER_CORS_ORIGINS": "https://env.example.com", "IGNITER_PUBLIC_URL": "http://127.0.0.1:9"}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in settings.VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("IGNITER_MAX_BODY_BYTES", "1MB", "IGNITER_MAX_BODY_BYTES='1MB' is not a whole number of bytes"),
    ("IGNITER_LOG_LEVEL", "loud", "IGNITER_LOG_LEVEL='loud' is not a log level"),
    ("IGNITER_PUBLIC_URL", "ftp://x", "IGNITER_PUBLIC_URL='ftp://x' is not this server's http:// or https://"),
    ("IGNITER_CORS_ORIGINS", "https://a.example.com/app", "'https://a.example.com/app' is not an origin"),
    ("IGNITER_STORE_URL", "nosuch://x", "IGNITER_STORE_URL 'nosuch://x': unknown store URL scheme"),
    ("IGNITER_STORE_URL", "postgresql://app:hunter2@db:port/app", "IGNITER_STORE_URL 'postgresql://app:***@db:port"),
    ("IGNITER_SERVER_TOKEN", "zq9 zq9", "IGNITER_SERVER_TOKEN contains whitespace or control characters"),
    ("IGNITER_SERVER_THREADS", "many", "IGNITER_SERVER_THREADS='many' is not a whole number of threads"),
    ("IGNITER_CALLBACK_RETRIES", "-1", "IGNITER_CALLBACK_RETRIES='-1' is not a whole number of retries"),
    ("IGNITER_MAX_STREAMS", "0", "IGNITER_MAX_STREAMS='0' is not a whole number of streams >= 1"),
    ("IGNITER_SERVER_BALANCE", "kernel", "IGNITER_SERVER_BALANCE='kernel' is not a way to balance connections: use "
                                         "one of supervisor, reuseport, shared"),
])
def test_a_bad_variable_stops_serve_naming_it(env: pytest.MonkeyPatch, capsys: Any, variable: str, value: str,
                                              says: str) -> None:
    env.setenv(variable, value)
    assert main(["serve", TARGET, "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("igniter-nb serve: error:") and says in err
    assert "hunter2" not in err and "zq9" not in err


def test_refusing_untagged_callback_tokens_without_a_token_stops_serve(env: pytest.MonkeyPatch, capsys: Any) -> None:
    env.setenv("IGNITER_LEGACY_CALLBACK_TOKENS", "0")
    assert main(["serve", TARGET, "--port", "1"]) == 2
    assert "IGNITER_LEGACY_CALLBACK_TOKENS=0 needs a server token" in capsys.readouterr().err


def test_threads_below_zero_stop_serve(env: pytest.MonkeyPatch, capsys: Any) -> None:
    with pytest.raises(SystemExit) as stopped:  # (argparse's error, with the usage)
        main(["serve", TARGET, "--port", "1", "--threads", "-1"])
    assert stopped.value.code == 2
    assert "argument --threads: must be a whole number of threads >= 0, got -1" in capsys.readouterr().err


def test_a_flag_hides_a_bad_variable(env: pytest.MonkeyPatch, capsys: Any) -> None:
    """A flag wins, so the variable it replaces is not even read: only the store is left to fail here."""
    for name, bad in (("IGNITER_MAX_BODY_BYTES", "1MB"), ("IGNITER_LOG_LEVEL", "loud"),
                      ("IGNITER_PUBLIC_URL", "ftp://x"), ("IGNITER_CORS_ORIGINS", "nope")):
        env.setenv(name, bad)
    assert main(["serve", TARGET, "--max-body-bytes", "10", "--log-level", "info", "--public-url", "http://h:1",
                 "--cors-origin", "https://a.example.com", "--store", "nosuch://x"]) == 2
    assert "--store 'nosuch://x': unknown store URL scheme" in capsys.readouterr().err


class _Server(ServerProcess):
    """`igniter-nb serve` with only the flags given in ``args`` (ServerProcess adds --log-level warning, and
    --token-env for its ``token``, which here only says what its start-up health check sends)."""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "igniter_nb.cli", "serve", self.target, "--host", "127.0.0.1", "--port",
                str(self.port), "--store", self.store, "--workers", str(self.workers), *self.args]


def _command_lines(pid: int) -> list[str]:
    """The command lines of ``pid`` and its descendants (read from /proc)."""
    found, todo = [], [pid]
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    while todo:
        current = todo.pop()
        try:
            found.append((Path("/proc") / str(current) / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
        todo.extend(child for child, parent in parents.items() if parent == current)
    return found


def test_serve_takes_its_settings_from_the_environment(tmp_path: Path) -> None:
    with _Server(PROBE, store=f"sqlite:///{tmp_path / 'env.db'}", env=ENVIRONMENT, token=TOKEN) as server:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=server.url, timeout=10) as http:
            assert http.get("/v1/health").status_code == 401
            assert http.get("/v1/health", headers=auth).status_code == 200
            big = http.post("/v1/contracts/price/execute", headers={**auth, "Content-Type": "application/json"},
                            content=b'{"inputs": {"total": 1}, "pad": "' + b"x" * 400 + b'"}')
            assert big.status_code == 413
            preflight = http.options("/v1/contracts/price/execute", headers={
                "Origin": "https://env.example.com", "Access-Control-Request-Method": "POST"})
            assert preflight.headers.get("access-control-allow-origin") == "https://env.example.com"
        assert server._proc is not None
        lines = _command_lines(server._proc.pid)
        assert len(lines) >= 1 and all(TOKEN not in line for line in lines)
        log = server.log()
    assert MARKER in log and "Application startup complete" in log  # the igniter_nb and uvicorn loggers at debug
    assert TOKEN not in log
    # each record once: the reference wrote every line to its logger and to stdout (L-41)
    assert log.count('"POST /v1/contracts/price/execute HTTP/1.1" 413') == 1, log
    assert log.count("Application startup complete") == 1, log


def test_flags_win_over_the_environment(tmp_path: Path) -> None:
    args = ("--token-env", "IGNITER_TEST_FLAG_TOKEN", "--max-body-bytes", "100000", "--log-level", "warning",
            "--cors-origin", "https://flag.example.com")
    env = {**ENVIRONMENT, "IGNITER_TEST_FLAG_TOKEN": "flag-token"}
    with _Server(PROBE, store=f"sqlite:///{tmp_path / 'flags.db'}", env=env, args=args, token="flag-token") as server:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            assert http.get("/v1/health", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 401
            auth = {"Authorization": "Bearer flag-token"}
            assert http.get("/v1/health", headers=auth).status_code == 200
            big = http.post("/v1/contracts/price/execute", headers={**auth, "Content-Type": "application/json"},
                            content=b'{"inputs": {"total": 1}, "pad": "' + b"x" * 400 + b'"}')
            assert big.status_code != 413
            for origin, allowed in (("https://flag.example.com", True), ("https://env.example.com", False)):
                preflight = http.options("/v1/contracts/price/execute", headers={
                    "Origin": origin, "Access-Control-Request-Method": "POST"})
                assert (preflight.headers.get("access-control-allow-origin") == origin) is allowed
        log = server.log()
    assert MARKER not in log and "Application startup complete" not in log, log
    assert os.environ.get("IGNITER_TEST_FLAG_TOKEN") is None  # the test's own process was left alone


def test_each_worker_app_gets_the_threads_serve_was_given(env: pytest.MonkeyPatch, unfrozen: None) -> None:
    # serve hands its checked settings to the workers through IGNITER_NB_SERVE_* variables; the worker's app
    # sets its threadpool from them at startup
    import anyio.to_thread
    from fastapi.testclient import TestClient

    from igniter_nb.server import serve as serving

    env.setenv(serving.TARGET_VAR, PROBE)
    env.setenv(serving.STORE_VAR, "memory://")
    env.setenv(serving.THREADS_VAR, "2")
    with TestClient(serving.app_from_environment()) as client:
        assert client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens) == 2
    env.setenv(serving.THREADS_VAR, "")
    with TestClient(serving.app_from_environment()) as client:
        assert client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens) == 40


def test_serve_threads_0_reaches_the_workers_and_serves(tmp_path: Path) -> None:
    # 0 must not be lost on the way to the workers (an empty variable means "not given": the default 40)
    db = tmp_path / "t0.db"
    with ServerProcess(TARGET, store=f"sqlite:///{db}", workers=2, args=("--threads", "0")) as server:
        for i in range(4):
            answer = httpx.post(f"{server.url}/v1/contracts/price/execute", json={"inputs": {"total": 10 + i,
                                                                                             "rate": 0.1}})
            assert answer.status_code == 200, answer.text
            assert answer.json()["status"] == "succeeded"
    from igniter_nb.server import serve as serving

    assert serving._worker_threads({serving.THREADS_VAR: "0"}) == 0
    assert serving._worker_threads({serving.THREADS_VAR: ""}) is None


@pytest.fixture
def unfrozen() -> Any:
    """app_from_environment freezes what this (test) process holds; give it back to the collector afterwards."""
    yield
    gc.unfreeze()


def test_a_worker_app_leaves_its_startup_objects_out_of_the_collectors_walk(env: pytest.MonkeyPatch,
                                                                           unfrozen: None) -> None:
    # a full collection in a worker walked every object startup made (~90,000: FastAPI, pydantic, SQLAlchemy,
    # the app), pausing the worker 15-50 ms; frozen, they are left out of the walk
    from igniter_nb.server import serve as serving

    env.setenv(serving.TARGET_VAR, PROBE)
    env.setenv(serving.STORE_VAR, "memory://")
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    app = serving.app_from_environment()
    frozen = gc.get_freeze_count()
    assert frozen > 10_000
    assert gc.is_tracked(app)
    assert not any(each is app for each in gc.get_objects())  # frozen: in no generation the collector walks
    gc.unfreeze()
    assert any(each is app for each in gc.get_objects())


# ----------------------------------------------------------------------------------------------- --balance


@pytest.mark.parametrize(("variable", "flags", "mode"), [
    ("reuseport", {}, "reuseport"),
    (" Shared ", {}, "shared"),
    ("supervisor", {}, "supervisor"),
    ("reuseport", {"balance": "supervisor"}, "supervisor"),  # the flag wins
    ("supervisor", {"reuse_port": False}, "shared"),  # --no-reuse-port is a flag too
    ("", {}, "supervisor"),  # empty is unset: the default on Linux
])
def test_the_balance_comes_from_the_flag_else_the_variable(env: pytest.MonkeyPatch, runs: dict[str, Any],
                                                            tmp_path: Path, variable: str, flags: dict[str, Any],
                                                            mode: str) -> None:
    from tests.server.server_process import serve_recorded

    env.setenv("IGNITER_SERVER_BALANCE", variable)
    assert serve_recorded(tmp_path, **flags) == 0
    assert list(runs) == [mode]


def test_a_balance_variable_this_system_cannot_have_names_the_variable(env: pytest.MonkeyPatch, runs: dict[str, Any],
                                                                       tmp_path: Path) -> None:
    from igniter_nb.server.serve import ServeError
    from tests.server.server_process import serve_recorded

    env.setattr(sys, "platform", "darwin")
    env.setenv("IGNITER_SERVER_BALANCE", "reuseport")
    with pytest.raises(ServeError, match=r"^IGNITER_SERVER_BALANCE=reuseport needs Linux \(this is darwin\); use "
                                         "--balance shared$"):
        serve_recorded(tmp_path)
    assert runs == {}


def test_a_real_serve_balances_as_the_variable_says(tmp_path: Path) -> None:
    """Two workers, ``IGNITER_SERVER_BALANCE=reuseport`` and no flag: each worker listens on a socket of its own
    (with the default on Linux, the supervisor, only the serve process listens)."""
    with ServerProcess(TARGET, store=f"sqlite:///{tmp_path / 'b.db'}", workers=2,
                       env={"IGNITER_SERVER_BALANCE": "reuseport"}) as server:
        listening = set(server.sockets(LISTEN))
        assert len(listening) == 2 and server.pid not in listening, (listening, server.log())
        assert httpx.get(f"{server.url}/v1/health", timeout=10).status_code == 200
