"""Change-feed measurements (docs/stores.md, "Following an execution"): how long after a save a watcher in another
process yields the new version, per store; what a watched store costs PostgreSQL writers; what many watchers hold.

    .venv/bin/python bench/feed.py            # starts its own Redis and PostgreSQL (fsync on)
    .venv/bin/python bench/feed.py --quick    # fewer saves and watchers

1. Latency: a spawned process runs ``watch`` on one execution; this process saves a version, waits until the
   watcher reports it (both stamp ``time.monotonic()``, one clock for the whole machine), pauses 10-500 ms at random,
   and so on 40 times (``--quick``: 15). Reported: median, p95 and max of (watcher yields − save returned). Polling
   stores run with the default ``poll_interval`` (0.25 s), so their median is about half of it by construction.
2. PostgreSQL writers: 8 threads, compare-and-set saves of their own executions, against a table never watched (no
   trigger), with the trigger installed but no execution watched, and with every execution watched (each save then
   NOTIFYs). Interleaved rounds, median rate reported.
3. Many watchers: 200 (``--quick``: 50) asyncio watchers (``awatch``) on as many executions in one process: the
   connections held while they wait (PostgreSQL backends, Redis pub/sub clients), then one save per execution,
   one after another, and the delay from each save to its watcher's yield.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from igniter_nb.stores.changes import ChangeSubscription
from igniter_nb.stores.feed import awatch, watch
from tests.services import PostgresServer, RedisServer
from tests.stores.store_factory import open_store

EID = "bench-feed"


def _follower(spec: dict[str, Any], ready: Any, reports: Any) -> None:
    store = open_store(spec)
    try:
        for rec in watch(store, EID, timeout=60):
            stamp = time.monotonic()
            if rec.version == 1:
                ready.set()
            reports.put((rec.version, stamp))
    finally:
        store.close()


def latency(spec: dict[str, Any], saves: int) -> list[float]:
    store = open_store(spec)
    store.save({"execution_id": EID, "n": 0}, status="running")
    ctx = multiprocessing.get_context("spawn")
    ready, reports = ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=_follower, args=(spec, ready, reports))
    proc.start()
    try:
        if not ready.wait(60):
            raise RuntimeError(f"{spec['kind']}: the watcher never started")
        reports.get(timeout=60)
        delays = []
        pauses = random.Random(7)
        for n in range(1, saves + 1):
            # A pause of random length, so that saves fall anywhere within a polling watcher's interval.
            time.sleep(pauses.uniform(0.01, 0.5))
            status = "succeeded" if n == saves else "running"
            store.save({"execution_id": EID, "n": n}, status=status)
            saved = time.monotonic()
            version, seen = reports.get(timeout=60)
            if version != n + 1:
                raise RuntimeError(f"{spec['kind']}: expected version {n + 1}, got {version}")
            delays.append(seen - saved)
        proc.join(60)
        return delays
    finally:
        if proc.is_alive():
            proc.kill()
        store.close()


def writer_rates(url: str, rounds: int, per_thread: int, threads: int = 8) -> dict[str, float]:
    from igniter_nb.stores import SQLStore

    rates: dict[str, list[float]] = {"never watched": [], "trigger, nothing watched": [], "every execution watched": []}
    for round_ in range(rounds):
        for case in rates:
            store = SQLStore(url, table_prefix=f"w{round_}_{case.split()[0].strip(',')}_")
            ids = [f"w{t}" for t in range(threads)]
            for eid in ids:
                store.save({"execution_id": eid, "n": 0}, graph="W", correlation={"id": eid}, status="running")
            subs: list[ChangeSubscription] = []
            if case != "never watched":
                watched = [store.subscribe_changes(eid) for eid in ids]
                subs = [sub for sub in watched if sub is not None]
                if len(subs) < len(watched):  # (SQLite, or a refused feed): the case would not measure what it says
                    raise RuntimeError(f"{url}: subscribe_changes gave no LISTEN/NOTIFY subscription")
                if case == "trigger, nothing watched":
                    for sub in subs:
                        sub.close()
                    store._changes.hub.sweep()
                    subs = []

            def work(eid: str, store: Any = store) -> None:
                version = 1
                for n in range(per_thread):
                    version = store.save({"execution_id": eid, "n": n}, graph="W", correlation={"id": eid},
                                         status="running", expected_version=version)

            workers = [threading.Thread(target=work, args=(eid,)) for eid in ids]
            started = time.perf_counter()
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            rates[case].append(threads * per_thread / (time.perf_counter() - started))
            for sub in subs:
                sub.close()
            store.close()
    return {case: statistics.median(values) for case, values in rates.items()}


async def _many(spec: dict[str, Any], store: Any, count: int) -> tuple[list[float], str]:
    """Start ``count`` watchers, then save each execution once; the delay from each save to its watcher's yield."""
    ids = [f"many-{i}" for i in range(count)]
    for eid in ids:
        await asyncio.to_thread(store.save, {"execution_id": eid, "n": 0}, status="running")
    firsts = {eid: asyncio.Event() for eid in ids}
    seen: dict[str, float] = {}

    async def follow(eid: str) -> None:
        async for rec in awatch(store, eid, timeout=60):
            if rec.version == 1:
                firsts[eid].set()
            else:
                seen[eid] = time.monotonic()

    tasks = [asyncio.create_task(follow(eid)) for eid in ids]
    await asyncio.wait_for(asyncio.gather(*(first.wait() for first in firsts.values())), 120)
    await asyncio.sleep(0.5)  # every watcher is waiting now
    held = await asyncio.to_thread(_connections, spec, store)
    saved: dict[str, float] = {}
    for eid in ids:
        await asyncio.to_thread(store.save, {"execution_id": eid, "n": 1}, status="succeeded")
        saved[eid] = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*tasks), 120)
    return [seen[eid] - saved[eid] for eid in ids], held


