"""Deployment benchmark (docs/deployment.md, "What breaks first"): the example topology of examples/deployment on
127.0.0.1 — `igniter-nb serve --workers W` and the webhook app in front of one PostgreSQL store, M RQ workers
behind one Redis — loaded step by step until something gives.

    .venv/bin/python bench/deployment.py                 # W=2, M=2, 200 orders per step, 1..128 clients
    .venv/bin/python bench/deployment.py --quick         # 60 orders per step, 1..32 clients
    .venv/bin/python bench/deployment.py --serve-workers 1 --rq-workers 4 --levels 4,64

Two paths are measured:
- the API (`igniter-nb serve`): at each step C concurrent clients (one connection each) start N orders, then
  send each its shipment event; reported per step: starts/s and deliveries/s, p50/p99 latency, errors (any
  answer but 200, or none within 30 s), and the most PostgreSQL connections open at once;
- the webhook path: N signed Stripe payment webhooks posted by 16 clients to the webhook app (202 = queued),
  then drained by the M RQ workers; reported: intake/s, the queue's backlog when intake ended, and the drain
  rate (jobs done per second from the first post to the last job finished).
At the end the store is read back: every order must have each signal exactly once (a duplicate of every
webhook is posted too, and must be answered from the workflow's idempotency record).
Every process is stopped at the end, also on errors and on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
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

from bench.server import _drive, _percentiles  # noqa: E402
from tests.server.server_process import ServerProcess  # noqa: E402
from tests.services import (  # noqa: E402
    PORT_ATTEMPTS,
    PortTaken,
    PostgresServer,
    RedisServer,
    free_port,
    port_taken_error,
    stop_process_groups,
    wait_listening,
)

EXAMPLE = ROOT / "examples" / "deployment"
SECRET = "whsec_bench"
QUEUE = "igniter"


# ----------------------------------------------------------------------------------------------- processes


@contextlib.contextmanager
def group(commands: list[tuple[str, list[str]]], env: dict[str, str], logs: Path) -> Iterator[dict[str, int]]:
    """Run each (name, argv) in its own process group with its output in ``logs/name.log``; yields
    {name: process group id}; stops them all at the end (SIGTERM, then SIGKILL after 20 s)."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for name, argv in commands:
            with (logs / f"{name}.log").open("wb") as out:
                procs.append(subprocess.Popen(argv, cwd=EXAMPLE, env=env, stdout=out, stderr=subprocess.STDOUT,
                                              start_new_session=True))
        yield {name: proc.pid for (name, _), proc in zip(commands, procs, strict=True)}
    finally:
        stop_process_groups(procs, grace=20)


def start_hooks(env: dict[str, str], logs: Path) -> tuple[int, subprocess.Popen[bytes]]:
    """The example's webhook app under uvicorn, in its own process group, on a free port: started again on another
    one (``PORT_ATTEMPTS`` in all) when the port was taken before it listened. Returns (port, process)."""
    tried: list[int] = []
    log = logs / "hooks.log"
    while True:
        tried.append(free_port())
        argv = [sys.executable, "-m", "uvicorn", "orders.webhooks:app", "--host", "127.0.0.1", "--port",
                str(tried[-1]), "--workers", "1", "--log-level", "warning"]
        with log.open("wb") as out:
            proc = subprocess.Popen(argv, cwd=EXAMPLE, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        try:
            wait_listening(tried[-1], proc, "the webhook app", log, timeout=60, group=True)
            return tried[-1], proc
        except PortTaken:
            stop_process_groups([proc])
            if len(tried) >= PORT_ATTEMPTS:
                raise port_taken_error("the webhook app", tried, log) from None
        except BaseException:
            stop_process_groups([proc])
            raise


def wait_healthy(url: str, logs: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    shown = "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-2000:]}" for path in logs.glob("*.log"))
    raise RuntimeError(f"{url} did not answer within {timeout}s:\n{shown}")


ROLES = ("serve", "postgres", "hooks", "rq", "redis", "load", "machine")


class CpuMeter:
    """CPU seconds used by each part of the topology, read from /proc (Linux): ``serve``, ``hooks`` and ``rq`` by
    process group, ``postgres`` as the postmaster and its children, ``redis`` by pid, ``load`` = this process (the
    load generator), ``machine`` = every process on the machine (/proc/stat: all but idle and iowait), so the
    difference is what other jobs took. A process that exited is no longer counted (a PostgreSQL backend whose
    connection closed), so a delta can even be slightly negative."""

    def __init__(self, groups: dict[str, set[int]], postmaster: int, redis_pid: int) -> None:
        self.groups = groups
        self.postmaster = postmaster
        self.redis_pid = redis_pid
        self.tick = os.sysconf("SC_CLK_TCK")

    def read(self) -> dict[str, float]:
        used = dict.fromkeys(ROLES, 0.0)
        cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        used["machine"] = (sum(int(v) for v in cpu) - int(cpu[3]) - int(cpu[4])) / self.tick
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid, pgrp = int(entry.name), int(fields[1]), int(fields[2])
            seconds = (int(fields[11]) + int(fields[12])) / self.tick
            role = next((name for name, pgids in self.groups.items() if pgrp in pgids), None)
            if role is None and self.postmaster in (pid, ppid):
                role = "postgres"
            elif role is None and pid == self.redis_pid:
                role = "redis"
            elif role is None and pid == os.getpid():
                role = "load"
            if role is not None:
                used[role] += seconds
        return used


class ConnectionSampler:
    """The most connections to ``database`` open at once (pg_stat_activity, sampled every 50 ms) while active."""

    def __init__(self, admin_url: str, database: str) -> None:
        import psycopg

        self._conn = psycopg.connect(admin_url, autocommit=True)
        self._database = database
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def count(self) -> int:
        row = self._conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (self._database,)).fetchone()
        return int(row[0]) if row else 0

    def __enter__(self) -> ConnectionSampler:
        self.peak = self.count()

        def sample() -> None:
            while not self._stop.wait(0.05):
                self.peak = max(self.peak, self.count())

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self._stop.clear()

    def close(self) -> None:
        self._conn.close()


