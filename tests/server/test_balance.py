"""``igniter-nb serve --workers N`` on Linux, by default: the supervisor accepts every connection and hands it to the
worker with the fewest open connections, so keep-alive clients are spread evenly (16 over 2 workers: 8+8), also
after a worker died and was replaced."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from igniter_nb.server import balance, serve
from tests.polling import wait_for
from tests.server.server_process import LISTEN, OPEN, ServerProcess, serve_recorded, sockets_on
from tests.server.worker_probes import ok_app, pids_by_connection, stopped_during_slow_request

pytestmark = pytest.mark.skipif(not balance.supported(), reason="the supervisor hands connections over on Linux only")

PIDS = "tests.server.pid_contracts:CONTRACTS"


# ----------------------------------------------------------------------------------------------- the balancer


class FakeWorker:
    """The worker's end of a channel to a real :class:`balance.Balancer`, driven by the test."""

    def __init__(self, balancer: balance.Balancer, pid: int) -> None:
        self.channel, supervisor_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.channel.settimeout(30)
        self.pid = pid
        balancer.add(supervisor_end, pid)

    def say(self, message: bytes, fds: list[int] | None = None) -> None:
        socket.send_fds(self.channel, [message], fds or [])

    def receive(self, count: int) -> list[socket.socket]:
        """The next ``count`` connections handed to this worker (each message: one connection)."""
        got = []
        while len(got) < count:
            message, fds, _, _ = socket.recv_fds(self.channel, 16, 4)
            assert message == balance.CONNECTION and len(fds) == 1, (message, fds)
            got.append(socket.socket(fileno=fds[0]))
        return got

    def queued(self) -> int:
        """Connections handed to this worker and not yet received (read and closed here)."""
        self.channel.setblocking(False)
        count = 0
        try:
            while True:
                _, fds, _, _ = socket.recv_fds(self.channel, 16, 4)
                for fd in fds:
                    os.close(fd)
                count += len(fds)
        except BlockingIOError:
            return count
        finally:
            self.channel.settimeout(30)


@pytest.fixture
def opened() -> Iterator[list[socket.socket]]:
    """Sockets a test opens; all closed when it ends."""
    sockets: list[socket.socket] = []
    yield sockets
    for sock in sockets:
        sock.close()


@pytest.fixture
def balancers(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[..., tuple[balance.Balancer, int]]]:
    """Start a Balancer on a fresh 127.0.0.1 port: ``(balancer, port)``; all closed when the test ends, and none
    of them may have failed."""
    started: list[balance.Balancer] = []

    def start(workers: int, **kw: Any) -> tuple[balance.Balancer, int]:
        listener = balance.bind("127.0.0.1", 0)
        balancer = balance.Balancer(listener, workers, **kw).start()
        started.append(balancer)
        return balancer, listener.getsockname()[1]

    yield start
    for balancer in started:
        balancer.close()
    assert "balancer failed" not in caplog.text


def _connect(port: int, opened: list[socket.socket], count: int) -> None:
    for _ in range(count):
        opened.append(socket.create_connection(("127.0.0.1", port), timeout=10))


def test_the_supervisor_listens_once_every_worker_started_and_hands_connections_by_count(
        balancers: Callable[..., tuple[balance.Balancer, int]], opened: list[socket.socket]) -> None:
    balancer, port = balancers(2)
    one, two = FakeWorker(balancer, 1), FakeWorker(balancer, 2)
    one.say(balance.READY)
    with pytest.raises(ConnectionRefusedError):  # one of two workers started: not listening yet
        socket.create_connection(("127.0.0.1", port), timeout=10).close()
    two.say(balance.READY)
    wait_for(lambda: sockets_on(port, LISTEN), "the supervisor listening")

    _connect(port, opened, 16)
    first, second = one.receive(8), two.receive(8)  # 8+8, whatever the order they were accepted in
    assert one.queued() == two.queued() == 0
    for connection in first + second:
        assert connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0  # set by the supervisor
        connection.close()
    assert balancer.counts() == {1: 8, 2: 8}  # counted before each hand-over, so no wait is needed

    # worker 1 closed all of its connections, and the client opens 8 more at once: the supervisor reads what the
    # workers said before it hands a connection over, so the next 8 are all worker 1's (the close was sent first;
    # this does not pin the order in which the supervisor reads a close and a connection arriving together)
    one.say(balance.CLOSED + b"8")
    _connect(port, opened, 8)
    for connection in one.receive(8):
        connection.close()
    assert two.queued() == 0

    # worker 2 stops: it gives back two connections queued to it (stand-ins here); they and new ones go to worker 1
    given = [socket.socket() for _ in range(2)]
    opened.extend(given)
    two.say(balance.GIVEN_BACK, [sock.fileno() for sock in given])
    for connection in one.receive(2):
        assert connection.type == socket.SOCK_STREAM
        connection.close()
    _connect(port, opened, 3)
    for connection in one.receive(3):
        connection.close()
    assert two.queued() == 0


