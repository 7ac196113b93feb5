"""Server benchmark (BARS.md B8): ``deliver_event`` over HTTP against `igniter-nb serve --workers 2`, on SQLite
and on PostgreSQL, with the in-process rate on the same store and a bare FastAPI route measured in the same run.

    .venv/bin/python bench/server.py              # 400 workflows per store (starts its own PostgreSQL)
    .venv/bin/python bench/server.py --quick      # 100 workflows per store
    .venv/bin/python bench/server.py --kinds sqlite --workflows 1000
    .venv/bin/python bench/server.py --threads 1       # igniter-nb serve --threads 1 (store-bound contracts)
    .venv/bin/python bench/server.py --threads sqlite=0,postgres=1   # per store (the B8 runs of docs/server.md)
    .venv/bin/python bench/server.py --client aiohttp  # aiohttp as the load generator (the default without wrk)
    .venv/bin/python bench/server.py --client wrk      # wrk, failing when it is not installed
    .venv/bin/python bench/server.py --client httpx    # httpx as the load generator (~1 ms CPU per request)
    .venv/bin/python bench/server.py --balance reuseport   # each worker on its own SO_REUSEPORT socket
    .venv/bin/python bench/server.py --balance shared      # the workers share one listening socket (uvicorn's way)

For each store: K ``BenchPair`` workflows are started over HTTP; then both events of every workflow (2K
deliveries, in random order, each with an idempotency key) are sent by 16 concurrent clients, each with its own
keep-alive connection and one request in flight (a closed loop). The load generator shares the machine's two
cores with the servers, so it is wrk when installed (bench/_wrk.py: the C tool, one thread with 16 connections,
~0.05-0.15 ms of CPU per request), else aiohttp (C response parser, ~0.2-0.7 ms) with a printed line saying so;
httpx takes ~1 ms. Each run prints what its load generator cost per request. Reported: deliveries/s, p50/p99
latency, errors (any answer but 200, or no answer); then
the store is read back to check that every workflow got each signal exactly once (lost = a signal missing,
doubled = one applied twice). Baselines, same run, same machine:
- in-process: one process calling ``BenchPair.deliver_event`` in a loop on a fresh store of the same kind
  (B8: HTTP >= 0.6x this);
- HTTP floor: the same 16 clients posting the same bodies to a bare FastAPI JSON route under uvicorn with the
  same number of workers (no store, no work) — what HTTP alone costs here.
Each run also prints CPU per request, which the machine's load hardly changes: the server's (its processes, read
from /proc, during the measured phase), the load generator's, and the in-process loop's per delivery — the part of
a delivery's cost that HTTP adds is ``server ms`` minus ``in-proc ms``, against the floor's own ``server CPU``. On
PostgreSQL, ``db ms`` and ``in-proc db ms`` are the database server's own CPU per delivery (all its processes).
Everything runs on 127.0.0.1; every server is stopped at the end (also on errors). Each row also says how the
16 connections were spread over the worker processes (read from /proc during the run, Linux).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench import _wrk  # noqa: E402
from bench._server_contracts import BenchPair  # noqa: E402
from igniter_nb.server import balance  # noqa: E402
from tests.server.server_process import ESTABLISHED, LISTEN, ServerProcess, process_tree, sockets_on  # noqa: E402
from tests.services import (  # noqa: E402
    PORT_ATTEMPTS,
    PortTaken,
    PostgresServer,
    free_port,
    listens_on,
    log_tail,
    port_taken_error,
    wait_listening,
)

TARGET = "bench._server_contracts:CONTRACTS"
RATIO_TARGET = 0.6
P99_TARGET_MS = 50.0
REQUEST_TIMEOUT = 30.0


# ----------------------------------------------------------------------------------------------- load


async def _drive(url: str, path: str, bodies: list[dict[str, Any]], clients: int,
                 library: str) -> tuple[float, list[float], int]:
    """Send ``bodies`` as POSTs to ``path`` from ``clients`` concurrent clients (one keep-alive connection each),
    made with ``library`` ("aiohttp" or "httpx"). Returns (seconds, latencies in ms of the 200 answers, errors).

    The clients are made and connected (one untimed ``GET /openapi.json`` each) before the clock
    starts: making an httpx client builds an SSL context (tens of ms of CPU that blocks the event loop), and
    measuring it inside the first requests put ~1 s into the p99 of every run — a cost of this load generator,
    not of the server. A service's clients keep their connections open the same way. aiohttp parses responses
    in C, so its clients take less of the machine's two cores from the servers they measure (the default)."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    errors = 0
    if library == "aiohttp":
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        sessions: list[Any] = [aiohttp.ClientSession(base_url=url, timeout=timeout, connector=aiohttp.TCPConnector(limit=1))
                    for _ in range(clients)]
        failures: tuple[type[BaseException], ...] = (TimeoutError, aiohttp.ClientError)

        async def answer(session: Any, method: str, target: str, body: Any = None) -> int:
            async with session.request(method, target, json=body) as response:
                await response.read()
                return int(response.status)
    else:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        sessions = [httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT, limits=limits) for _ in range(clients)]
        failures = (httpx.HTTPError,)

        async def answer(session: Any, method: str, target: str, body: Any = None) -> int:
            return (await session.request(method, target, json=body)).status_code

    async def connect(session: Any) -> None:
        with contextlib.suppress(*failures):
            await answer(session, "GET", "/openapi.json")

    async def client(session: Any) -> None:
        nonlocal errors
        while True:
            try:
                body = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            t0 = time.perf_counter()
            try:
                ok = await answer(session, "POST", path, body) == 200
            except failures:
                ok = False
            if ok:
                latencies.append((time.perf_counter() - t0) * 1000)
            else:
                errors += 1

    try:
        await asyncio.gather(*(connect(session) for session in sessions))
        t0 = time.perf_counter()
        await asyncio.gather(*(client(session) for session in sessions))
        return time.perf_counter() - t0, latencies, errors
    finally:
        await asyncio.gather(*(session.close() if library == "aiohttp" else session.aclose() for session in sessions))