# ----------------------------------------------------------------------------------------------- load


def api_step(url: str, orders: list[str], clients: int, meter: CpuMeter | None = None) -> dict[str, Any]:
    before, t0 = (meter.read() if meter else None), time.perf_counter()
    starts = [{"inputs": {"order_id": order}} for order in orders]
    start_s, start_lat, start_errors = asyncio.run(_drive(url, "/v1/contracts/order_workflow/execute", starts, clients, "aiohttp"))
    ships = [{"event": "order_shipped", "correlation": {"order_id": order}, "payload": {"carrier": "DHL"},
              "idempotency_key": f"ship-{order}"} for order in orders]
    seconds, latencies, errors = asyncio.run(_drive(url, "/v1/contracts/order_workflow/events", ships, clients, "aiohttp"))
    p50, p99 = _percentiles(latencies)
    _, s99 = _percentiles(start_lat)
    cores, cpu_ms = {}, {}
    if meter is not None and before is not None:
        wall, after = time.perf_counter() - t0, meter.read()
        cores = {role: (after[role] - before[role]) / wall for role in ROLES}
        # CPU time per request (a start or a delivery): what a core buys, whatever else the machine was doing
        cpu_ms = {role: (after[role] - before[role]) * 1000 / (2 * len(orders)) for role in ROLES}
    return {"clients": clients, "starts_per_s": len(orders) / start_s, "start_p99_ms": s99, "start_errors": start_errors,
            "deliveries_per_s": len(orders) / seconds, "p50_ms": p50, "p99_ms": p99, "errors": errors, "cores": cores,
            "cpu_ms_per_request": cpu_ms}


def _stripe_body(order: str, n: int) -> bytes:
    return json.dumps({"id": f"evt_{order}", "type": "payment_intent.succeeded", "data": {"object": {
        "id": f"pi_{n}", "object": "payment_intent", "amount": 1000 + n, "currency": "eur",
        "metadata": {"order_id": order}}}}).encode()


async def _post_webhooks(url: str, bodies: list[bytes], clients: int) -> tuple[float, list[float], int]:
    from igniter_nb.integrations.webhooks import sign

    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    errors = 0

    async def client() -> None:
        nonlocal errors
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=url, timeout=30.0, limits=limits) as http:
            while not queue.empty():
                body = queue.get_nowait()
                t0 = time.perf_counter()
                try:
                    answer = await http.post("/webhooks/stripe", content=body,
                                             headers={"Content-Type": "application/json", **sign(body, SECRET)})
                    ok = answer.status_code == 202
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append((time.perf_counter() - t0) * 1000)
                else:
                    errors += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - t0, latencies, errors