def test_a_worker_that_shut_its_channel_or_died_gets_nothing_more(
        balancers: Callable[..., tuple[balance.Balancer, int]], opened: list[socket.socket]) -> None:
    balancer, port = balancers(2)
    one, two = FakeWorker(balancer, 1), FakeWorker(balancer, 2)
    one.say(balance.READY)
    two.say(balance.READY)
    wait_for(lambda: sockets_on(port, LISTEN), "the supervisor listening")
    one.channel.shutdown(socket.SHUT_RD)  # what a worker does first when it shuts down gracefully
    _connect(port, opened, 4)
    for connection in two.receive(4):
        connection.close()
    two.channel.close()  # dies
    wait_for(lambda: 2 not in balancer.counts(), "the dead worker dropped")

    # no worker left that can take a connection: it waits until a new one has started (a restarted worker)
    _connect(port, opened, 1)
    three = FakeWorker(balancer, 3)
    three.say(balance.READY)
    for connection in three.receive(1):
        connection.close()


def test_without_every_worker_the_supervisor_listens_after_the_grace(
        balancers: Callable[..., tuple[balance.Balancer, int]], opened: list[socket.socket]) -> None:
    balancer, port = balancers(2, grace=0.0)
    one = FakeWorker(balancer, 1)
    never = FakeWorker(balancer, 2)  # its app never starts (kept: a closed channel would drop it)
    one.say(balance.READY)
    wait_for(lambda: sockets_on(port, LISTEN), "the supervisor listening with one worker")
    _connect(port, opened, 3)
    for connection in one.receive(3):
        connection.close()
    assert never.queued() == 0


def test_once_the_supervisor_stops_nothing_more_is_accepted(balancers: Callable[..., tuple[balance.Balancer, int]],
                                                            opened: list[socket.socket]) -> None:
    stopping = threading.Event()
    balancer, port = balancers(1, stopping=stopping)
    one = FakeWorker(balancer, 1)
    one.say(balance.READY)
    wait_for(lambda: sockets_on(port, LISTEN), "the supervisor listening")
    stopping.set()  # SIGINT/SIGTERM: the supervisor's should_exit
    wait_for(lambda: not sockets_on(port, LISTEN), "the listening socket closed")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=10).close()
    one.say(balance.CLOSED + b"1")  # the workers still talk while they finish: nothing breaks
    one.channel.close()
    wait_for(lambda: not balancer.counts(), "the worker dropped")


def test_a_failing_balancer_says_so_and_stops_the_supervisor(opened: list[socket.socket], monkeypatch: Any,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    def broken(self: balance.Balancer, connection: socket.socket) -> None:
        connection.close()
        raise RuntimeError("a bug in the balancer")

    monkeypatch.setattr(balance.Balancer, "_hand", broken)
    stopping = threading.Event()
    listener = balance.bind("127.0.0.1", 0)
    balancer = balance.Balancer(listener, 1, stopping=stopping).start()
    worker = FakeWorker(balancer, 1)
    try:
        worker.say(balance.READY)
        port = listener.getsockname()[1]
        wait_for(lambda: sockets_on(port, LISTEN), "the supervisor listening")
        _connect(port, opened, 1)
        wait_for(stopping.is_set, "the supervisor told to stop")
        assert balancer.failed
    finally:
        balancer.close()
        worker.channel.close()
    assert "the connection balancer failed; stopping" in caplog.text and "a bug in the balancer" in caplog.text


# ----------------------------------------------------------------------------------------------- a worker


@pytest.fixture
def worker_server() -> Iterator[tuple[balance.BalancedServer, socket.socket]]:
    """A BalancedServer (the ``ok_app`` app) running in a thread, and the supervisor's end of its channel."""
    supervisor_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    supervisor_end.settimeout(30)
    config = uvicorn.Config(ok_app, log_level="warning", http="igniter_nb.server.nodelay:NoDelayHTTPProtocol")
    server = balance.BalancedServer(config, worker_end)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server, supervisor_end
    finally:
        server.should_exit = True
        thread.join(30)
        supervisor_end.close()


def test_a_worker_says_it_started_serves_what_it_is_handed_and_reports_each_close(
        worker_server: tuple[balance.BalancedServer, socket.socket], opened: list[socket.socket]) -> None:
    server, channel = worker_server
    assert channel.recv(16) == balance.READY  # once its app has started
    listener = socket.create_server(("127.0.0.1", 0))
    opened.append(listener)
    for _ in range(2):
        client = socket.create_connection(listener.getsockname(), timeout=30)
        opened.append(client)
        accepted, _ = listener.accept()
        socket.send_fds(channel, [balance.CONNECTION], [accepted.fileno()])
        accepted.close()  # the worker has its own copy now, as from the supervisor
        client.sendall(b"GET / HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n")
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"\r\n\r\n2\r\nok\r\n0\r\n\r\n")  # ok_app's body, chunked
        assert channel.recv(16) == balance.CLOSED + b"1"
    server.should_exit = True  # SIGTERM: it shuts its channel, and the supervisor sees it go
    assert channel.recv(16) == b""


