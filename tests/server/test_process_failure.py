"""``igniter-nb serve`` when its processes die or are stopped: a worker killed while clients deliver events, the
supervisor killed, a request still running when the graceful shutdown's time is up. Real servers
(tests/server/server_process.py) on a SQLite file store; every one is stopped when its test ends."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from igniter_nb.server import Client, RemoteConnectionError, balance, reuseport
from tests.polling import wait_for
from tests.server.server_process import LISTEN, OPEN, ServerProcess, process_tree
from tests.server.worker_probes import stopped_during_slow_request

pytestmark = pytest.mark.skipif(not (balance.supported() and reuseport.supported()),
                                reason="--balance supervisor and reuseport run on Linux only")

PIDS = "tests.server.pid_contracts:CONTRACTS"
LEADS_AND_SLOW = "tests.server.pid_contracts:WITH_LEADS"
MODES = ["supervisor", "reuseport", "shared"]


def _workers(server: ServerProcess) -> set[int]:
    """The serve process's worker processes (uvicorn spawns them; its resource tracker is not one)."""
    assert server.pid is not None
    found = set()
    for pid in process_tree(server.pid)[1:]:
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes() and _running(pid):
                found.add(pid)
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def process_groups() -> Iterator[list[int]]:
    """Process groups a test leaves behind on purpose (a serve process killed before its workers): SIGKILLed when
    the test ends, whatever it found."""
    groups: list[int] = []
    yield groups
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)


# ----------------------------------------------------------------------------------------------- a worker killed


def _deliveries(count: int) -> list[dict[str, Any]]:
    bodies = []
    for i in range(count):
        corr = {"request_id": f"w-{i}"}
        bodies.append({"event": "crm_received", "correlation": corr, "payload": {"name": f"n{i}"},
                       "idempotency_key": f"crm-{i}"})
        bodies.append({"event": "billing_received", "correlation": corr, "payload": i, "idempotency_key": f"bill-{i}"})
    return bodies


async def _deliver(url: str, bodies: list[dict[str, Any]], clients: int,
                   halfway: Callable[[], None]) -> collections.Counter[int]:
    """Every body posted by one of ``clients`` keep-alive clients, each retried with its idempotency key after a
    failed connection or a 5xx (up to 100 attempts); ``halfway()`` is called once half of them are answered.
    Returns the last answer's status per body. (How many attempts failed is not counted: a connection to the
    killed worker that was idle is replaced by httpcore without a failure, so that number may be 0.)"""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    final: collections.Counter[int] = collections.Counter()

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_connections=1)) as http:
            while not queue.empty():
                body = queue.get_nowait()
                status = 0
                for _ in range(100):
                    try:
                        status = (await http.post("/v1/contracts/lead/events", json=body)).status_code
                    except httpx.HTTPError:
                        status = 0
                    if 0 < status < 500:
                        break
                    await asyncio.sleep(0.05)
                final[status] += 1
                if sum(final.values()) == len(bodies) // 2:
                    halfway()

    await asyncio.gather(*(client() for _ in range(clients)))
    return final


def _slow_request(url: str, started: Path) -> tuple[threading.Thread, list[BaseException]]:
    """``execute("slow_worker_pid")`` in a thread: its node writes its worker's pid to ``started``, then sleeps for
    two minutes. What it raised is put in the returned list."""
    raised: list[BaseException] = []

    def run() -> None:
        with Client(url, timeout=180, retries=3) as client:  # retries: execute is never retried all the same
            try:
                client.execute("slow_worker_pid", {"started": str(started), "seconds": 120.0})
            except Exception as exc:  # the test asserts what it is
                raised.append(exc)

    thread = threading.Thread(target=run, name="slow request")
    thread.start()
    return thread, raised


