"""A test server (tests/server/server_process.py) that answered 500 deleted its log when it stopped, so a rare 500
in CI (``test_sixteen_keep_alive_connections_land_eight_and_eight``) left no cause behind. ``ServerProcess.close``
now keeps the log of a server that answered 500 and writes its tail to stderr, which pytest shows with the failing
test; a server that did not keeps deleting its log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.server.server_process import ServerProcess

TARGET = "tests.server.first_requests_contracts:CONTRACTS"


def test_a_server_that_answered_500_leaves_its_log_tail_on_stderr(tmp_path: Path, capsys: Any) -> None:
    server = ServerProcess(TARGET, store=f"sqlite:///{tmp_path / 'x.db'}").start()
    try:
        answer = httpx.post(f"{server.url}/v1/contracts/boom/execute", json={"inputs": {"n": 1}}, timeout=30)
        assert answer.status_code == 500 and answer.json()["type"] == "InternalServerError"
        assert server.answered_500()
    finally:
        server.close()
    said = capsys.readouterr().err
    assert "answered 500" in said and "RuntimeError: a bug on purpose: boom" in said, said[-2000:]
    kept = Path(said.split("kept whole at ", 1)[1].split(" ---", 1)[0])
    assert "a bug on purpose" in kept.read_text()
    kept.unlink()


def test_a_server_that_did_not_answer_500_deletes_its_log(tmp_path: Path, capsys: Any) -> None:
    server = ServerProcess(TARGET, store=f"sqlite:///{tmp_path / 'x.db'}").start()
    try:
        answer = httpx.post(f"{server.url}/v1/contracts/worker_pid/execute", json={"inputs": {"n": 1}}, timeout=30)
        assert answer.status_code == 200
        assert not server.answered_500()
    finally:
        server.close()
    assert "answered 500" not in capsys.readouterr().err
    assert not Path(server._log.name).exists()