def test_a_stopping_worker_refuses_new_connections_and_gives_queued_ones_back(opened: list[socket.socket]) -> None:
    supervisor_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    opened += [supervisor_end, worker_end]
    server = balance.BalancedServer(uvicorn.Config(ok_app), worker_end)
    worker_end.setblocking(False)
    queued = [socket.socket() for _ in range(2)]  # stand-ins for connections handed over and not yet read
    opened.extend(queued)
    for sock in queued:
        socket.send_fds(supervisor_end, [balance.CONNECTION], [sock.fileno()])
    worker_end.shutdown(socket.SHUT_RD)  # what BalancedServer.shutdown does first
    with pytest.raises(BrokenPipeError):  # the supervisor's next hand-over fails: it tries another worker
        socket.send_fds(supervisor_end, [balance.CONNECTION], [queued[0].fileno()])
    server._give_back()
    supervisor_end.settimeout(30)
    returned = []
    for _ in range(2):
        message, fds, _, _ = socket.recv_fds(supervisor_end, 16, 4)
        assert message == balance.GIVEN_BACK
        returned += fds
    assert len(returned) == 2
    for fd in returned:
        assert socket.socket(fileno=fd).type == socket.SOCK_STREAM


# ----------------------------------------------------------------------------------------------- serve()




@pytest.mark.parametrize("balance_mode", [None, "supervisor"])
def test_several_workers_on_linux_get_their_connections_from_the_supervisor(balance_mode: str | None,
                                                                            runs: dict[str, Any],
                                                                            tmp_path: Path) -> None:
    assert serve_recorded(tmp_path, balance=balance_mode) == 0
    assert list(runs) == ["supervisor"]
    assert runs["supervisor"]["workers"] == 2 and runs["supervisor"]["port"] != 0
    assert runs["supervisor"]["http"] == "igniter_nb.server.nodelay:NoDelayHTTPProtocol"


@pytest.mark.parametrize("kw, message", [
    ({"balance": "reuseport", "reuse_port": False}, "--no-reuse-port is --balance shared; it cannot go with "
                                                    "--balance reuseport"),
    ({"balance": "anyhow"}, "--balance must be one of supervisor, reuseport, shared, got 'anyhow'"),
    ({"balance": "supervisor", "platform": "darwin"}, "--balance supervisor needs Linux"),
    ({"balance": "reuseport", "platform": "darwin"}, "--balance reuseport needs Linux"),
])
def test_a_balance_mode_that_cannot_be_had_is_a_serve_error(kw: dict[str, Any], message: str, runs: dict[str, Any],
                                                             tmp_path: Path, monkeypatch: Any) -> None:
    if "platform" in kw:
        monkeypatch.setattr(sys, "platform", kw.pop("platform"))
    with pytest.raises(serve.ServeError, match=message):
        serve_recorded(tmp_path, **kw)
    assert runs == {}


def test_a_failed_balancer_is_a_serve_error(runs: dict[str, Any], tmp_path: Path, monkeypatch: Any) -> None:
    def failed(app: str, listener: socket.socket, **kw: Any) -> bool:
        raise balance.BalancerError("the connection balancer failed (the reason is in the log above)")

    monkeypatch.setattr(balance, "run", failed)
    with pytest.raises(serve.ServeError, match=r"the connection balancer failed \(the reason is in the log above\), "
                                               "so all 2 workers were stopped"):
        serve_recorded(tmp_path)


