"""The test suite's own services never lose a port race: a port chosen free (``free_port``) that another process takes
before the service binds it is seen for sure, and the service starts on another port — never talking to the
process that took it. Each test holds the first chosen port bound and listening itself."""

from __future__ import annotations

import errno
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import services
from tests.polling import wait_for
from tests.services import PostgresServer, RedisServer


@pytest.fixture
def held() -> Iterator[socket.socket]:
    """A port bound and listening in this process: another program's server, taken after it was chosen."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock


def _port(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def _first_taken(monkeypatch: pytest.MonkeyPatch, taken: int, times: int = 1) -> list[int]:
    """``free_port`` returns ``taken`` ``times`` times, then truly free ports; the list records each port chosen."""
    chosen: list[int] = []
    real = services.free_port

    def fake() -> int:
        chosen.append(taken if len(chosen) < times else real())
        return chosen[-1]

    monkeypatch.setattr(services, "free_port", fake)
    from tests.integrations import processes

    monkeypatch.setattr(processes, "free_port", fake, raising=False)  # (where it imported the name itself)
    return chosen


def _redis_info(port: int) -> dict[str, str]:
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    try:
        assert client.set("service-ports", "mine") and client.get("service-ports") == b"mine"
        return {k: str(v) for k, v in client.info("server").items()}
    finally:
        client.close()


def test_redis_starts_on_another_port_when_the_chosen_one_was_taken(
        monkeypatch: pytest.MonkeyPatch, held: socket.socket) -> None:
    chosen = _first_taken(monkeypatch, _port(held))
    with RedisServer() as server:
        assert len(chosen) == 2 and server.port == chosen[1] != _port(held)
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        assert _redis_info(server.port)["process_id"] == str(server.pid)  # this redis-server, not another
        assert server.pid is not None and services.listens_on(server.pid, server.port)
    held.settimeout(0)
    with pytest.raises(BlockingIOError):  # nobody connected to the process that held the port
        held.accept()


def test_redis_names_the_ports_and_its_log_when_every_port_chosen_was_taken(
        monkeypatch: pytest.MonkeyPatch, held: socket.socket) -> None:
    _first_taken(monkeypatch, _port(held), times=100)
    server = RedisServer()
    with pytest.raises(RuntimeError) as caught:
        server.start()
    server.stop()
    message = str(caught.value)
    assert f"(last: {_port(held)})" in message and "Address already in use" in message, message


def test_redis_on_a_given_port_that_is_taken_says_so_and_does_not_move(held: socket.socket) -> None:
    server = RedisServer(port=_port(held))
    with pytest.raises(RuntimeError, match=rf"port {_port(held)} \(given\) is taken") as caught:
        server.start()
    server.stop()
    assert server.port == _port(held) and "Address already in use" in str(caught.value)


def test_postgres_starts_on_another_port_when_the_chosen_one_was_taken(
        monkeypatch: pytest.MonkeyPatch, held: socket.socket) -> None:
    import sqlalchemy

    chosen = _first_taken(monkeypatch, _port(held))
    with PostgresServer() as server:
        assert len(chosen) == 2 and server.port == chosen[1] != _port(held)
        assert f"@127.0.0.1:{server.port}/" in server.url
        engine = sqlalchemy.create_engine(server.url)
        try:
            with engine.connect() as conn:
                data_directory = conn.execute(sqlalchemy.text("SHOW data_directory")).scalar_one()
                backend = conn.execute(sqlalchemy.text("SELECT pg_backend_pid()")).scalar_one()
        finally:
            engine.dispose()
        assert Path(str(data_directory)).resolve() == server._data.resolve()  # this cluster, not another
        assert int(Path(f"/proc/{backend}/stat").read_text().split(") ")[1].split()[1]) == server.postmaster_pid()
        assert "Address already in use" in server.log_text()  # the first attempt, on the taken port
    held.settimeout(0)
    with pytest.raises(BlockingIOError):
        held.accept()


def test_webhook_uvicorn_starts_on_another_port_when_the_chosen_one_was_taken(
        monkeypatch: pytest.MonkeyPatch, held: socket.socket, tmp_path: Path) -> None:
    from tests.integrations.processes import environment, serve

    chosen = _first_taken(monkeypatch, _port(held))
    env = environment(WEBHOOK_SECRET="s" * 32, WEBHOOK_QUEUE="service-ports",
                      WEBHOOK_RQ_URL="redis://127.0.0.1:1/0", IGNITER_STORE_URL="memory://")
    with serve(env, tmp_path / "uvicorn.log") as url:
        assert len(chosen) == 2 and url == f"http://127.0.0.1:{chosen[1]}" and chosen[1] != _port(held)
        answer = httpx.post(f"{url}/inline/payment", content=b"{}", timeout=10)  # unsigned: refused by the endpoint
        assert 400 <= answer.status_code < 500, answer.text
    held.settimeout(0)
    with pytest.raises(BlockingIOError):
        held.accept()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_listens_on_tells_the_owner_of_a_listening_socket_from_another_process(held: socket.socket) -> None:
    assert services.listens_on(os.getpid(), _port(held))
    assert not services.listens_on(os.getppid(), _port(held))
    with socket.socket() as unbound:
        unbound.bind(("127.0.0.1", 0))  # bound, not listening
        assert not services.listens_on(os.getpid(), int(unbound.getsockname()[1]))


def test_a_dead_port_refuses_connections_and_no_server_can_take_it() -> None:
    with services.dead_port() as port:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        with socket.socket() as server, pytest.raises(OSError) as caught:
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn, redis and PostgreSQL do
            server.bind(("127.0.0.1", port))
        assert caught.value.errno == errno.EADDRINUSE


def test_on_free_port_starts_a_server_that_must_know_its_port_on_another_one_when_taken(
        monkeypatch: pytest.MonkeyPatch, held: socket.socket) -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from tests.server.live_server import LiveServer

    chosen = _first_taken(monkeypatch, _port(held))
    apps: list[int] = []

    def start(port: int) -> LiveServer:
        apps.append(port)  # (its own URL, in its settings)
        app = Starlette(routes=[Route("/", lambda request: PlainTextResponse(f"me on {port}"))])
        return LiveServer(app, port=port).start()

    server = services.on_free_port(start, "live app")
    try:
        assert apps == chosen and len(chosen) == 2 and server.port == chosen[1] != _port(held)
        assert httpx.get(server.url, timeout=10).text == f"me on {server.port}"
    finally:
        server.stop()


def test_on_free_port_names_the_ports_when_every_one_was_taken(monkeypatch: pytest.MonkeyPatch,
                                                               held: socket.socket) -> None:
    _first_taken(monkeypatch, _port(held), times=100)
    with pytest.raises(RuntimeError, match=rf"live app: every port chosen .*\(last: {_port(held)}\)"):
        services.on_free_port(lambda port: socket.create_server(("127.0.0.1", port)), "live app")


def test_on_free_port_leaves_other_errors_alone() -> None:
    calls: list[int] = []

    def start(port: int) -> None:
        calls.append(port)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match=r"^boom$"):
        services.on_free_port(start)
    assert len(calls) == 1


def test_wait_listening_finds_the_listener_among_the_process_group(tmp_path: Path) -> None:
    """A server started through a shell (the Procfile's processes) listens from a child of the process started."""
    import subprocess

    listener = ("import socket, time; s = socket.create_server(('127.0.0.1', 0)); "
                "print(s.getsockname()[1], flush=True); time.sleep(60)")
    log = tmp_path / "group.log"
    with log.open("wb") as out:
        shell = subprocess.Popen(["bash", "-c", f"{sys.executable} -c \"{listener}\"; true"], stdout=out,
                                 start_new_session=True)
    try:
        wait_for(lambda: log.read_text().strip(), "the child's port")
        port = int(log.read_text())
        services.wait_listening(port, shell, "a shell's child", log, timeout=30, group=True)
        assert services.listens_on(shell.pid, port, group=True) and not services.listens_on(shell.pid, port)
    finally:
        services.stop_process_groups([shell], grace=5)


def test_on_free_port_starts_again_a_server_that_shares_its_port_with_another(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two servers of one user with SO_REUSEPORT both listen on one port (``igniter-nb serve --workers 2`` binds so):
    no "address already in use", and each gets some of the connections. The started server must listen alone."""
    import subprocess

    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        chosen = _first_taken(monkeypatch, _port(other))
        script = ("import socket, sys, time; s = socket.socket(); "
                  "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1); s.bind(('127.0.0.1', int(sys.argv[1]))); "
                  "s.listen(); print('up', flush=True); time.sleep(60)")
        procs: list[subprocess.Popen[str]] = []

        def start(port: int) -> subprocess.Popen[str]:
            procs.append(subprocess.Popen([sys.executable, "-c", script, str(port)], stdout=subprocess.PIPE,
                                          text=True, start_new_session=True))
            assert procs[-1].stdout is not None and procs[-1].stdout.readline() == "up\n"
            return procs[-1]

        try:
            server = services.on_free_port(start, "sharer", pid=lambda proc: proc.pid, stop=lambda proc: proc.kill())
            assert len(procs) == 2 and procs[0].wait(10) is not None  # the first one, sharing, stopped
            assert server is procs[1] and len(chosen) == 2 and chosen[1] != _port(other)
            assert services.listens_on(server.pid, chosen[1], alone=True)
        finally:
            services.stop_process_groups(procs, grace=5)
            for proc in procs:
                assert proc.stdout is not None
                proc.stdout.close()