def many_watchers(spec: dict[str, Any], count: int) -> tuple[list[float], str]:
    store = open_store(spec)
    try:
        return asyncio.run(_many(spec, store, count))
    finally:
        store.close()


def _connections(spec: dict[str, Any], store: Any) -> str:
    if spec["kind"] == "postgres":
        with store.engine.connect() as conn:
            total = conn.exec_driver_sql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                                         "AND pid <> pg_backend_pid()").scalar() + 1
            pooled = store.engine.pool.checkedin() + store.engine.pool.checkedout()
        return f"{total} PostgreSQL connections: {pooled} in the pool, {total - pooled} LISTEN"
    if spec["kind"] == "redis":
        clients = store.client.client_list(_type="pubsub")
        return f"{len(clients)} Redis pub/sub connection(s)"
    if spec["kind"] == "memory":
        return "no connection (in-process wake-ups)"
    return "no connection (polling)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    saves = 15 if args.quick else 40
    watchers = 50 if args.quick else 200
    with RedisServer() as redis, PostgresServer(fsync=True) as pg, tempfile.TemporaryDirectory() as tmp:
        specs = {
            "memory": None,
            "file": {"kind": "file", "root": f"{tmp}/file"},
            "sqlite": {"kind": "sqlite", "url": f"sqlite:///{tmp}/feed.db"},
            "postgres": {"kind": "postgres", "url": pg.url, "prefix": "lat_"},
            "redis": {"kind": "redis", "url": redis.url, "namespace": f"lat{uuid.uuid4().hex[:6]}"},
            "parquet": {"kind": "parquet", "root": f"{tmp}/parquet"},
        }
        print(f"1. save -> yield in another process, {saves} saves (ms)")
        print(f"{'store':10} {'median':>8} {'p95':>8} {'max':>8}")
        for kind, spec in specs.items():
            if spec is None:
                continue
            delays = sorted(d * 1000 for d in latency(spec, saves))
            p95 = delays[min(len(delays) - 1, int(len(delays) * 0.95))]
            print(f"{kind:10} {statistics.median(delays):8.2f} {p95:8.2f} {delays[-1]:8.2f}", flush=True)

        print("\n2. PostgreSQL (fsync on): 8 threads saving their own executions (saves/s, median of rounds)")
        for case, rate in writer_rates(pg.url, rounds=2 if args.quick else 4, per_thread=40 if args.quick else 100).items():
            print(f"   {case:28} {rate:8.0f}", flush=True)

        print(f"\n3. {watchers} awatch watchers in one process, one execution each")
        for kind in ("memory", "sqlite", "postgres", "redis"):
            spec = specs[kind] or {"kind": "memory"}
            if kind in ("postgres", "redis"):
                spec = dict(spec, prefix="many_", namespace=f"many{uuid.uuid4().hex[:6]}")
            found, held = many_watchers(spec, watchers)
            delays = sorted(d * 1000 for d in found)
            print(f"   {kind:10} save -> yield median {statistics.median(delays):7.1f} ms, max {delays[-1]:7.1f} ms; "
                  f"{held}", flush=True)


if __name__ == "__main__":
    main()