def test_the_command_takes_balance(monkeypatch: Any) -> None:
    from igniter_nb import cli

    given: dict[str, Any] = {}
    monkeypatch.setattr(serve, "serve", lambda target, **kw: given.update(kw) or 0)
    assert cli.main(["serve", PIDS, "--workers", "2", "--balance", "reuseport"]) == 0
    assert given["balance"] == "reuseport" and given["reuse_port"] is True
    assert cli.main(["serve", PIDS, "--workers", "2"]) == 0
    assert given["balance"] is None
    with pytest.raises(SystemExit):
        cli.main(["serve", PIDS, "--balance", "kernel"])


# ----------------------------------------------------------------------------------------------- a real server


def _split(server: ServerProcess, connections: int = 16) -> collections.Counter[int]:
    """Which worker served each of ``connections`` keep-alive connections opened at once (after the workers
    closed every connection of before, so that the supervisor's counts start even)."""
    # closed by the workers, not only by the clients: a connection its client closed (CLOSE_WAIT) is still counted
    # open by the supervisor until its worker has read the end of it and reported the close
    wait_for(lambda: not server.sockets(OPEN), f"the server's connections closed by its workers:\n{server.log()}")
    by_connection = asyncio.run(pids_by_connection(server.url, connections, 3))
    assert all(len(pids) == 1 for pids in by_connection)  # a keep-alive connection stays with its worker
    return collections.Counter(pid for pids in by_connection for pid in pids)


def test_sixteen_keep_alive_connections_land_eight_and_eight(serve: Callable[..., ServerProcess],
                                                            tmp_path: Path) -> None:
    server = serve(PIDS, store=f"sqlite:///{tmp_path / 'x.db'}", workers=2, port=0)
    assert server.port != 0  # read from uvicorn's "Uvicorn running on" line
    assert server.sockets(LISTEN) == {server.pid: 1}  # the supervisor listens, the workers do not
    first = _split(server)
    workers = set(first)
    assert len(workers) == 2 and sorted(first.values()) == [8, 8], first
    for _ in range(3):  # closed and opened again: still even
        split = _split(server)
        assert set(split) == workers and sorted(split.values()) == [8, 8], split
    assert server.stop() == 0
    assert "Traceback" not in server.log() and "balancer failed" not in server.log()


def test_a_killed_worker_is_replaced_and_takes_its_share(serve: Callable[..., ServerProcess], tmp_path: Path) -> None:
    server = serve(PIDS, store=f"sqlite:///{tmp_path / 'x.db'}", workers=2)
    before = set(_split(server))
    assert len(before) == 2
    killed = min(before)
    os.kill(killed, signal.SIGKILL)

    def replacement_serves() -> set[int]:
        answered = set().union(*asyncio.run(pids_by_connection(server.url, 2, 1)))
        return answered - before

    new = wait_for(replacement_serves, f"a new worker serving instead of {killed}:\n{server.log()}")
    split = _split(server)
    assert set(split) == (before - {killed}) | new and sorted(split.values()) == [8, 8], split
    assert server.stop() == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_finishes_the_request_in_flight_and_exits_0(sig: int, serve: Callable[..., ServerProcess],
                                                             tmp_path: Path) -> None:
    server = serve(PIDS, store=f"sqlite:///{tmp_path / 'x.db'}", workers=2)
    started = tmp_path / "started"
    code, response = stopped_during_slow_request(server, started, 1.0, sig)
    assert code == 0, server.log()
    assert response.status_code == 200, response.text
    assert response.json()["outputs"]["pid"] == int(started.read_text())
    assert "Traceback" not in server.log() and "balancer failed" not in server.log()


def _upgrade(port: int) -> bytes:
    """A WebSocket upgrade request for /v1/health on a connection of its own; the status line answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                           b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           b"Sec-WebSocket-Version: 13\r\n\r\n")
        return connection.recv(65536).split(b"\r\n", 1)[0]


def test_websocket_upgrade_requests_are_answered_as_http_and_leave_the_counts_even(
        serve: Callable[..., ServerProcess], tmp_path: Path) -> None:
    """The app serves no WebSocket, so the workers take no upgrade: uvicorn would hand such a connection to its
    WebSocket protocol, whose close the supervisor never hears of — each one counted open for ever, so a client
    sending upgrade requests could tip every new connection onto the other worker."""
    server = serve(PIDS, store=f"sqlite:///{tmp_path / 'x.db'}", workers=2, port=0)
    answers = set()
    for _ in range(16):  # each upgrade goes to the worker not holding the other connection
        with socket.create_connection(("127.0.0.1", server.port), timeout=10):
            answers.add(_upgrade(server.port))
    assert answers == {b"HTTP/1.1 200 OK"}, answers
    split = _split(server)
    assert len(split) == 2 and sorted(split.values()) == [8, 8], split
    assert server.stop() == 0
