"""Interleaved A/B of BenchPair memory deliveries between two checkouts (issue 13 target 4).

Two long-lived worker processes, one per checkout (each imports its own ``igniter_nb``), take turns: each round
every worker starts 300 BenchPair workflows, delivers ``left_arrived`` to all of them then ``right_arrived``
(idempotency keys, as ``bench/workflows.py``), and runs the raw memory floor (``bench/_floors.MemoryFloor``) on
the snapshots it just wrote. The order alternates round by round, so a slow spell of a shared machine hits both
sides alike; compare the minima and the round-by-round ratio, not one run's median against another's::

    .venv/bin/python bench/memory_delivery_ab.py /work/wt/main-copy /work/wt/my-branch --rounds 60
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BATCH = 300


def worker() -> None:
    """One side: a round per line read from stdin, answering ``<µs per delivery> <µs per floor round>``."""
    sys.path.insert(0, str(Path(__file__).parent))
    from _floors import MemoryFloor
    from _server_contracts import BenchPair

    from igniter_nb.stores.memory import MemoryStore

    store = MemoryStore()

    def deliveries(tag: str) -> tuple[float, list[str]]:
        pairs = [f"{tag}-{i}" for i in range(BATCH)]
        for p in pairs:
            BenchPair.start(pair_id=p, store=store)
        t0 = time.perf_counter()
        for p in pairs:
            BenchPair.deliver_event("left_arrived", correlation={"pair_id": p}, payload={"n": 1}, store=store,
                                    idempotency_key=f"{p}:l")
        ids = [BenchPair.deliver_event("right_arrived", correlation={"pair_id": p}, payload={"n": 2}, store=store,
                                       idempotency_key=f"{p}:r").execution_id for p in pairs]
        return (time.perf_counter() - t0) / (2 * BATCH), ids

    for i in range(3):  # warm-up
        deliveries(f"warm{i}")
    floor = MemoryFloor(store)
    for n, _ in enumerate(sys.stdin):
        per_delivery, ids = deliveries(f"r{n}")
        floor.load(ids)
        t0 = time.perf_counter()
        done = floor.run(ids)
        print(f"{per_delivery * 1e6:.2f} {(time.perf_counter() - t0) / done * 1e6:.2f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", help="checkout A (its igniter_nb is imported by worker A)")
    parser.add_argument("b", help="checkout B")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    sides = {}
    for name in ("a", "b"):
        root = str(Path(getattr(args, name)).resolve())
        sides[name] = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker"], cwd=root,
                                       env={**os.environ, "PYTHONPATH": root}, stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
    for r in range(args.rounds):
        for name in (("a", "b") if r % 2 == 0 else ("b", "a")):
            proc = sides[name]
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
            deliver, floor = map(float, proc.stdout.readline().split())
            results[name].append((deliver, floor))
    for proc in sides.values():
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait()
    for name, rows in results.items():
        ds, fs = [d for d, _ in rows], [f for _, f in rows]
        print(f"{name}: {getattr(args, name)}: delivery median {statistics.median(ds):.1f} µs, min {min(ds):.1f} µs "
              f"({1e6 / statistics.median(ds):,.0f}/s); floor median {statistics.median(fs):.1f} µs, min "
              f"{min(fs):.1f} µs; floor/delivery min/min {min(fs) / min(ds):.3f}")
    ratios = [b[0] / a[0] for a, b in zip(results["a"], results["b"], strict=True)]
    print(f"b/a time per delivery, round by round: median {statistics.median(ratios):.3f} "
          f"(range {min(ratios):.3f}-{max(ratios):.3f}); min/min {min(d for d, _ in results['b']) / min(d for d, _ in results['a']):.3f}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        worker()
    else:
        sys.exit(main())