def webhook_step(hooks_url: str, redis_url: str, orders: list[str], clients: int, timeout: float,
                 meter: CpuMeter) -> dict[str, Any]:
    """Post each order's payment twice (the duplicate right after the first, as a retrying sender would), then
    wait for the RQ workers to finish every job."""
    from rq.registry import FailedJobRegistry, FinishedJobRegistry

    from igniter_nb.integrations.rq import make_queue

    queue = make_queue(QUEUE, connection=redis_url)
    done, failed = FinishedJobRegistry(queue=queue), FailedJobRegistry(queue=queue)
    failed_before = failed.count
    before = done.count + failed_before
    bodies = [body for n, order in enumerate(orders) for body in [_stripe_body(order, n)] * 2]
    cpu_before = meter.read()
    t0 = time.perf_counter()
    intake_s, latencies, errors = asyncio.run(_post_webhooks(hooks_url, bodies, clients))
    backlog = queue.count
    deadline = time.monotonic() + timeout
    while done.count + failed.count - before < len(bodies) - errors and time.monotonic() < deadline:
        time.sleep(0.05)
    drain_s = time.perf_counter() - t0
    cpu_after = meter.read()
    finished = done.count + failed.count - before
    p50, p99 = _percentiles(latencies)
    result = {"webhooks": len(bodies), "intake_per_s": len(bodies) / intake_s, "p50_ms": p50, "p99_ms": p99,
              "errors": errors, "backlog_at_end_of_intake": backlog, "jobs_done": finished,
              "jobs_failed": failed.count - failed_before, "drain_per_s": finished / drain_s, "drain_s": drain_s,
              "hooks_cpu_ms_per_webhook": (cpu_after["hooks"] - cpu_before["hooks"]) * 1000 / len(bodies),
              "rq_cpu_ms_per_job": (cpu_after["rq"] - cpu_before["rq"]) * 1000 / max(1, finished),
              "machine_cores": (cpu_after["machine"] - cpu_before["machine"]) / drain_s}
    queue.connection.close()
    return result


def verify(store_url: str, orders: list[str], paid: set[str]) -> tuple[int, int]:
    """(lost signals, doubled signals) read back from the store: each order shipped, each order in ``paid`` paid."""
    from igniter_nb.stores import from_url

    lost = doubled = 0
    with from_url(store_url) as store:
        records = {rec.correlation["order_id"]: rec for rec in store.list(graph="OrderWorkflow") if rec.correlation}
        for order in orders:
            record = records.get(order)
            events = [s["event"] for s in (record.snapshot.get("workflow") or {}).get("signals", [])] if record else []
            wanted = ["order_shipped"] + (["payment_received"] if order in paid else [])
            for event in wanted:
                lost += events.count(event) == 0
                doubled += max(0, events.count(event) - 1)
    return lost, doubled


