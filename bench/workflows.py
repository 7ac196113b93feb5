"""Workflow benchmarks (BARS.md B6): ``start`` and ``deliver_event`` throughput on the memory, SQLite and
PostgreSQL stores with 1,000 and 10,000 workflows already stored, and LangGraph's resume with its SQLite
checkpointer on the equivalent two-interrupt graph, all in the same run.

    .venv/bin/python bench/workflows.py              # full run (starts its own PostgreSQL)
    .venv/bin/python bench/workflows.py --quick      # smoke run: 200 and 2,000 stored workflows, fewer samples

Baseline for each store: its own raw ``record`` + compare-and-set save of the very snapshot a delivery
writes (same size, same id, same metadata, saved the way the runtime saves), i.e. the I/O a delivery cannot
avoid; ``x raw`` is how many times that a delivery costs. Flatness: deliver time per event at 10,000 stored /
at 1,000 stored (B6: ≤ 1.3). Each level has its own store, filled once; their batches then alternate, so a
slow spell of the machine hits both levels alike. Each throughput is the median of several batches, after one
unmeasured warm-up batch (ours and LangGraph's). The stored workflows are real ones: one workflow is started, and its snapshot
is saved under new ids and correlations (what ``start`` would have written).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypedDict

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import igniter_nb as ig
from igniter_nb.stores import MemoryStore, SQLStore
from igniter_nb.stores.base import save_runtime_snapshot
from tests.services import PostgresServer

TARGET_DELIVER = {"memory": 5_000, "sqlite": 800, "postgres": 300}
FLAT = 1.3


class BenchPair(ig.Contract):
    """Two awaited events joined by one compute: the graph every figure below is about."""

    def define(c):
        c.correlate_by("pair_id")
        c.input("pair_id", type=str)
        c.await_event("left", event="left_arrived", schema=dict)
        c.await_event("right", event="right_arrived", schema=dict)

        @c.compute
        def joined(left, right):
            return {"left": left, "right": right}

        c.output("joined")


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
    def __init__(self, store: Any, tag: str, batch: int) -> None:
        self.store, self.tag, self.batch, self.round = store, tag, batch, 0

    def _pairs(self) -> list[str]:
        self.round += 1
        return [f"{self.tag}-{self.round}-{i}" for i in range(self.batch)]

    def start_batch(self) -> int:
        self.started = self._pairs()
        for pair in self.started:
            BenchPair.start(pair_id=pair, store=self.store)
        return len(self.started)

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

    def raw_batch(self) -> int:
        """The store's own record + CAS save of the snapshots the last deliveries wrote, saved the way the
        runtime saves (same metadata, ``save_runtime_snapshot``)."""
        store, ids = self.store, self.delivered
        for eid in ids:
            for _ in range(2):
                rec = store.record(eid)
                save_runtime_snapshot(store, rec.snapshot, graph=rec.graph, correlation=rec.correlation,
                                      status=rec.status, expected_version=rec.version)
        return 2 * len(ids)


def interleaved(levels: list[Level], batches: int) -> list[tuple[float, float, float]]:
    """(start/s, deliver/s, raw record+save/s) per level, each the median over ``batches`` rounds. The levels'
    batches alternate within each round, so a slow spell of this shared machine hits every level alike."""
    for lv in levels:  # warm-up, not measured
        lv.deliver_batch()
    starts: list[list[float]] = [[] for _ in levels]
    ours: list[list[float]] = [[] for _ in levels]
    raws: list[list[float]] = [[] for _ in levels]
    for _ in range(batches):
        for i, lv in enumerate(levels):
            starts[i].append(rate(lv.start_batch, 1))
            done = lv.deliver_batch()
            ours[i].append(done / lv.deliver_seconds)
            raws[i].append(rate(lv.raw_batch, 1))
    return [(statistics.median(a), statistics.median(b), statistics.median(c)) for a, b, c in zip(starts, ours, raws, strict=True)]


# ----------------------------------------------------------------------------------------------- langgraph


class _LGState(TypedDict, total=False):
    pair_id: str
    left: Any
    right: Any
    joined: Any


def langgraph_rates(db: Path, levels: list[int], batch: int, batches: int) -> dict[int, tuple[float, float]] | str:
    """{stored threads: (start/s, resume/s)} for a StateGraph with two interrupt() nodes on SqliteSaver."""
    try:
        from langgraph.checkpoint.sqlite import SqliteSaver
        from langgraph.graph import END, START, StateGraph
        from langgraph.types import Command, interrupt
    except ImportError as exc:
        return f"langgraph not installed ({exc}); pip install langgraph langgraph-checkpoint-sqlite"

    def left(state: _LGState) -> _LGState:
        return {"left": interrupt("left_arrived")}

    def right(state: _LGState) -> _LGState:
        return {"right": interrupt("right_arrived")}

    def joined(state: _LGState) -> _LGState:
        return {"joined": {"left": state["left"], "right": state["right"]}}

    builder = StateGraph(_LGState)
    builder.add_node("left_node", left)
    builder.add_node("right_node", right)
    builder.add_node("joined_node", joined)
    builder.add_edge(START, "left_node")
    builder.add_edge("left_node", "right_node")
    builder.add_edge("right_node", "joined_node")
    builder.add_edge("joined_node", END)
    conn = sqlite3.connect(db, check_same_thread=False)
    graph = builder.compile(checkpointer=SqliteSaver(conn))

    def start(thread: str) -> None:
        graph.invoke({"pair_id": thread}, {"configurable": {"thread_id": thread}})

    results: dict[int, tuple[float, float]] = {}
    started = 0  # every thread started so far, measured ones included (as in our stores)
    counter = [0]
    for level in levels:
        for i in range(started, level):
            start(f"bg-{i}")
        started = max(started, level)

        def start_batch(level: int = level) -> int:
            counter[0] += 1
            for i in range(batch):
                start(f"s-{level}-{counter[0]}-{i}")
            return batch

        resumes = []
        for warm_up in (True, *([False] * batches)):  # the first round is a warm-up, not measured
            counter[0] += 1
            threads = [f"r-{level}-{counter[0]}-{i}" for i in range(batch)]
            for t in threads:
                start(t)
            t0 = time.perf_counter()
            for t in threads:
                graph.invoke(Command(resume={"n": 1}), {"configurable": {"thread_id": t}})
            for t in threads:
                out = graph.invoke(Command(resume={"n": 2}), {"configurable": {"thread_id": t}})
            if not warm_up:
                resumes.append(2 * batch / (time.perf_counter() - t0))
            assert out["joined"] == {"left": {"n": 1}, "right": {"n": 2}}
        results[level] = (rate(start_batch, batches), statistics.median(resumes))
        started += 2 * batch * batches
    conn.close()
    return results


# ----------------------------------------------------------------------------------------------- main


@contextlib.contextmanager
def open_store(kind: str, tmp: Path, postgres_url: str, tag: str) -> Iterator[Any]:
    if kind == "memory":
        store: Any = MemoryStore()
    elif kind == "sqlite":
        store = SQLStore(f"sqlite:///{tmp}/workflows-{tag}.db")
    else:
        store = SQLStore(postgres_url, table_prefix=f"wfbench{tag}_")
    try:
        yield store
    finally:
        store.close()


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so PostgreSQL below is stopped on kill
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="200 and 2,000 stored workflows, fewer samples")
    parser.add_argument("--kinds", default="memory,sqlite,postgres")
    parser.add_argument("--no-langgraph", action="store_true")
    parser.add_argument("--pg-fsync", choices=("on", "off"), default="on",
                        help="PostgreSQL fsync (default on, as in bench/stores.py; off shows the CPU-bound rate)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args()
    levels = [200, 2_000] if args.quick else [1_000, 10_000]
    batch = 50 if args.quick else 150
    batches = 3 if args.quick else 5
    kinds = args.kinds.split(",")

    print(f"# workflows benchmark {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, python {sys.version.split()[0]}, "
          f"BenchPair (2 awaits + 1 compute), batches of {batch} workflows, median of {batches}, "
          f"PostgreSQL fsync={args.pg_fsync}")
    header = (f"{'store':<9} {'stored':>7} {'start/s':>9} {'deliver/s':>10} {'raw rec+save/s':>15} {'x raw':>7} "
              f"{'B6 target':>10} {'flat':>6}")
    print(header)
    figures: dict[str, Any] = {"levels": levels, "batch": batch, "batches": batches, "stores": {}}
    failures = []
    with tempfile.TemporaryDirectory(prefix="igniter-wfbench-") as tmpdir, contextlib.ExitStack() as stack:
        tmp = Path(tmpdir)
        pg_url = stack.enter_context(PostgresServer(fsync=args.pg_fsync == "on")).url if "postgres" in kinds else ""
        for kind in kinds:
            with contextlib.ExitStack() as stores:
                # one store per level, filled once, then measured in alternating batches
                lvs = []
                for level in levels:
                    store = stores.enter_context(open_store(kind, tmp, pg_url, str(level)))
                    fill(store, 0, level)
                    lvs.append(Level(store, f"{kind}{level}", batch))
                have = [stored(lv.store) for lv in lvs]
                results = interleaved(lvs, batches)
                target = TARGET_DELIVER[kind]
                ratio = results[0][1] / results[-1][1]  # time per event at the last level / at the first
                for i, level in enumerate(levels):
                    starts, delivers, raw = results[i]
                    flat = ""
                    if i == len(levels) - 1:
                        flat = f"{ratio:.2f}" + ("" if ratio <= FLAT else "!")
                        if ratio > FLAT:
                            failures.append(f"{kind} flatness {ratio:.2f}")
                    ok = delivers >= target
                    if not ok:
                        failures.append(f"{kind} deliver {delivers:,.0f}/s @ {have[i]:,}")
                    print(f"{kind:<9} {have[i]:>7,} {starts:>9,.0f} {delivers:>10,.0f} {raw:>15,.0f} {raw / delivers:>6.1f}x "
                          f"{'>=' + format(target, ','):>10} {flat:>6}" + ("" if ok else "  MISS"), flush=True)
                    figures["stores"].setdefault(kind, {})[level] = {
                        "stored": have[i], "start_per_s": starts, "deliver_per_s": delivers, "raw_record_save_per_s": raw}
        if not args.no_langgraph:
            lg = langgraph_rates(tmp / "langgraph.db", levels, batch, batches)
            if isinstance(lg, str):
                print(f"langgraph: {lg}")
            else:
                for level, (starts, resumes) in lg.items():
                    print(f"{'langgraph':<9} {level:>7,} {starts:>9,.0f} {resumes:>10,.0f}   "
                          "(SqliteSaver; deliver/s column = resume/s)")
                    figures.setdefault("langgraph_sqlite", {})[level] = {"start_per_s": starts, "resume_per_s": resumes}
                ours = figures["stores"].get("sqlite")
                if ours:
                    for level in levels:
                        mine = ours[level]["deliver_per_s"]
                        print(f"igniter_nb SQLite deliver vs LangGraph SqliteSaver resume @ {level:,}: "
                              f"{mine / lg[level][1]:.2f}x")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    if failures:
        print("B6 not met: " + "; ".join(failures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