#: The load generator: "wrk" (bench/_wrk.py), "aiohttp" or "httpx" (the project's own client library), set from
#: --client.
CLIENT = {"name": "aiohttp"}


def _run_drive(url: str, path: str, bodies: list[dict[str, Any]], clients: int) -> tuple[float, list[float], int, float]:
    """Drive the load with the chosen client; also returns the client's own CPU per request in ms.

    Everything this process holds before the drive (the imports, the stores it checks, earlier runs' answers) is
    frozen out of the garbage collector's reach first (:func:`gc.freeze`): a full collection over all of it paused
    this load generator for 10-30 ms, and every request in flight meanwhile had that pause added to its latency,
    a cost of the measuring process, not of the server measured (seen with ``gc.callbacks``)."""
    gc.collect()
    gc.freeze()
    if CLIENT["name"] == "wrk":  # wrk's own process: its CPU, not this one's
        result = _wrk.drive(url, [_wrk.json_post(path, body) for body in bodies], clients)
        if any(count for kind, count in result.socket_errors.items() if kind != "status"):  # in `errors` too
            print(f"# wrk on {path}: socket errors {result.socket_errors}, statuses {result.statuses}", flush=True)
        return result.seconds, result.latencies_ms, result.errors(len(bodies)), result.cpu_s * 1000 / len(bodies)
    cpu0 = time.process_time()
    seconds, latencies, errors = asyncio.run(_drive(url, path, bodies, clients, CLIENT["name"]))
    return seconds, latencies, errors, (time.process_time() - cpu0) * 1000 / max(len(bodies), 1)


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system, every thread) used so far by process ``pid`` and its children (Linux /proc):
    a server's own cost, whatever else the two cores were doing meanwhile."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for each in process_tree(pid):
        with contextlib.suppress(OSError):  # gone meanwhile
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / tick


def db_cpu_s(pid: int) -> float:
    """CPU seconds used so far by PostgreSQL's postmaster ``pid`` and its children (backends, WAL writer,
    checkpointer, autovacuum...), from each process's ``schedstat`` (nanoseconds: a delivery costs the database
    well under a clock tick, so ``stat``'s ticks would round it away). Backends are single-threaded."""
    total = 0
    for each in process_tree(pid):
        with contextlib.suppress(OSError, ValueError):
            total += int(Path(f"/proc/{each}/schedstat").read_text().split()[0])
    return total / 1e9


