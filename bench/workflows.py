"""Workflow benchmarks (BARS.md B6, issue 13 targets 4 and 6): ``start`` and ``deliver_event`` throughput on the
memory, SQLite (synchronous NORMAL and FULL), PostgreSQL and Redis stores with 1,000 and 10,000 workflows
already stored, each beside the raw floor of its store; LangGraph's resume on its SQLite (NORMAL and FULL) and
PostgreSQL checkpointers on the equivalent two-interrupt graph; and the bytes each delivery writes for a workflow
of 40 events of 1 KB and of 1 MB — all in the same run.

    .venv/bin/python bench/workflows.py              # full run (starts its own PostgreSQL and Redis)
    .venv/bin/python bench/workflows.py --quick      # smoke run: 200 and 2,000 stored workflows, fewer samples

Baselines, per store, both measured on the snapshots the deliveries just wrote, in the same database:
* ``raw floor`` — what a delivery cannot avoid, done with the store's plain driver (``sqlite3``, psycopg,
  redis-py; memory: ``marshal`` under a lock): read the row, parse it, serialise it again, compare-and-set write
  it and append a history entry, at the same durability (``bench/_floors.py``). ``/floor`` is deliver/s over
  it: B6 and issue 13 target 4 ask ≥ 0.4.
* ``store rec+save`` — the store's own ``record`` + compare-and-set save of the same snapshot (what our store
  layer costs above the driver).
Flatness: deliver time per event at 10,000 stored / at 1,000 stored (B6: ≤ 1.3). Each level has its own store,
filled once; their batches then alternate, so a slow spell of the machine hits both levels alike. Each
throughput is the median of several batches, after one unmeasured warm-up batch (ours and LangGraph's). The
stored workflows are real ones: one workflow is started, and its snapshot is saved under new ids and
correlations (what ``start`` would have written).

Bytes per delivery (``bench/_history_bytes.py``): what each save of a 40-event workflow made the store keep
(history version, new parts, current copy); ``late/early`` is the mean of the last 10 deliveries over the first
10 (1.0: each delivery writes what it added, however long the history), ``total/final`` is all bytes written
over the final snapshot's JSON size.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _floors
import _history_bytes
import _langgraph

from bench._server_contracts import BenchPair  # the graph every figure below is about
from igniter_nb.stores import MemoryStore, RedisStore, SQLStore
from igniter_nb.stores.base import save_runtime_snapshot
from tests.services import PostgresServer, RedisServer

TARGET_DELIVER = {"memory": 5_000, "sqlite": 800, "postgres": 300}  # B6 as first written (absolute rates)
MEMORY_IDLE = 10_000  # B6: memory deliveries/s on an idle host
FLOOR_RATIO = 0.4  # B6 / issue 13 target 4: deliver/s over the raw floor
FLAT = 1.3
KINDS = ("memory", "sqlite", "sqlite-full", "postgres", "redis")


# ----------------------------------------------------------------------------------------------- filling


def fill(store: Any, start: int, stop: int) -> None:
    """Store workflows start..stop-1: real waiting BenchPair snapshots under new ids and correlations."""
    wf = BenchPair.start(pair_id=f"fill-template-{start}", store=store)
    snap = store.fetch(wf.execution_id)
    text = json.dumps(snap)
    old_id, old_pair = wf.execution_id, f"fill-template-{start}"
    for i in range(start, stop):
        eid, pair = f"bg-{i:06d}", f"bg-{i:06d}"
        copy = json.loads(text.replace(old_id, eid).replace(old_pair, pair))
        store.save(copy, graph="BenchPair", correlation={"pair_id": pair}, status="waiting")


def stored(store: Any) -> int:
    return len(store.list(graph="BenchPair"))


# ----------------------------------------------------------------------------------------------- measures


def rate(fn: Callable[[], int], batches: int) -> float:
    """Median operations per second over ``batches`` calls of ``fn`` (each returns how many it did)."""
    rates = []
    for _ in range(batches):
        t0 = time.perf_counter()
        done = fn()
        rates.append(done / (time.perf_counter() - t0))
    return statistics.median(rates)


class Level:
    def __init__(self, store: Any, floor: Any, tag: str, batch: int) -> None:
        self.store, self.floor, self.tag, self.batch, self.round = store, floor, tag, batch, 0
        self.delivered: list[str] = []
        self.deliver_seconds = 0.0

    def _pairs(self) -> list[str]:
        self.round += 1
        return [f"{self.tag}-{self.round}-{i}" for i in range(self.batch)]

    def start_batch(self) -> int:
        pairs = self._pairs()
        for pair in pairs:
            BenchPair.start(pair_id=pair, store=self.store)
        return len(pairs)

    def deliver_batch(self) -> int:
        pairs = self._pairs()
        for pair in pairs:
            BenchPair.start(pair_id=pair, store=self.store)
        t0 = time.perf_counter()
        for pair in pairs:
            BenchPair.deliver_event("left_arrived", correlation={"pair_id": pair}, payload={"n": 1}, store=self.store,
                                    idempotency_key=f"{pair}:l")
        ids = []
        for pair in pairs:
            done = BenchPair.deliver_event("right_arrived", correlation={"pair_id": pair}, payload={"n": 2},
                                           store=self.store, idempotency_key=f"{pair}:r")
            ids.append(done.execution_id)
        self.deliver_seconds = time.perf_counter() - t0
        self.delivered = ids
        return 2 * len(pairs)

    def store_batch(self) -> int:
        """The store's own record + CAS save of the snapshots the last deliveries wrote, saved the way the
        runtime saves (same metadata, ``save_runtime_snapshot``)."""
        store, ids = self.store, self.delivered
        for eid in ids:
            for _ in range(2):
                rec = store.record(eid)
                save_runtime_snapshot(store, rec.snapshot, graph=rec.graph, correlation=rec.correlation,
                                      status=rec.status, expected_version=rec.version)
        return 2 * len(ids)

    def floor_batch(self) -> float:
        """Raw floor/s on the snapshots the last deliveries wrote (loading them into the floor is not timed)."""
        self.floor.load(self.delivered)
        t0 = time.perf_counter()
        done = self.floor.run(self.delivered)
        return done / (time.perf_counter() - t0)


def interleaved(levels: list[Level], batches: int) -> list[tuple[float, float, float, float]]:
    """(start/s, deliver/s, store record+save/s, raw floor/s) per level, each the median over ``batches`` rounds.
    The levels' batches alternate within each round, so a slow spell of this shared machine hits every level
    alike; within a level, the floor runs right after the deliveries it is compared with."""
    for lv in levels:  # warm-up, not measured
        lv.deliver_batch()
        lv.floor_batch()
    figures: list[list[list[float]]] = [[[], [], [], []] for _ in levels]
    for _ in range(batches):
        for i, lv in enumerate(levels):
            figures[i][0].append(rate(lv.start_batch, 1))
            done = lv.deliver_batch()
            figures[i][1].append(done / lv.deliver_seconds)
            figures[i][3].append(lv.floor_batch())
            figures[i][2].append(rate(lv.store_batch, 1))
    return [(statistics.median(a), statistics.median(b), statistics.median(c), statistics.median(d))
            for a, b, c, d in figures]


# ----------------------------------------------------------------------------------------------- stores


@contextlib.contextmanager
def open_store(kind: str, tmp: Path, urls: dict[str, str], tag: str) -> Iterator[tuple[Any, Any]]:
    """(store, raw floor on the same data and durability) for one level."""
    store: Any
    if kind == "memory":
        store = MemoryStore()
        floor: Any = _floors.MemoryFloor(store)
    elif kind in ("sqlite", "sqlite-full"):
        synchronous = "FULL" if kind == "sqlite-full" else "NORMAL"
        path = tmp / f"workflows-{kind}-{tag}.db"
        store = SQLStore(f"sqlite:///{path}", synchronous=synchronous)
        store.create_tables()
        floor = _floors.SqliteFloor(str(path), synchronous)
    elif kind == "postgres":
        prefix = f"wfbench{tag}_"
        store = SQLStore(urls["postgres"], table_prefix=prefix)
        store.create_tables()
        floor = _floors.PostgresFloor(urls["postgres-plain"], prefix)
    elif kind == "redis":
        store = RedisStore(urls["redis"], namespace=f"wfbench{tag}")
        floor = _floors.RedisFloor(store)
    else:
        raise SystemExit(f"unknown store kind {kind!r} (known: {', '.join(KINDS)})")
    try:
        yield store, floor
    finally:
        floor.close()
        store.close()


def bench_deliveries(kinds: list[str], levels: list[int], batch: int, batches: int, tmp: Path,
                     urls: dict[str, str], figures: dict[str, Any], failures: list[str]) -> None:
    print(f"{'store':<11} {'stored':>7} {'start/s':>9} {'deliver/s':>10} {'store rec+save/s':>17} "
          f"{'raw floor/s':>12} {'/floor':>7} {'flat':>6}")
    for kind in kinds:
        with contextlib.ExitStack() as stack:
            lvs = []
            for level in levels:  # one store per level, filled once, then measured in alternating batches
                store, floor = stack.enter_context(open_store(kind, tmp, urls, str(level)))
                fill(store, 0, level)
                lvs.append(Level(store, floor, f"{kind}{level}", batch))
            have = [stored(lv.store) for lv in lvs]
            results = interleaved(lvs, batches)
        ratio = results[0][1] / results[-1][1]  # time per event at the last level / at the first
        for i, level in enumerate(levels):
            starts, delivers, own, raw = results[i]
            flat = ""
            if i == len(levels) - 1:
                flat = f"{ratio:.2f}" + ("" if ratio <= FLAT else "!")
                if ratio > FLAT:
                    failures.append(f"{kind} flatness {ratio:.2f}")
            notes = []
            if delivers / raw < FLOOR_RATIO:
                notes.append(f"MISS /floor >= {FLOOR_RATIO}")
                failures.append(f"{kind} deliver {delivers / raw:.2f}x its raw floor @ {have[i]:,}")
            target = TARGET_DELIVER.get(kind)
            if target and delivers < target:
                notes.append(f"MISS >= {target:,}/s")
                failures.append(f"{kind} deliver {delivers:,.0f}/s @ {have[i]:,}")
            if kind == "memory" and delivers < MEMORY_IDLE:
                notes.append(f"(idle target {MEMORY_IDLE:,}/s)")
            print(f"{kind:<11} {have[i]:>7,} {starts:>9,.0f} {delivers:>10,.0f} {own:>17,.0f} {raw:>12,.0f} "
                  f"{delivers / raw:>6.2f}x {flat:>6}  {' '.join(notes)}", flush=True)
            figures["stores"].setdefault(kind, {})[level] = {
                "stored": have[i], "start_per_s": starts, "deliver_per_s": delivers,
                "store_record_save_per_s": own, "raw_floor_per_s": raw, "deliver_over_floor": delivers / raw}


def bench_langgraph(kinds: list[str], levels: list[int], batch: int, batches: int, tmp: Path,
                    urls: dict[str, str], figures: dict[str, Any]) -> None:
    why = _langgraph.missing()
    if why:
        print(f"langgraph: {why}")
        return
    savers: list[tuple[str, str, Callable[[], Any]]] = []
    if "sqlite" in kinds:
        savers.append(("sqlite", "SqliteSaver, synchronous NORMAL",
                       lambda: _langgraph.sqlite_saver(tmp / "langgraph-normal.db", "NORMAL")))
    if "sqlite-full" in kinds:
        savers.append(("sqlite-full", "SqliteSaver, synchronous FULL",
                       lambda: _langgraph.sqlite_saver(tmp / "langgraph-full.db", "FULL")))
    if "postgres" in kinds:
        savers.append(("postgres", "PostgresSaver, same server", lambda: _langgraph.postgres_saver(urls["postgres-plain"])))
    for kind, label, make in savers:
        with make() as saver:
            lg = _langgraph.rates(saver, levels, batch, batches, f"lg{kind}")
        for level, (starts, resumes) in lg.items():
            ours = figures["stores"][kind][level]["deliver_per_s"]
            print(f"{'langgraph':<11} {level:>7,} {starts:>9,.0f} {resumes:>10,.0f}   ({label}; deliver/s column = "
                  f"resume/s; igniter_nb {kind} delivers {ours / resumes:.2f}x as fast)", flush=True)
            figures.setdefault("langgraph", {}).setdefault(kind, {})[level] = {
                "start_per_s": starts, "resume_per_s": resumes, "igniter_nb_over_langgraph": ours / resumes}


def bench_bytes(kinds: list[str], sizes: list[int], tmp: Path, urls: dict[str, str], figures: dict[str, Any]) -> None:
    print(f"\n# bytes written per delivery: one workflow awaiting {_history_bytes.EVENTS} events")
    print(f"{'store':<11} {'payload':>8} {'final snapshot':>15} {'first 10/dlv':>13} {'last 10/dlv':>12} "
          f"{'late/early':>11} {'total/final':>12} {'ms/delivery':>12}")
    for kind in kinds:
        for size in sizes:
            with open_store(kind, tmp, urls, f"bytes{size}") as (store, _floor):
                meter_kind = "sqlite" if kind.startswith("sqlite") else kind
                r = _history_bytes.measure(store, meter_kind, size, f"{kind}-bytes")
            late = r["last10"] / r["first10"]
            label = f"{size // 1024} KB" if size < 1024 * 1024 else f"{size // (1024 * 1024)} MB"
            print(f"{kind:<11} {label:>8} {r['final_snapshot']:>15,} {r['first10']:>13,.0f} {r['last10']:>12,.0f} "
                  f"{late:>11.2f} {r['total_over_final']:>12.2f} {r['ms_per_delivery']:>12.1f}", flush=True)
            figures.setdefault("bytes_per_delivery", {}).setdefault(kind, {})[size] = {
                **{k: v for k, v in r.items() if k != "written"}, "late_over_early": late, "written": r["written"]}


# ----------------------------------------------------------------------------------------------- main


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so PostgreSQL and Redis below are stopped on kill
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="200 and 2,000 stored workflows, fewer samples")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--no-langgraph", action="store_true")
    parser.add_argument("--no-deliveries", action="store_true", help="only the bytes-per-delivery part")
    parser.add_argument("--bytes", default="1024,1048576",
                        help="payload sizes for bytes per delivery (comma-separated; empty: skip that part)")
    parser.add_argument("--pg-fsync", choices=("on", "off"), default="on",
                        help="PostgreSQL fsync (default on, as in bench/stores.py; off shows the CPU-bound rate)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args()
    levels = [200, 2_000] if args.quick else [1_000, 10_000]
    batch = 50 if args.quick else 150
    batches = 3 if args.quick else 5
    kinds = [k for k in args.kinds.split(",") if k]
    sizes = [int(s) for s in args.bytes.split(",") if s]

    print(f"# workflows benchmark {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, python {sys.version.split()[0]}, "
          f"BenchPair (2 awaits + 1 compute), batches of {batch} workflows, median of {batches}, "
          f"PostgreSQL fsync={args.pg_fsync}")
    figures: dict[str, Any] = {"levels": levels, "batch": batch, "batches": batches, "stores": {}}
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="igniter-wfbench-") as tmpdir, contextlib.ExitStack() as stack:
        tmp = Path(tmpdir)
        urls = {}
        if "postgres" in kinds:
            urls["postgres"] = stack.enter_context(PostgresServer(fsync=args.pg_fsync == "on")).url
            urls["postgres-plain"] = urls["postgres"].replace("postgresql+psycopg://", "postgresql://")  # psycopg's own
        if "redis" in kinds:
            urls["redis"] = stack.enter_context(RedisServer()).url
        if not args.no_deliveries:
            bench_deliveries(kinds, levels, batch, batches, tmp, urls, figures, failures)
            if not args.no_langgraph:
                bench_langgraph(kinds, levels, batch, batches, tmp, urls, figures)
        if sizes:
            bench_bytes(kinds, sizes, tmp, urls, figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    if failures:
        print("B6 not met: " + "; ".join(failures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
