"""``igniter-nb serve --workers N --balance reuseport`` on Linux: each worker listens on its own ``SO_REUSEPORT``
socket, so the kernel spreads keep-alive connections over the workers instead of the first worker to wake taking most
of them. (The default, the supervisor handing each connection over: tests/server/test_balance.py.)"""

from __future__ import annotations

import asyncio
import errno
import os
import pickle
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from igniter_nb.server import reuseport, serve
from tests.polling import wait_for
from tests.server.server_process import LISTEN, ROOT, ServerProcess, serve_recorded
from tests.server.worker_probes import pids_by_connection

pytestmark = pytest.mark.skipif(not reuseport.supported(), reason="SO_REUSEPORT spreads connections on Linux only")

PIDS = "tests.server.pid_contracts:CONTRACTS"
REUSEPORT = ("--balance", "reuseport")  # the default on Linux is the supervisor handing connections over


# ----------------------------------------------------------------------------------------------- the sockets


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


HOSTS = ["127.0.0.1", pytest.param("::1", marks=pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback"))]


@pytest.fixture
def sockets() -> Iterator[list[socket.socket]]:
    """Sockets a test opens; all closed when it ends."""
    opened: list[socket.socket] = []
    yield opened
    for sock in opened:
        sock.close()


@pytest.mark.parametrize("host", HOSTS)
def test_workers_listen_on_the_port_the_parent_holds_and_nothing_else_can(host: str,
                                                                          sockets: list[socket.socket]) -> None:
    held = reuseport.reserve(host, 0)  # port 0: chosen once, here, for every worker
    sockets.append(held)
    port = held.getsockname()[1]
    assert port != 0
    for _ in range(2):  # what each worker process gets from the supervisor's socket list
        worker = pickle.loads(pickle.dumps(reuseport.WorkerListener(host, port)))
        sockets.append(worker)
        assert worker.getsockname()[1] == port and worker.proto == socket.IPPROTO_TCP  # asyncio: TCP_NODELAY
        assert worker.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        worker.listen()
    with pytest.raises(OSError) as raised:
        reuseport.check_free(host, port)
    assert raised.value.errno == errno.EADDRINUSE
    with socket.create_connection((host, port), timeout=5) as connection:
        assert connection.getpeername()[1] == port


@pytest.mark.parametrize("occupant_reuses_port", [False, True])
def test_a_port_another_server_listens_on_is_refused(occupant_reuses_port: bool, sockets: list[socket.socket]) -> None:
    """Also when that server listens with SO_REUSEPORT (an earlier `igniter-nb serve`): joining its group would
    quietly split the connections between the two servers."""
    occupant = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sockets.append(occupant)
    if occupant_reuses_port:
        occupant.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    occupant.bind(("127.0.0.1", 0))
    occupant.listen()
    with pytest.raises(OSError) as raised:
        reuseport.reserve("127.0.0.1", occupant.getsockname()[1])
    assert raised.value.errno == errno.EADDRINUSE


# ----------------------------------------------------------------------------------------------- serve()




def test_several_workers_listen_with_reuseport_when_asked(runs: dict[str, Any], tmp_path: Path) -> None:
    assert serve_recorded(tmp_path, balance="reuseport") == 0
    assert list(runs) == ["reuseport"]
    assert runs["reuseport"]["workers"] == 2 and runs["reuseport"]["port"] != 0
    assert runs["reuseport"]["http"] == "igniter_nb.server.nodelay:NoDelayHTTPProtocol"


@pytest.mark.parametrize("case", ["one worker", "--no-reuse-port", "--balance shared", "not Linux"])
def test_otherwise_the_workers_share_uvicorn_s_socket(case: str, runs: dict[str, Any], tmp_path: Path,
                                                      monkeypatch: Any) -> None:
    if case == "not Linux":
        monkeypatch.setattr(sys, "platform", "darwin")
    assert serve_recorded(tmp_path, workers=1 if case == "one worker" else 2, reuse_port=case != "--no-reuse-port",
                  balance="shared" if case == "--balance shared" else None) == 0
    assert list(runs) == ["shared"]
    assert runs["shared"]["http"] == "igniter_nb.server.nodelay:NoDelayHTTPProtocol"


@pytest.mark.parametrize("workers", [1, 2])
def test_a_port_in_use_is_a_serve_error_naming_it(workers: int, runs: dict[str, Any], tmp_path: Path,
                                                  sockets: list[socket.socket]) -> None:
    occupant = socket.create_server(("127.0.0.1", 0))
    sockets.append(occupant)
    port = occupant.getsockname()[1]
    with pytest.raises(serve.ServeError, match=rf"--host 127\.0\.0\.1 --port {port}: the address is already in use"):
        serve_recorded(tmp_path, port=port, workers=workers)
    assert runs == {}


def test_a_port_in_use_stops_the_command_with_a_message_not_a_traceback(tmp_path: Path,
                                                                        sockets: list[socket.socket]) -> None:
    occupant = socket.create_server(("127.0.0.1", 0))
    sockets.append(occupant)
    port = occupant.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "igniter_nb.cli", "serve", PIDS, "--port", str(port), "--workers",
                           "2", "--store", f"sqlite:///{tmp_path / 'x.db'}"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert f"--port {port}: the address is already in use" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("mode", [["--balance", "supervisor"], ["--balance", "reuseport"], ["--no-reuse-port"]],
                         ids=["supervisor", "reuse-port", "no-reuse-port"])
def test_a_worker_that_cannot_start_stops_serve_with_an_error_not_a_restart_loop(mode: list[str],
                                                                                 tmp_path: Path) -> None:
    # the module imports in serve's own process (its check passes) and raises in every worker: before, the
    # supervisor restarted the workers without end (a traceback each time)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "igniter_nb.cli", "serve",
                           "tests.server.worker_failing_contracts:CONTRACTS", "--port", "0", "--workers", "2",
                           "--store", f"sqlite:///{tmp_path / 'x.db'}", *mode],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "cannot start: ServeError: importing module 'tests.server.worker_failing_contracts'" in done.stderr
    assert "refuses to load in a worker" in done.stderr
    assert "a worker failed to start (the reason is in the log above), so all 2 workers were stopped" in done.stderr
    assert "Traceback" not in done.stderr and "died" not in done.stderr


# ----------------------------------------------------------------------------------------------- a real server


def _listeners(server: ServerProcess) -> dict[int, int]:
    return server.sockets(LISTEN)


def test_each_worker_listens_on_its_own_socket_on_the_port_chosen_once(serve: Callable[..., ServerProcess],
                                                                       tmp_path: Path) -> None:
    server = serve(PIDS, store=f"sqlite:///{tmp_path / 'x.db'}", workers=2, port=0, args=REUSEPORT)
    assert server.port != 0  # read from the server's log
    listeners = _listeners(server)  # start() waits until every worker listens
    assert len(listeners) == 2 and set(listeners.values()) == {1}
    assert server.pid not in listeners  # the supervisor holds the port with a socket that does not listen


def test_sixteen_keep_alive_connections_are_served_by_both_workers(serve: Callable[..., ServerProcess],
                                                                   tmp_path: Path) -> None:
    server = serve(PIDS, store=f"sqlite:///{tmp_path / 'x.db'}", workers=2, args=REUSEPORT)
    workers = set(_listeners(server))
    assert len(workers) == 2
    for _ in range(3):  # each round 16 new connections; all on one worker: (1/2)^15 by the kernel's hash
        by_connection = asyncio.run(pids_by_connection(server.url, 16, 3))
        assert all(len(pids) == 1 for pids in by_connection)  # a keep-alive connection stays with its worker
        assert set().union(*by_connection) == workers, by_connection


def test_a_killed_worker_is_replaced_and_the_port_still_answers(serve: Callable[..., ServerProcess],
                                                                tmp_path: Path) -> None:
    server = serve(PIDS, store=f"sqlite:///{tmp_path / 'x.db'}", workers=2, args=REUSEPORT)
    before = set(_listeners(server))
    assert len(before) == 2
    killed = min(before)
    os.kill(killed, signal.SIGKILL)
    after = set(wait_for(lambda: (found := _listeners(server)) and len(found) == 2 and killed not in found and found,
                         f"a new worker listening instead of {killed}:\n{server.log()}"))
    replacement = after - before
    assert len(replacement) == 1 and after - replacement == before - {killed}
    answered = set().union(*asyncio.run(pids_by_connection(server.url, 16, 2)))
    assert answered == after