# ----------------------------------------------------------------------------------------------- main


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so every process below is stopped on kill
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="60 orders per step, levels 1,8,32")
    parser.add_argument("--orders", type=int, default=None, help="orders per step (default 200)")
    parser.add_argument("--levels", default=None, help="concurrent clients per API step (default 1,8,32,128)")
    parser.add_argument("--serve-workers", type=int, default=2)
    parser.add_argument("--rq-workers", type=int, default=2)
    parser.add_argument("--pg-fsync", choices=("on", "off"), default="on")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args()
    per_step = args.orders or (60 if args.quick else 200)
    levels = [int(n) for n in (args.levels or ("1,8,32" if args.quick else "1,8,32,128")).split(",")]

    print(f"# deployment benchmark {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cpus; igniter-nb serve --workers {args.serve_workers}, {args.rq_workers} RQ "
          f"SimpleWorkers, one PostgreSQL (fsync={args.pg_fsync}), one Redis; {per_step} orders per step", flush=True)
    figures: dict[str, Any] = {"serve_workers": args.serve_workers, "rq_workers": args.rq_workers,
                               "orders_per_step": per_step, "api": [], "webhooks": None}
    with tempfile.TemporaryDirectory(prefix="igniter-deploybench-") as tmpdir, contextlib.ExitStack() as stack:
        logs = Path(tmpdir)
        pg = stack.enter_context(PostgresServer(fsync=args.pg_fsync == "on"))
        redis_server = stack.enter_context(RedisServer())
        database = f"deploy_{uuid.uuid4().hex[:8]}"
        admin_url = pg.url.replace("+psycopg", "")
        import psycopg

        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {database}")
            max_connections = int(conn.execute("SHOW max_connections").fetchone()[0])  # type: ignore[index]
        store_url = pg.url.rsplit("/", 1)[0] + f"/{database}"
        figures["max_connections"] = max_connections
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               "PYTHONPATH": os.pathsep.join([str(EXAMPLE), str(ROOT)]), "IGNITER_STORE_URL": store_url,
               "IGNITER_LOG_LEVEL": "warning", "RQ_REDIS_URL": redis_server.url, "STRIPE_WEBHOOK_SECRET": SECRET}
        hooks_port, hooks_proc = start_hooks(env, logs)
        stack.callback(stop_process_groups, [hooks_proc], 20)
        rq = [sys.executable, "-m", "rq.cli", "worker", "-S", "rq.serializers.JSONSerializer", "-w",
              "igniter_nb.integrations.rq.SimpleWorker", "--url", redis_server.url, "--quiet", QUEUE]
        pgids = {"hooks": hooks_proc.pid, **stack.enter_context(group([(f"rq{n}", rq) for n in range(args.rq_workers)],
                                                                      env, logs))}
        server = stack.enter_context(ServerProcess("orders.contracts:CONTRACTS", store=store_url,
                                                   workers=args.serve_workers, startup_timeout=120,
                                                   env={"PYTHONPATH": env["PYTHONPATH"]}))
        wait_healthy(f"http://127.0.0.1:{hooks_port}/healthz", logs)
        postmaster = int((pg._data / "postmaster.pid").read_text().split()[0])
        redis_pid = redis_server._proc.pid if redis_server._proc else -1
        meter = CpuMeter({"serve": {server._proc.pid} if server._proc else set(), "hooks": {pgids["hooks"]},
                          "rq": {pid for name, pid in pgids.items() if name.startswith("rq")}}, postmaster, redis_pid)
        sampler = ConnectionSampler(admin_url, database)
        stack.callback(sampler.close)

        # every serve worker and RQ worker imports, connects and compiles before anything is measured
        warm = [f"warm-{n}" for n in range(20)]
        api_step(server.url, warm, 4)
        webhook_step(f"http://127.0.0.1:{hooks_port}", redis_server.url, warm, 4, timeout=60, meter=meter)
        idle = sampler.count()  # what the pools keep open between steps
        figures["connections_idle"] = idle
        print(f"PostgreSQL max_connections {max_connections}; connections open while idle: {idle}")
        print(f"{'clients':>7} {'start/s':>8} {'start p99':>9} {'deliver/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
              f"{'errors':>6} {'peak conns':>10} {'busy cores':>10}   CPU ms per request: serve  postgres  load",
              flush=True)
        all_orders: list[str] = []
        for clients in levels:
            orders = [f"c{clients}-{n}-{uuid.uuid4().hex[:4]}" for n in range(per_step)]
            all_orders += orders
            with sampler:
                step = api_step(server.url, orders, clients, meter)
            step["peak_connections"] = sampler.peak
            figures["api"].append(step)
            print(f"{clients:>7} {step['starts_per_s']:>8,.0f} {step['start_p99_ms']:>9.0f} "
                  f"{step['deliveries_per_s']:>9,.0f} {step['p50_ms']:>7.1f} {step['p99_ms']:>7.1f} "
                  f"{step['errors'] + step['start_errors']:>6} {sampler.peak:>10} {step['cores']['machine']:>10.2f}"
                  f"   {step['cpu_ms_per_request']['serve']:>25.1f} {step['cpu_ms_per_request']['postgres']:>9.1f} "
                  f"{step['cpu_ms_per_request']['load']:>5.1f}", flush=True)

        paid = set(all_orders[-per_step:])
        with sampler:
            hooks_result = webhook_step(f"http://127.0.0.1:{hooks_port}", redis_server.url, sorted(paid), 16,
                                        timeout=30 + per_step, meter=meter)
        hooks_result["peak_connections"] = sampler.peak
        figures["webhooks"] = hooks_result
        print(f"webhooks: {hooks_result['webhooks'] // 2} payments posted twice each by 16 clients: intake "
              f"{hooks_result['intake_per_s']:,.0f}/s (p99 {hooks_result['p99_ms']:.0f} ms, errors "
              f"{hooks_result['errors']}), backlog when intake ended {hooks_result['backlog_at_end_of_intake']}; "
              f"{args.rq_workers} RQ workers drained {hooks_result['jobs_done']} jobs at "
              f"{hooks_result['drain_per_s']:,.0f}/s ({hooks_result['jobs_failed']} failed), peak connections "
              f"{sampler.peak}; CPU per webhook in the hooks app {hooks_result['hooks_cpu_ms_per_webhook']:.1f} ms, "
              f"per job in the RQ workers {hooks_result['rq_cpu_ms_per_job']:.1f} ms; busy cores "
              f"{hooks_result['machine_cores']:.2f}", flush=True)
        lost, doubled = verify(store_url, all_orders, paid)
        figures.update(lost=lost, doubled=doubled)
        print(f"read back: {len(all_orders)} orders, signals lost {lost}, applied twice {doubled}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if not (lost or doubled) else 1


if __name__ == "__main__":
    sys.exit(main())
