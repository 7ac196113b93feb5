"""How many times a callback the server sends is retried: ``create_app(callback_retries=)``, else
``IGNITER_CALLBACK_RETRIES``, else 5; ``igniter-nb serve --callback-retries N`` hands its value (or the variable's)
to every worker. Callbacks go to a port nothing listens on, so each attempt fails at once and the count of attempts
the server records (``callback_failed``) is the retries plus one."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import igniter_nb as ig
from igniter_nb import settings
from igniter_nb.cli import build_parser, main
from igniter_nb.server import serve
from igniter_nb.stores import MemoryStore
from tests.polling import wait_for
from tests.server.live_server import LiveServer
from tests.server.server_process import ServerProcess, serve_recorded
from tests.services import dead_port

REMOTE = "tests.server.remote_contracts:REMOTE"


def _callback_attempts(http: httpx.Client, read_events: Callable[[str], list[dict[str, Any]]]) -> int:
    """Run ``deferred`` asking for a callback to a closed port, resume it (it finishes: the callback is due) and
    wait for the server to record the callback's failure; how many attempts it made."""
    with dead_port() as port:  # nothing listens there, nor can while the callback is tried
        callback = {"url": f"http://127.0.0.1:{port}/callback", "token": "t" * 24}
        run = http.post("/v1/contracts/deferred/execute", json={"inputs": {"text": "great"}, "callback": callback})
        assert run.status_code == 200 and run.json()["status"] == "pending", run.text
        rid = run.json()["execution_id"]
        resumed = http.post(f"/v1/executions/{rid}/resume", json={"token": "review:great", "value": 0.5})
        assert resumed.status_code == 200 and resumed.json()["status"] == "succeeded", resumed.text
        failed = wait_for(lambda: [e for e in read_events(rid) if e["type"] == "callback_failed"], "callback_failed",
                          timeout=30)
        assert "ConnectError" in failed[0]["payload"]["error"]
        return int(failed[0]["payload"]["attempts"])


def test_the_command_line_takes_callback_retries(capsys: Any) -> None:
    parser = build_parser()
    assert parser.parse_args(["serve", REMOTE, "--callback-retries", "3"]).callback_retries == 3
    assert parser.parse_args(["serve", REMOTE]).callback_retries is None  # then the variable, else 5
    with pytest.raises(SystemExit) as refused:
        main(["serve", REMOTE, "--port", "1", "--callback-retries", "-1"])
    assert refused.value.code == 2
    assert ("igniter-nb serve: error: argument --callback-retries: must be a whole number of retries >= 0, got -1"
            in capsys.readouterr().err)
    with pytest.raises(SystemExit) as stopped:
        main(["serve", REMOTE, "--callback-retries", "three"])
    assert stopped.value.code == 2
    assert "argument --callback-retries: must be a whole number of retries >= 0, got 'three'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    shown = capsys.readouterr().out
    assert "--callback-retries N" in shown and "IGNITER_CALLBACK_RETRIES" in shown


def test_serve_hands_the_flag_else_the_variable_else_5_to_its_workers(runs: dict[str, Any], tmp_path: Path) -> None:
    os.environ.pop(settings.CALLBACK_RETRIES, None)  # (runs made os.environ a copy for this test)
    for flag, variable, handed in ((3, "2", "3"), (0, None, "0"), (None, "2", "2"), (None, None, "5")):
        if variable is None:
            os.environ.pop(settings.CALLBACK_RETRIES, None)
        else:
            os.environ[settings.CALLBACK_RETRIES] = variable
        assert serve_recorded(tmp_path, callback_retries=flag) == 0
        assert os.environ[serve.CALLBACK_RETRIES_VAR] == handed, (flag, variable)
    os.environ[settings.CALLBACK_RETRIES] = "lots"
    with pytest.raises(serve.ServeError, match="IGNITER_CALLBACK_RETRIES='lots' is not a whole number of retries"):
        serve_recorded(tmp_path)
    assert serve_recorded(tmp_path, callback_retries=1) == 0  # a flag hides a bad variable


def test_create_app_takes_the_argument_else_the_variable(live_app: Callable[..., LiveServer],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.server.remote_contracts import REMOTE as CONTRACTS

    monkeypatch.setenv(settings.CALLBACK_RETRIES, "1")
    for argument, attempts in ((None, 2), (0, 1)):
        store = MemoryStore()
        server = live_app(ig.server.create_app(CONTRACTS, store=store, callback_retries=argument))
        with httpx.Client(base_url=server.url, timeout=10) as http:
            assert _callback_attempts(http, lambda rid, store=store: store.record(rid).snapshot["events"]) == attempts
    monkeypatch.setenv(settings.CALLBACK_RETRIES, "-2")
    with pytest.raises(ig.SettingsError, match="IGNITER_CALLBACK_RETRIES='-2'"):
        ig.server.create_app(CONTRACTS, store=MemoryStore())


def test_a_real_serve_with_callback_retries_0_sends_a_callback_once(serve: Callable[..., ServerProcess],
                                                                      tmp_path: Path) -> None:
    from igniter_nb.stores import from_url

    url = f"sqlite:///{tmp_path / 'callbacks.db'}"
    server = serve(REMOTE, store=url, args=("--callback-retries", "0"))
    with from_url(url) as store, httpx.Client(base_url=server.url, timeout=10) as http:
        assert _callback_attempts(http, lambda rid: store.record(rid).snapshot["events"]) == 1
    assert server.stop() == 0, server.log()
