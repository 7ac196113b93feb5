"""The test helpers that start servers on a free port: a port chosen free that another process takes before the
server listens (a busy machine, where other processes bind ports all the time) is not a failed test."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import TARGET
from tests.server.live_server import LiveServer
from tests.server.server_process import ServerProcess
from tests.server.worker_probes import ok_app


def test_a_serve_process_whose_port_was_taken_meanwhile_starts_on_another(tmp_path: Path) -> None:
    server = ServerProcess(TARGET, store=f"sqlite:///{tmp_path / 'x.db'}")
    taken = server.port
    with socket.create_server(("127.0.0.1", taken)):  # another process listens there first
        try:
            server.start()
            assert server.port != taken and server.url == f"http://127.0.0.1:{server.port}"
            assert httpx.get(f"{server.url}/v1/health", timeout=10).status_code == 200
            assert "already in use" not in server.log()  # the log is the running server's
        finally:
            server.close()


def test_a_port_given_is_not_chosen_again(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as held:
        server = ServerProcess(TARGET, store=f"sqlite:///{tmp_path / 'x.db'}", port=held.getsockname()[1])
        try:
            try:
                server.start()
            except RuntimeError as exc:
                assert "the address is already in use" in str(exc)
            else:
                raise AssertionError("started on a port something else listens on")
        finally:
            server.close()


def test_a_live_server_holds_its_port_from_the_start() -> None:
    server = LiveServer(ok_app)
    try:
        with socket.socket() as other, pytest.raises(OSError):
            other.bind(("127.0.0.1", server.port))  # bound before the thread runs: nobody can take it meanwhile
        server.start()
        assert httpx.get(server.url, timeout=10).text == "ok"
    finally:
        server.stop()