def db_cpu_by_role(pid: int) -> dict[str, int]:
    """Like :func:`db_cpu_s`, in nanoseconds per PostgreSQL process role (``backend``, ``autovacuum worker``,
    ``walwriter``...), from each process's title. A process that exits between two readings (an autovacuum worker
    often does) takes its CPU with it: :func:`pg_counters` counts what those did."""
    roles: dict[str, int] = {}
    for each in process_tree(pid):
        with contextlib.suppress(OSError, ValueError):
            title = Path(f"/proc/{each}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            ns = int(Path(f"/proc/{each}/schedstat").read_text().split()[0])
            role = "postmaster" if each == pid else title.removeprefix("postgres: ").split(" ")[0]
            if role.startswith("autovacuum"):
                role = "autovacuum " + title.split("autovacuum ")[-1].split(" ")[0]
            elif title.count(" ") >= 3 and "postgres: " in title and role not in (
                    "checkpointer", "walwriter", "background", "logical", "archiver", "startup", "stats"):
                role = "backends"  # 'postgres: user db host(port) state'
            roles[role] = roles.get(role, 0) + ns
    return roles


STATEMENTS = {"on": False}  # --pg-statements


def reset_statements(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
        conn.execute(text("SELECT pg_stat_statements_reset()"))
    engine.dispose()


def print_statements(url: str) -> None:
    """The statements the database spent most time on since :func:`reset_statements` (pg_stat_statements)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT calls, total_exec_time, mean_exec_time, total_plan_time, "
            "left(regexp_replace(query, '\\s+', ' ', 'g'), 110) FROM pg_stat_statements "
            "ORDER BY total_exec_time + total_plan_time DESC LIMIT 8")).all()
    engine.dispose()
    for calls, total, mean, plan, query in rows:
        print(f"#   {calls:>7} calls {total:>9.1f} ms exec (mean {mean:.3f}) {plan:>7.1f} ms plan  {query}", flush=True)


def pg_counters(url: str) -> dict[str, int]:
    """PostgreSQL's own counts of the work it did in the background: autovacuum and autoanalyze runs over our
    tables, and checkpoints (timed and requested)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            vac, ana = conn.execute(text("SELECT coalesce(sum(autovacuum_count), 0), "
                                         "coalesce(sum(autoanalyze_count), 0) FROM pg_stat_user_tables")).one()
            timed, req = conn.execute(text("SELECT checkpoints_timed, checkpoints_req FROM pg_stat_bgwriter")).one()
    finally:
        engine.dispose()
    return {"autovacuum": int(vac), "autoanalyze": int(ana), "checkpoints": int(timed) + int(req)}


def disk_flush_probe(directory: Path, seconds: float = 1.0) -> dict[str, float]:
    """8 KB writes each followed by ``fdatasync`` for ``seconds`` in ``directory`` (the file system the bench's
    PostgreSQL keeps its WAL on): the disk's own flush latency in the same run, what a PostgreSQL commit waits for.
    A flush that stalls for tens of milliseconds holds every commit behind it (docs/server-load.md#fsync-tail)."""
    path = directory / f"flush-probe-{os.getpid()}.bin"
    block, latencies = os.urandom(8192), []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            os.write(fd, block)
            t0 = time.perf_counter()
            os.fdatasync(fd)
            latencies.append((time.perf_counter() - t0) * 1000)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    p50, p99 = _percentiles(latencies)
    return {"flushes": len(latencies), "p50_ms": p50, "p99_ms": p99, "max_ms": max(latencies, default=float("nan"))}


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    if len(latencies) < 2:
        return (latencies[0], latencies[0]) if latencies else (float("nan"), float("nan"))
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49], cuts[98]


def _events(workflows: int, tag: str) -> list[dict[str, Any]]:
    bodies = []
    for i in range(workflows):
        corr = {"pair_id": f"{tag}-{i}"}
        bodies.append({"event": "left_arrived", "correlation": corr, "payload": {"n": i},
                       "idempotency_key": f"{tag}-{i}:l"})
        bodies.append({"event": "right_arrived", "correlation": corr, "payload": {"n": -i},
                       "idempotency_key": f"{tag}-{i}:r"})
    random.Random(7).shuffle(bodies)
    return bodies


def http_run(url: str, workflows: int, clients: int, tag: str, pid: int | None = None,
             db_pid: int | None = None, db_url: str | None = None) -> dict[str, Any]:
    """Starts then deliveries over HTTP; with the server's ``pid``, also its CPU ms per delivery, and with the
    database's (PostgreSQL's postmaster), the database's CPU ms per delivery (its backends, WAL writer...)."""
    starts = [{"inputs": {"pair_id": f"{tag}-{i}"}} for i in range(workflows)]
    start_s, _, start_errors, _ = _run_drive(url, "/v1/contracts/pair/execute", starts, clients)
    cpu0 = tree_cpu_s(pid) if pid else 0.0
    db0 = db_cpu_s(db_pid) if db_pid else 0.0
    roles0 = db_cpu_by_role(db_pid) if db_pid else {}
    counters0 = pg_counters(db_url) if db_url else {}
    if db_url and STATEMENTS["on"]:
        reset_statements(db_url)
    seconds, latencies, errors, cpu_ms = _run_drive(url, "/v1/contracts/pair/events", _events(workflows, tag), clients)
    server_ms = (tree_cpu_s(pid) - cpu0) * 1000 / (2 * workflows) if pid else float("nan")
    db_ms = (db_cpu_s(db_pid) - db0) * 1000 / (2 * workflows) if db_pid else float("nan")
    roles = {role: (ns - roles0.get(role, 0)) / 1e6 / (2 * workflows)
             for role, ns in (db_cpu_by_role(db_pid) if db_pid else {}).items()}
    counters = {k: v - counters0[k] for k, v in pg_counters(db_url).items()} if db_url else {}
    if db_url and STATEMENTS["on"]:
        print_statements(db_url)
    p50, p99 = _percentiles(latencies)
    return {"starts_per_s": workflows / start_s, "start_errors": start_errors, "deliveries": 2 * workflows,
            "deliveries_per_s": 2 * workflows / seconds, "p50_ms": p50, "p99_ms": p99, "errors": errors,
            "client_cpu_ms": cpu_ms, "server_cpu_ms": server_ms, "db_cpu_ms": db_ms,
            "db_cpu_ms_by_role": {r: round(v, 3) for r, v in sorted(roles.items()) if v > 0.0005},
            "db_background": counters}


def verify(store_url: str, workflows: int, tag: str) -> tuple[int, int, int]:
    """(finished workflows, lost signals, doubled signals) read back from the store."""
    from igniter_nb.stores import from_url

    lost = doubled = finished = 0
    with from_url(store_url) as store:
        by_pair = {rec.correlation["pair_id"]: rec for rec in store.list(graph="BenchPair") if rec.correlation}
        for i in range(workflows):
            rec = by_pair.get(f"{tag}-{i}")
            if rec is None:
                lost += 2
                continue
            events = [s["event"] for s in (rec.snapshot.get("workflow") or {}).get("signals", [])]
            for event in ("left_arrived", "right_arrived"):
                count = events.count(event)
                lost += count == 0
                doubled += max(0, count - 1)
            finished += rec.status == "succeeded"
    return finished, lost, doubled


def in_process_rate(store_url: str, workflows: int, db_pid: int | None = None) -> tuple[float, float, float]:
    """(deliveries/s, CPU ms per delivery, the database's CPU ms per delivery — NaN without ``db_pid``) of one
    process calling ``deliver_event`` in a loop on a fresh store of the same kind."""
    from igniter_nb.stores import from_url

    with from_url(store_url) as store:
        pairs = [f"inproc-{i}" for i in range(workflows)]
        for pair in pairs:
            BenchPair.start(pair_id=pair, store=store)
        t0, cpu0 = time.perf_counter(), time.process_time()
        db0 = db_cpu_s(db_pid) if db_pid else 0.0
        for event, key in (("left_arrived", "l"), ("right_arrived", "r")):
            for pair in pairs:
                BenchPair.deliver_event(event, correlation={"pair_id": pair}, payload={"n": 1}, store=store,
                                        idempotency_key=f"{pair}:{key}")
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        db_ms = (db_cpu_s(db_pid) - db0) * 1000 / (2 * workflows) if db_pid else float("nan")
        return 2 * workflows / seconds, cpu * 1000 / (2 * workflows), db_ms


# ----------------------------------------------------------------------------------------------- servers


@contextlib.contextmanager
def floor_server(workers: int, mode: str) -> Iterator[tuple[str, int]]:
    """The floor server on a free port: started again on another one (``PORT_ATTEMPTS`` in all) when the port was
    taken before it listened — it exited saying so, or another process listens there too (not its process group)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # uvicorn as igniter-nb serve runs it: the same workers, their connections reaching them the same way (--balance)
    # and the same HTTP protocol (TCP_NODELAY on every connection; without it a bare route costs ~40 ms per
    # keep-alive request with --workers > 1, uvicorn #3149)
    launch = """if True:
        import sys, uvicorn
        from igniter_nb.server import balance, reuseport
        app, host, port, workers = "bench._server_floor:app", "127.0.0.1", int(sys.argv[1]), int(sys.argv[2])
        options = dict(log_level="warning", http="igniter_nb.server.nodelay:NoDelayHTTPProtocol")
        if workers > 1 and sys.argv[3] == "reuseport":
            reuseport.run(app, reuseport.reserve(host, port), host=host, workers=workers, **options)
        elif workers > 1 and sys.argv[3] == "supervisor":
            balance.run(app, balance.bind(host, port), host=host, workers=workers, **options)
        else:
            uvicorn.run(app, host=host, port=port, workers=workers, **options)
    """
    each_listens = workers > 1 and mode == "reuseport"
    tried: list[int] = []
    with tempfile.TemporaryDirectory(prefix="igniter-floor-") as tmp:
        log = Path(tmp) / "floor.log"
        while True:
            port = free_port()
            tried.append(port)
            with log.open("wb") as out:
                proc = subprocess.Popen([sys.executable, "-c", launch, str(port), str(workers), mode],
                                        cwd=ROOT, env=env, start_new_session=True, stderr=out)
            url = f"http://127.0.0.1:{port}"
            try:
                try:
                    wait_listening(port, proc, "the floor server", log, timeout=60, group=True)
                except PortTaken:
                    if len(tried) >= PORT_ATTEMPTS:
                        raise port_taken_error("the floor server", tried, log) from None
                    continue
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    if proc.poll() is not None:
                        raise RuntimeError(f"the floor server exited with {proc.returncode}:\n{log_tail(log)}")
                    with contextlib.suppress(httpx.HTTPError):
                        httpx.post(f"{url}/v1/contracts/x/events", json={}, timeout=1)
                        if not each_listens or len(sockets_on(port, LISTEN)) == workers:
                            break
                    time.sleep(0.1)
                if not listens_on(proc.pid, port, group=True, alone=True):
                    raise RuntimeError(f"port {port}: another process listens there too:\n{log_tail(log)}")
                yield url, proc.pid
                return
            finally:
                if proc.poll() is None:
                    proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)  # the workers too
                    proc.wait()


def floor_run(url: str, workflows: int, clients: int, pid: int) -> dict[str, Any]:
    cpu0 = tree_cpu_s(pid)
    seconds, latencies, errors, cpu_ms = _run_drive(url, "/v1/contracts/pair/events", _events(workflows, "floor"),
                                                    clients)
    server_ms = (tree_cpu_s(pid) - cpu0) * 1000 / (2 * workflows)
    p50, p99 = _percentiles(latencies)
    return {"requests_per_s": 2 * workflows / seconds, "p50_ms": p50, "p99_ms": p99, "errors": errors,
            "client_cpu_ms": cpu_ms, "server_cpu_ms": server_ms}


class ConnectionSplit:
    """How a server's connections are spread over its processes while a run goes on: samples /proc every 0.2 s
    and keeps the sample with the most connections (``stop()`` returns it, largest count first)."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.best: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            with contextlib.suppress(OSError):
                found = self.server.sockets(ESTABLISHED)
                if sum(found.values()) > sum(self.best.values()):
                    self.best = found

    def stop(self) -> list[int]:
        self._stop.set()
        self._thread.join()
        return sorted(self.best.values(), reverse=True)


def store_urls(kind: str, tmp: Path, pg: PostgresServer | None) -> tuple[str, str]:
    """(URL the server uses, URL of a fresh store for the in-process rate)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp}/served.db", f"sqlite:///{tmp}/inprocess.db"
    assert pg is not None
    from sqlalchemy import create_engine, text

    names = [f"bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    admin = create_engine(pg.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    base = pg.url.rsplit("/", 1)[0]
    return f"{base}/{names[0]}", f"{base}/{names[1]}"


# ----------------------------------------------------------------------------------------------- main


def threads_per_store(text: str) -> dict[str, int]:
    """``--threads``: ``N`` (every store: ``{"*": N}``) or ``kind=N,kind=N``."""
    found: dict[str, int] = {}
    for item in text.split(","):
        kind, _, value = item.rpartition("=")
        if not value.strip().isdigit() or (kind and kind.strip() not in ("sqlite", "postgres")):
            raise argparse.ArgumentTypeError(f"expected N or sqlite=N,postgres=N, got {text!r}")
        found[kind.strip() or "*"] = int(value)
    return found


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the servers below are stopped on kill
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="100 workflows per store")
    parser.add_argument("--workflows", type=int, default=None, help="workflows per store (default 400)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kinds", default="sqlite,postgres")
    parser.add_argument("--pg-fsync", choices=("on", "off"), default="on")
    parser.add_argument("--pg-statements", action="store_true",
                        help="load pg_stat_statements and print the statements the deliveries spent the database's "
                             "time on (a diagnostic: it adds its own cost to every statement)")
    parser.add_argument("--client", choices=("wrk", "aiohttp", "httpx"), default=None,
                        help="the load generator, whose CPU comes out of the same two cores as the servers: wrk (the "
                             "default when installed: the C tool, one thread, ~0.05-0.15 ms of CPU per request), "
                             "aiohttp (~0.2-0.7 ms; the default without wrk) or httpx (~1 ms)")
    parser.add_argument("--threads", type=threads_per_store, default={},
                        help="igniter-nb serve --threads: N for every store, or per store, e.g. sqlite=0,postgres=1 "
                             "(the B8 runs: on the event loop for SQLite, one thread for PostgreSQL's round trips; "
                             "default: the server's own, 40 per worker)")
    parser.add_argument("--balance", choices=("supervisor", "reuseport", "shared"), default=None,
                        help="igniter-nb serve --balance (and the floor server alike): how connections reach the "
                             "workers (default: serve's own, supervisor on Linux)")
    parser.add_argument("--no-reuse-port", dest="balance", action="store_const", const="shared",
                        help="the same as --balance shared")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args()
    STATEMENTS["on"] = args.pg_statements
    workflows = args.workflows or (100 if args.quick else 400)
    mode = args.balance or ("supervisor" if balance.supported() else "shared")
    kinds = args.kinds.split(",")
    if args.client is None:
        args.client = "wrk" if _wrk.available() else "aiohttp"
        if args.client == "aiohttp":
            print("# wrk not found (apt-get install wrk, or make setup): aiohttp drives the load instead", flush=True)
    elif args.client == "wrk" and not _wrk.available():
        parser.error("--client wrk: the wrk binary is not installed (apt-get install wrk, or make setup)")
    CLIENT["name"] = args.client

    print(f"# server benchmark {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cpus, {workflows} workflows x 2 events, {args.clients} clients (a connection each), "
          f"igniter-nb serve --workers {args.workers}"
          f"{''.join(f' --threads {k}={v}' for k, v in args.threads.items())} --balance {mode}, PostgreSQL fsync={args.pg_fsync}, "
          f"load generator {args.client}", flush=True)
    figures: dict[str, Any] = {"workflows": workflows, "clients": args.clients, "workers": args.workers, "stores": {}}
    misses: list[str] = []
    with tempfile.TemporaryDirectory(prefix="igniter-serverbench-") as tmpdir, contextlib.ExitStack() as stack:
        tmp = Path(tmpdir)
        settings = ({"shared_preload_libraries": "pg_stat_statements,auto_explain",
                     "auto_explain.log_min_duration": "1"} if args.pg_statements else None)
        pg = (stack.enter_context(PostgresServer(fsync=args.pg_fsync == "on", settings=settings))
              if "postgres" in kinds else None)
        floor_url, floor_pid = stack.enter_context(floor_server(args.workers, mode))
        floor_run(floor_url, min(workflows, 50), args.clients, floor_pid)  # warm-up
        floor = floor_run(floor_url, workflows, args.clients, floor_pid)
        figures["floor"] = floor
        print(f"HTTP floor (bare FastAPI route): {floor['requests_per_s']:,.0f} req/s, p50 {floor['p50_ms']:.1f} ms, "
              f"p99 {floor['p99_ms']:.1f} ms, errors {floor['errors']}; server CPU {floor['server_cpu_ms']:.2f} ms/request, "
              f"load generator CPU {floor['client_cpu_ms']:.2f} ms/request",
              flush=True)
        probe = disk_flush_probe(tmp)
        figures["disk_flush"] = probe
        print(f"disk flush (8 KB + fdatasync for 1 s on the bench's file system): {probe['flushes']:,} flushes, "
              f"p50 {probe['p50_ms']:.2f} ms, p99 {probe['p99_ms']:.2f} ms, max {probe['max_ms']:.1f} ms", flush=True)
        print(f"{'store':<9} {'start/s':>8} {'deliver/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'lost':>5} "
              f"{'twice':>5} {'in-proc/s':>10} {'x in-proc':>9} {'x floor':>8} {'client ms':>9} {'server ms':>9} "
              f"{'in-proc ms':>10} {'db ms':>6} {'in-proc db ms':>13}")
        for kind in kinds:
            served_url, inproc_url = store_urls(kind, tmp, pg)
            threads = args.threads.get(kind, args.threads.get("*"))
            serve_args = (("--threads", str(threads)) if threads is not None else ()) + ("--balance", mode)
            with ServerProcess(TARGET, store=served_url, workers=args.workers, args=serve_args,
                               startup_timeout=120) as server:
                http_run(server.url, min(workflows, 50), args.clients, "warmup")
                split = ConnectionSplit(server)
                db_pid = pg.postmaster_pid() if kind == "postgres" and pg is not None else None
                result = http_run(server.url, workflows, args.clients, "bench", server.pid, db_pid,
                                  served_url if db_pid else None)
                result["connections_per_worker"] = split.stop()
            if args.pg_statements and kind == "postgres" and pg is not None:
                slow = pg.log_text().split("LOG:  duration: ")[1:]
                print(f"# {len(slow)} statements over 1 ms (auto_explain); the first plans:", flush=True)
                selects = [plan for plan in slow if "Query Text: SELECT" in plan]
                print(f"# of which SELECTs: {len(selects)}", flush=True)
                for plan in (selects[:2] + slow[:1]):
                    print("#   " + plan.strip().replace("\n", "\n#   ")[:3000], flush=True)
            finished, lost, doubled = verify(served_url, workflows, "bench")
            inproc, inproc_cpu_ms, inproc_db_ms = in_process_rate(inproc_url, workflows, db_pid)
            ratio = result["deliveries_per_s"] / inproc
            floor_ratio = result["deliveries_per_s"] / floor["requests_per_s"]
            result.update(finished=finished, lost=lost, doubled=doubled, in_process_per_s=inproc,
                          ratio_in_process=ratio, ratio_floor=floor_ratio,
                          in_process_cpu_ms=inproc_cpu_ms, in_process_db_cpu_ms=inproc_db_ms)
            figures["stores"][kind] = result
            problems = []
            if ratio < RATIO_TARGET:
                problems.append(f"{ratio:.2f}x in-process < {RATIO_TARGET}")
            if result["p99_ms"] > P99_TARGET_MS:
                problems.append(f"p99 {result['p99_ms']:.0f} ms > {P99_TARGET_MS:.0f}")
            if result["errors"] or result["start_errors"] or lost or doubled or finished != workflows:
                problems.append(f"errors {result['errors'] + result['start_errors']}, lost {lost}, twice {doubled}, "
                                f"finished {finished}/{workflows}")
            misses += [f"{kind}: {p}" for p in problems]
            print(f"{kind:<9} {result['starts_per_s']:>8,.0f} {result['deliveries_per_s']:>10,.0f} "
                  f"{result['p50_ms']:>7.1f} {result['p99_ms']:>7.1f} {result['errors']:>6} {lost:>5} {doubled:>5} "
                  f"{inproc:>10,.0f} {ratio:>8.2f}x {floor_ratio:>7.2f}x {result['client_cpu_ms']:>9.2f} "
                  f"{result['server_cpu_ms']:>9.2f} {inproc_cpu_ms:>10.2f} {result['db_cpu_ms']:>6.2f} {inproc_db_ms:>13.2f}"
                  + ("  MISS" if problems else "")
                  + f"  connections per worker {'+'.join(map(str, result['connections_per_worker'])) or '?'}",
                  flush=True)
            if result.get("db_cpu_ms_by_role") or result.get("db_background"):
                print(f"# {kind} database CPU ms per delivery by process: "
                      + ", ".join(f"{r} {v:.3f}" for r, v in result["db_cpu_ms_by_role"].items())
                      + f"; during the deliveries: {result['db_background']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    print("B8 met" if not misses else "B8 not met: " + "; ".join(misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
