"""Store benchmarks (BARS.md B5): save+fetch of a 50-node snapshot, and find_by_correlation at 100 vs 100,000
stored executions, for every store, each figure with a ratio against a baseline measured in the same run; the
same for find_latest_by_correlation (any status), reported beside it.

    .venv/bin/python bench/stores.py                  # full run (starts its own Redis and PostgreSQL)
    .venv/bin/python bench/stores.py --quick          # smoke run: 2,000 instead of 100,000 executions

Three save+fetch figures per store: the public ``save`` + ``fetch`` of the snapshot with its 100 events and
without them, and the *runtime* path — how every execution save is made (``save_runtime_snapshot``: the
memory store then skips its JSON check and keeps marshal bytes; other stores save as usual) — with the events.
B5's save+fetch target is checked on the runtime figure, with the events.

Baselines: ``json.dumps`` + ``json.loads`` of the same snapshot for save+fetch; canonical-key ``json.dumps`` +
a dict lookup for find_by_correlation. The big fills use each store's own bulk path (one SQL executemany, one
Redis pipeline, the parquet sidecar index) where saving 100,000 executions one by one would take minutes; the
rows they write are exactly what ``save`` writes for the lookup path measured (the file store is filled
through ``save`` without fsync).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from igniter_nb.stores import FileStore, MemoryStore, ParquetStore, RedisStore, SQLStore
from igniter_nb.stores.base import canonical_correlation, save_runtime_snapshot, utc_now
from igniter_nb.stores.sql import correlation_digest
from tests.services import PostgresServer, RedisServer

GRAPH = "BenchWorkflow"
TARGETS_MS = {"memory": 0.2, "sqlite": 2.0, "redis": 2.0, "postgres": 5.0}


def snapshot_50(execution_id: str, events: bool = True) -> dict[str, Any]:
    """A realistic snapshot of a 50-node contract: inputs, 50 node states and (optionally) its 100 events."""
    now = "2026-03-19T10:00:00Z"
    states = {
        f"node_{i}": {"status": "succeeded", "version": 1, "resolved_at": now, "invalidated_by": None,
                      "value": {"amount": i * 1.5, "label": f"value {i}", "items": [i, i + 1, i + 2]}, "error": None}
        for i in range(50)
    }
    event_list: list[dict[str, Any]] = [
        {"seq": n, "type": "node_succeeded" if n % 2 else "node_started", "execution_id": execution_id,
         "node": f"node_{n // 2}", "path": f"node_{n // 2}", "status": "succeeded", "payload": {}, "timestamp": now}
        for n in range(100 if events else 0)
    ]
    return {"format": "igniter_nb.snapshot/1", "graph": GRAPH, "execution_id": execution_id, "runner": "inline",
            "inputs": {"order_total": 100, "country": "UA"}, "states": states, "events": event_list, "workflow": None}


def median_ms(fn: Callable[[int], object], runs: int) -> float:
    times = []
    for i in range(runs):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


# ----------------------------------------------------------------------------------------------- bulk fills


def corr(i: int) -> dict[str, Any]:
    return {"request_id": f"req-{i}", "company_id": i % 977}


def fill(kind: str, store: Any, start: int, stop: int) -> None:
    """Add executions start..stop-1, all active with distinct correlations."""
    if kind in ("memory", "file"):
        if kind == "file":  # same files, without an fsync per write: 100,000 fsynced saves take ~10 minutes
            store = FileStore(store.root, fsync=False)
        for i in range(start, stop):
            store.save({"execution_id": f"f-{i}", "graph": GRAPH}, graph=GRAPH, correlation=corr(i), status="waiting")
    elif kind in ("sqlite", "postgres"):
        store.create_tables()
        now = utc_now()
        rows = [{"execution_id": f"f-{i}", "graph": GRAPH, "correlation_key": canonical_correlation(corr(i)),
                 "correlation_digest": correlation_digest(canonical_correlation(corr(i))),  # what save writes
                 "status": "waiting", "active": True, "version": 1, "snapshot": json.dumps({"execution_id": f"f-{i}"}),
                 "updated_at": now} for i in range(start, stop)]
        with store.engine.begin() as conn:
            for chunk in range(0, len(rows), 20_000):
                conn.execute(store._executions.insert(), rows[chunk:chunk + 20_000])
        if kind == "postgres":
            # What autovacuum does after a table grows: refresh its statistics. Without it, a lookup psycopg
            # prepared while the table held 100 rows keeps that plan (a sequential scan) for the 100,000.
            with store.engine.begin() as conn:
                conn.exec_driver_sql(f"ANALYZE {store._executions.name}")
    elif kind == "redis":
        pipe = store.client.pipeline(transaction=False)
        now_text = utc_now().isoformat()
        for i in range(start, stop):
            eid, key = f"f-{i}", canonical_correlation(corr(i))
            corr_key = f"{store.namespace}:corr:{GRAPH}:{key}"
            pipe.hset(f"{store.namespace}:exec:{eid}", mapping={
                "snapshot": json.dumps({"execution_id": eid}), "version": 1, "updated_at": now_text, "graph": GRAPH,
                "correlation": key, "status": "waiting", "corr_key": corr_key})
            pipe.set(corr_key, eid)
            pipe.zadd(f"{store.namespace}:corrlatest:{GRAPH}:{key}", {eid: i + 1})  # what save's script adds
            pipe.sadd(f"{store.namespace}:graph:{GRAPH}", eid)
            pipe.sadd(f"{store.namespace}:ids", eid)
            if i % 5000 == 0:
                pipe.execute()
        pipe.execute()
    elif kind == "parquet":
        now_text = utc_now().isoformat()
        index_rows = [(f"f-{i}", 1, now_text, GRAPH, canonical_correlation(corr(i)), "waiting",
                       f"{GRAPH}\x00{canonical_correlation(corr(i))}") for i in range(start, stop)]
        with store._db_lock, store._transaction():
            store._db.executemany("INSERT INTO executions VALUES (?, ?, ?, ?, ?, ?, ?)", index_rows)
    else:
        raise ValueError(kind)


def find_ms(store: Any, count: int, lookups: int, latest: bool = False) -> float:
    """Median ``find_by_correlation`` (or ``find_latest_by_correlation``) time over random stored correlations."""
    finder = store.find_latest_by_correlation if latest else store.find_by_correlation
    rng = random.Random(7)
    picks = [corr(rng.randrange(count)) for _ in range(lookups)]
    for c in picks[:20]:  # warm-up
        assert finder(GRAPH, c) is not None
    return median_ms(lambda i: finder(GRAPH, picks[i]), lookups)


def baseline_find_ms(count: int, lookups: int) -> float:
    index = {(GRAPH, canonical_correlation(corr(i))): f"f-{i}" for i in range(count)}
    rng = random.Random(7)
    picks = [corr(rng.randrange(count)) for _ in range(lookups)]
    return median_ms(lambda i: index.get((GRAPH, canonical_correlation(picks[i]))), lookups)


# ----------------------------------------------------------------------------------------------- main


@contextlib.contextmanager
def stores(tmp: Path, redis_url: str, postgres_url: str, kind: str, tag: str) -> Iterator[Any]:
    if kind == "memory":
        store: Any = MemoryStore()
    elif kind == "file":
        store = FileStore(tmp / f"file-{tag}")
    elif kind == "sqlite":
        store = SQLStore(f"sqlite:///{tmp}/bench-{tag}.db")
    elif kind == "postgres":
        store = SQLStore(postgres_url, table_prefix=f"b{tag}_")
    elif kind == "redis":
        store = RedisStore(redis_url, namespace=f"bench{tag}")
    else:
        store = ParquetStore(tmp / f"parquet-{tag}")
    try:
        yield store
    finally:
        store.close()


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the servers below are stopped on kill
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="2,000 instead of 100,000 executions, fewer runs")
    parser.add_argument("--kinds", default="memory,file,sqlite,redis,postgres,parquet")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args()
    big = 2_000 if args.quick else 100_000
    runs = 30 if args.quick else 300
    lookups = 200 if args.quick else 2_000
    kinds = args.kinds.split(",")

    snap, small_snap = snapshot_50("bench-1"), snapshot_50("bench-1", events=False)
    print(f"# stores benchmark {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, python {sys.version.split()[0]}, "
          f"50-node snapshot {len(json.dumps(snap)) / 1024:.1f} KiB with its 100 events "
          f"({len(json.dumps(small_snap)) / 1024:.1f} KiB without), {runs} runs, find at 100 and {big:,} executions")
    base_save = median_ms(lambda i: json.loads(json.dumps(snap)), runs * 3)
    base_small = median_ms(lambda i: json.loads(json.dumps(small_snap)), runs * 3)
    base_find_small = baseline_find_ms(100, lookups)
    base_find_big = baseline_find_ms(big, lookups)
    print(f"baseline json.dumps+json.loads: {base_save:.4f} ms ({base_small:.4f} ms without events); dict find at 100: {base_find_small * 1000:.2f} us, "
          f"at {big:,}: {base_find_big * 1000:.2f} us")
    results: dict[str, Any] = {"baseline": {"save_fetch_ms": base_save, "find_100_ms": base_find_small,
                                            f"find_{big}_ms": base_find_big}, "executions": big}
    header = (f"{'store':<9} {'save+fetch ms':>14} {'x json':>8} {'no events':>10} {'x json':>7} {'runtime ms':>11} "
              f"{'x json':>7} {'B5 target':>10} "
              f"{'find@100 us':>12} "
              f"{'find@' + format(big, ',') + ' us':>16} {'big/100':>8} {'x dict':>8} "
              f"{'latest@100 us':>14} {'latest@' + format(big, ',') + ' us':>18} {'big/100':>8}")
    print(header)
    failures = []
    with tempfile.TemporaryDirectory(prefix="igniter-bench-") as tmpdir, \
            RedisServer() as redis, PostgresServer(fsync=True) as pg:
        tmp = Path(tmpdir)
        for kind in kinds:
            with stores(tmp, redis.url, pg.url, kind, "s") as store:
                store.save(snap)
                store.fetch("bench-1")
                # (defs, not lambdas with a default: mypy cannot infer such a lambda against Callable[[int], ...])
                def save_fetch(i: int, s: Any = store) -> object:
                    return s.save(snap), s.fetch("bench-1")

                def save_fetch_small(i: int, s: Any = store) -> object:
                    return s.save(small_snap), s.fetch("bench-1")

                # what every execution save costs: the runtime's path (MemoryStore: check_json=False, marshal bytes)
                def save_fetch_runtime(i: int, s: Any = store) -> object:
                    return save_runtime_snapshot(s, snap), s.fetch("bench-1")

                sf = median_ms(save_fetch, runs)
                sf_small = median_ms(save_fetch_small, runs)
                sf_rt = median_ms(save_fetch_runtime, runs)
            with stores(tmp, redis.url, pg.url, kind, "f") as store:
                fill(kind, store, 0, 100)
                small = find_ms(store, 100, lookups)
                latest_small = find_ms(store, 100, lookups, latest=True)
                fill(kind, store, 100, big)
                large = find_ms(store, big, lookups)
                latest_large = find_ms(store, big, lookups, latest=True)
            target = TARGETS_MS.get(kind)
            ratio = large / small
            ok_save = target is None or sf_rt <= target
            ok_find = ratio <= 2.0
            if not (ok_save and ok_find):
                failures.append(kind)
            print(f"{kind:<9} {sf:>14.3f} {sf / base_save:>8.1f} {sf_small:>10.3f} {sf_small / base_small:>7.1f} "
                  f"{sf_rt:>11.3f} {sf_rt / base_save:>7.1f} "
                  f"{(f'<= {target}' if target else '-'):>10} "
                  f"{small * 1000:>12.1f} {large * 1000:>16.1f} {ratio:>8.2f} {large / base_find_big:>8.1f} "
                  f"{latest_small * 1000:>14.1f} {latest_large * 1000:>18.1f} {latest_large / latest_small:>8.2f}"
                  f"{'' if ok_save and ok_find else '   <-- misses B5'}", flush=True)
            results[kind] = {"save_fetch_ms": sf, "save_fetch_vs_json": sf / base_save, "save_fetch_no_events_ms": sf_small,
                             "save_fetch_no_events_vs_json": sf_small / base_small, "save_fetch_runtime_ms": sf_rt,
                             "save_fetch_runtime_vs_json": sf_rt / base_save, "find_100_ms": small,
                             f"find_{big}_ms": large, "find_ratio": ratio, "find_vs_dict": large / base_find_big,
                             "find_latest_100_ms": latest_small, f"find_latest_{big}_ms": latest_large,
                             "find_latest_ratio": latest_large / latest_small}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print("B5: all stores within target" if not failures else f"B5 missed by: {', '.join(failures)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