@pytest.mark.parametrize("mode", ["supervisor", "reuseport"])
def test_a_worker_killed_while_16_clients_deliver_is_replaced_and_no_signal_is_lost_or_applied_twice(
        mode: str, serve: Callable[..., ServerProcess], tmp_path: Path) -> None:
    """The worker killed is the one running a slow request, so the kill is known to cut a request short: that
    request fails with ``RemoteConnectionError`` (sent: the server may have seen it; ``execute`` is not retried)
    and leaves nothing in the store, while the deliveries — retried with their keys — are all answered."""
    store = f"sqlite:///{tmp_path / 'x.db'}"
    server = serve(LEADS_AND_SLOW, store=store, workers=2, args=("--balance", mode), port=0)
    count = 100
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for i in range(count):
            assert http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": f"w-{i}"}}).status_code == 200
    before = _workers(server)
    assert len(before) == 2
    started = tmp_path / "started"
    slow, raised = _slow_request(server.url, started)
    wait_for(lambda: started.exists() and started.read_text().isdigit(), f"the slow request started:\n{server.log()}")
    killed = int(started.read_text())
    assert killed in before

    final = asyncio.run(_deliver(server.url, _deliveries(count), 16, lambda: os.kill(killed, signal.SIGKILL)))
    assert final == {200: 2 * count}, (final, server.log())  # retried with the same key: answered, never refused
    slow.join(30)
    assert not slow.is_alive()
    assert len(raised) == 1 and isinstance(raised[0], RemoteConnectionError), raised  # cut short, not retried
    assert raised[0].sent and not raised[0].timeout
    assert not _running(killed)

    after = wait_for(lambda: (found := _workers(server)) and len(found) == 2 and found,
                     f"a worker started instead of {killed}:\n{server.log()}")
    assert killed not in after and len(after & before) == 1
    (replacement,) = after - before
    if mode == "supervisor":  # (port=0: uvicorn's info lines are in the log)
        wait_for(lambda: f"Worker [{replacement}] takes connections" in server.log(),
                 f"{replacement} ready:\n{server.log()}")
    else:
        wait_for(lambda: replacement in server.sockets(LISTEN), f"{replacement} listening:\n{server.log()}")
    # once it has started, the replacement takes new connections again; the supervisor's counts survived the kill
    # (the delivering clients' connections closed first, as the worker told the supervisor: counts start even)
    # (closed by the worker, not only by the client: CLOSE_WAIT is a connection the supervisor still counts)
    wait_for(lambda: not server.sockets(OPEN), f"the delivering clients' connections closed:\n{server.log()}")
    with contextlib.ExitStack() as stack:
        clients = [stack.enter_context(httpx.Client(base_url=server.url, timeout=30)) for _ in range(16)]
        assert all(client.get("/v1/health").status_code == 200 for client in clients)
        # the supervisor closes its copy of a connection once the send to the worker returned, which may be after
        # the worker has answered on it: wait until the workers alone hold them
        split = wait_for(lambda: (held := server.sockets()) and server.pid not in held and held,
                         f"the connections held by the workers only:\n{server.log()}")
        assert set(split) == after, split
        if mode == "supervisor":
            assert sorted(split.values()) == [8, 8], split

    from igniter_nb.stores import from_url

    with from_url(store) as opened:
        records = opened.list(graph="Lead")
        assert len(records) == count
        for record in records:  # every signal applied exactly once, whatever the kill cut short
            assert record.status == "succeeded", record.execution_id
            assert sorted(s["event"] for s in record.snapshot["workflow"]["signals"]) == ["billing_received",
                                                                                         "crm_received"]
        assert opened.list(graph="SlowWorkerPid") == []  # the cut execution: saved only once resolved, so never
    assert server.stop() == 0, server.log()


# ----------------------------------------------------------------------------------------- the supervisor killed


@pytest.mark.parametrize("mode", MODES)
def test_the_workers_stop_once_their_supervisor_is_killed(mode: str, serve: Callable[..., ServerProcess],
                                                          tmp_path: Path, process_groups: list[int]) -> None:
    """A supervisor killed with SIGKILL (the OOM killer, ``kill -9``) cannot stop its workers: they notice it is
    gone and stop themselves, as on SIGTERM, rather than serving on as orphans that hold the port."""
    server = serve(PIDS, store=f"sqlite:///{tmp_path / 'x.db'}", workers=2, args=("--balance", mode))
    assert server.pid is not None
    process_groups.append(server.pid)  # its own session: the workers are in its process group
    workers = _workers(server)
    assert len(workers) == 2
    os.kill(server.pid, signal.SIGKILL)
    assert server.stop() == -signal.SIGKILL

    wait_for(lambda: not any(_running(pid) for pid in workers),
             f"the workers {workers} stopped without their supervisor:\n{server.log()}", timeout=15)
    assert reuseport.check_free("127.0.0.1", server.port) == server.port  # nothing listens there any more
    assert "Traceback" not in server.log()


# ------------------------------------------------------------------------------------ the shutdown's time is up


@pytest.mark.parametrize("workers", [1, 2])
def test_a_request_still_running_when_the_graceful_shutdown_ends_gets_a_json_503_and_the_process_exits(
        workers: int, serve: Callable[..., ServerProcess], tmp_path: Path) -> None:
    """Uvicorn gives the requests in flight 10 s after SIGTERM, then cancels them: the client gets the documented
    JSON error (503: retry it), not uvicorn's plain-text 500, the log no traceback, and the process exits then,
    not once the node's thread is done (here a minute later: ``stop`` kills it after 20 s)."""
    server = serve(PIDS, store=f"sqlite:///{tmp_path / 'x.db'}", workers=workers)
    code, response = stopped_during_slow_request(server, tmp_path / "started", 60.0)
    assert code == 0, server.log()
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["type"] == "ServerStopping"
    assert "idempotency" in response.json()["error"]
    assert response.headers["retry-after"] == "1"  # what the client's retries wait (docs/server.md, The client)
    assert "Traceback" not in server.log() and "Exception in ASGI application" not in server.log(), server.log()


def test_after_the_shutdown_serve_leaves_the_application_s_own_threads_to_python_s_exit() -> None:
    """Only the app's threadpool threads still running are left behind (above); a thread of the application's own
    is not a reason to end the process (here: pytest's) at once."""
    from igniter_nb.server import serve as serving

    release = threading.Event()
    own = threading.Thread(target=release.wait, name="the application's own")
    own.start()
    try:
        serving._exit_without_abandoned_work(settle=0.1)  # returns: the process would have ended here otherwise
        assert own.is_alive()
    finally:
        release.set()
        own.join(10)
