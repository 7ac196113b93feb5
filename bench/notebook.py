"""B7 — notebook toolkit: import time, graph reprs (dot and pure-Python), audit to_frame, parquet, stepper.

    .venv/bin/python bench/notebook.py

Each figure is printed with a ratio against a baseline measured in the same run (the machine is shared and
noisy): graph reprs against ``json.dumps`` of the graph's node list, frames against a plain
``pd.DataFrame(list_of_dicts)`` of the same events, parquet against writing the same frame to CSV.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "notebook"))

import pandas as pd  # noqa: E402
from contracts import ApprovalContract, PriceContract, layered_graph  # noqa: E402

import igniter_nb as ig  # noqa: E402
from igniter_nb.notebook import reprs  # noqa: E402
from igniter_nb.notebook.render import dot_available  # noqa: E402

RESULTS: list[tuple[str, float, str, str]] = []


def timed(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def report(name: str, seconds: float, baseline: float, target: float | None) -> None:
    ratio = seconds / baseline if baseline > 0 else float("inf")
    verdict = "" if target is None else ("ok" if seconds <= target else "OVER TARGET")
    RESULTS.append((name, seconds, f"{ratio:8.1f}x baseline", verdict))
    bound = f"(target ≤ {target * 1000:.0f} ms)" if target is not None else ""
    print(f"{name:<44} {seconds * 1000:10.2f} ms {ratio:9.1f}x baseline  {bound} {verdict}")


def import_time() -> None:
    def once(code: str) -> float:
        out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
        return float(out.stdout.strip())

    ours = [once("import time; t = time.perf_counter(); import igniter_nb; print(time.perf_counter() - t)")
            for _ in range(7)]
    base = [once("import time; t = time.perf_counter(); import json, dataclasses, enum, uuid; "
                 "print(time.perf_counter() - t)") for _ in range(7)]
    report("import igniter_nb (median of 7 subprocesses)", statistics.median(ours), statistics.median(base), 0.150)


def graph_reprs() -> None:
    has_dot = dot_available()
    for n in (50, 300, 1000):
        graph = layered_graph(n)
        baseline = timed(lambda graph=graph: json.dumps([(x.name, x.kind, list(x.dependencies)) for x in graph.nodes]))
        for engine in ("python", "dot"):
            if engine == "dot" and not has_dot:
                print(f"graph repr {n} nodes, dot: skipped (dot not installed)")
                continue
            target = {("python", 300): 0.3, ("dot", 300): 1.5}.get((engine, n))
            expand = n <= 300  # ≤ 300 drawn in full; 1,000 renders collapsed by scope (the default)
            seconds = timed(lambda graph=graph, engine=engine, expand=expand:
                            reprs.graph_mimebundle(graph, engine=engine, expand=expand), repeat=3)
            report(f"graph repr {n} nodes, {engine}{'' if expand else ' (collapsed)'}", seconds, baseline, target)
        if n == 1000:
            seconds = timed(lambda graph=graph: reprs.graph_mimebundle(graph, engine="python", expand=True), repeat=2)
            report("graph repr 1000 nodes, python, expanded", seconds, baseline, None)
    # Big graphs without scopes collapse into blocks of the resolution order (issue 12 point 5); the 300-node
    # budgets are the bar, the ratio against json.dumps of the node list shows how the cost grows.
    for n in (10_000, 100_000):
        graph = layered_graph(n, scope_size=None)
        baseline = timed(lambda graph=graph: json.dumps([(x.name, x.kind, list(x.dependencies)) for x in graph.nodes]),
                         repeat=2)
        for engine in ("python", "dot"):
            if engine == "dot" and not has_dot:
                continue
            target = {"python": 0.3, "dot": 1.5}[engine] if n == 10_000 else None
            seconds = timed(lambda graph=graph, engine=engine: reprs.graph_mimebundle(graph, engine=engine), repeat=2)
            report(f"graph repr {n:,} nodes, {engine} (collapsed)", seconds, baseline, target)


def frames() -> None:
    c = PriceContract(order_total=1, country="UA")
    emit = c.execution.bus.emit
    for i in range(100_000):
        emit("node_succeeded", f"n{i % 50}", f"p.n{i % 50}", "succeeded", {"i": i} if i % 10 == 0 else {})
    events = c.events
    baseline = timed(lambda: pd.DataFrame([e._asdict() for e in events]), repeat=3)
    seconds = timed(lambda: c.audit.to_frame(), repeat=3)
    report("audit.to_frame() 100,000 events", seconds, baseline, 1.0)
    frame = c.audit.to_frame()
    with tempfile.TemporaryDirectory() as tmp:
        path, csv = Path(tmp) / "audit.parquet", Path(tmp) / "audit.csv"
        csv_write = timed(lambda: frame.to_csv(csv), repeat=2)
        report("to_parquet 100,000 events", timed(lambda: ig.nb.to_parquet(frame, path), repeat=3), csv_write, None)
        csv_read = timed(lambda: pd.read_csv(csv), repeat=2)
        report("read_parquet 100,000 events", timed(lambda: ig.nb.read_parquet(path), repeat=3), csv_read, None)
    steps_base = timed(lambda: sum(1 for _ in frame.itertuples()), repeat=2)
    report("replay() 100,000 events (all steps)", timed(lambda: sum(1 for _ in ig.nb.replay(frame)), repeat=2),
           steps_base, None)


def stepper() -> None:
    a = ApprovalContract(order_id="o", order_total=3)
    a.resolve_all()
    for i in range(500):
        a.update_inputs(order_total=4 + i)
        a.resolve_all()
    frame = a.audit.to_frame()
    st = ig.nb.SnapshotStepper(frame, engine="python")
    baseline = timed(lambda: frame.iloc[len(frame) // 2].to_dict())
    positions = iter(range(len(frame) // 2, len(frame)))
    report(f"stepper step ({len(frame)} events): goto + diff + svg",
           timed(lambda: (st.goto(next(positions)), st.diff(), st.svg())), baseline, 0.100)


if __name__ == "__main__":
    print(f"bench/notebook.py — dot installed: {dot_available()}")
    import_time()
    graph_reprs()
    frames()
    stepper()
    over = [r for r in RESULTS if r[3] == "OVER TARGET"]
    print(f"{len(RESULTS)} figures, {len(over)} over target")
