"""B4: a 1,000-item collection, inline vs threads vs a process pool vs a dask LocalCluster.

* I/O-bound child (5 ms sleep): inline vs ``runner="threads", max_workers=16`` (target ≥ 10×).
* CPU-bound child (~5 ms of pure Python): inline vs ``runner="executor"`` on ``ProcessPoolExecutor(2)``
  (target ≥ 1.6× on 2 cores), and on a dask ``LocalCluster(n_workers=2, processes=True)`` (must be correct).

Each speed-up is measured against the inline run of the same collection in this same run.
Run: ``make bench`` or ``.venv/bin/python bench/fanout.py`` (``--items N`` for a quicker run).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _fanout_children import Busy, Sleepy, burn, fan_of


def timed(fn: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    value = fn()
    return time.perf_counter() - t, value


def answers(contract: Any) -> dict[int, Any]:
    r = contract.result.items_run
    assert r.summary["succeeded"] == r.summary["total"], r.failed_items
    return {item.key: item.result.answer for item in r}


def line(label: str, seconds: float, base: float | None = None, target: float | None = None) -> bool:
    ratio = "" if base is None else f"  {base / seconds:5.1f}× inline"
    verdict = ""
    ok = True
    if target is not None and base is not None:
        ok = base / seconds >= target
        verdict = f"  (target ≥ {target}×: {'met' if ok else 'MISSED'})"
    print(f"  {label:<44} {seconds:8.3f} s{ratio}{verdict}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000)
    args = parser.parse_args()
    n = args.items
    items = [{"id": i} for i in range(n)]
    print(f"B4 — collection of {n} items; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}\n")

    print("I/O-bound child (5 ms sleep)")
    SleepyFan = fan_of(Sleepy)
    t_inline, inline = timed(lambda: answers(SleepyFan(items=items)))
    line("inline", t_inline)
    t_threads, threaded = timed(lambda: answers(SleepyFan(items=items, runner="threads", max_workers=16)))
    line("threads, max_workers=16", t_threads, t_inline, 10)
    assert threaded == inline

    print("\nCPU-bound child (~5 ms of pure Python)")
    BusyFan = fan_of(Busy)
    t_cpu, cpu_inline = timed(lambda: answers(BusyFan(items=items)))
    line("inline", t_cpu)
    t_threads_cpu, cpu_threads = timed(lambda: answers(BusyFan(items=items, runner="threads", max_workers=2)))
    line("threads, max_workers=2 (GIL-bound)", t_threads_cpu, t_cpu)
    with ProcessPoolExecutor(max_workers=2) as pool:
        pool.submit(int).result()  # start the workers outside the timing
        t_pool, cpu_pool = timed(lambda: answers(BusyFan(items=items, runner="executor", executor=pool)))
        # The same work as bare function calls on the same pool: what the machine allows, without igniter_nb.
        t_map, _ = timed(lambda: list(pool.map(burn, range(n), [60_000] * n, chunksize=max(1, n // 40))))
    line("executor, ProcessPoolExecutor(2)", t_pool, t_cpu, 1.6)
    print(f"  {'(plain pool.map of the same function)':<44} {t_map:8.3f} s  {t_cpu / t_map:5.1f}× inline; "
          f"igniter_nb on the pool = {t_map / t_pool:.2f}× plain pool.map speed")
    assert cpu_pool == cpu_inline == cpu_threads

    print("\nCPU-bound child on dask.distributed LocalCluster(n_workers=2, processes=True)")
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        t_dask, cpu_dask = timed(lambda: answers(BusyFan(items=items, runner="executor",
                                                         executor=client.get_executor())))
        line("executor, dask client.get_executor()", t_dask, t_cpu)
    correct = cpu_dask == cpu_inline
    print(f"  dask results equal inline results: {correct}")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (a shared machine: ratios above 1 core's worth "
          "of parallelism need idle cores)")
    return 0 if correct else 1


if __name__ == "__main__":
    sys.exit(main())
