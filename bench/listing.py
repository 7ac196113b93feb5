"""Listing benchmark (issue 10, `GET /v1/executions`): one page of 100 records by ``list_page`` against the whole
``list()`` the route used to page over, at N stored executions, for every store — the ratio is page / list in the
same run (the old way is the baseline). Also reported: how a page's cost grows from N/10 to N executions (the
``list_page`` cost should stay flat for the indexed stores; the memory and file stores scan metadata). The
filtered case (one graph of two, one status of three: 1/6 of the executions) has at least two pages at N/10.

    .venv/bin/python bench/listing.py                  # 20,000 executions (starts its own Redis and PostgreSQL)
    .venv/bin/python bench/listing.py --quick          # 12,000 executions
    .venv/bin/python bench/listing.py --kinds sqlite,redis
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from igniter_nb.stores import FileStore, MemoryStore, ParquetStore, RedisStore, SQLStore
from tests.services import PostgresServer, RedisServer

PAGE = 100


def snapshot(eid: str) -> dict[str, Any]:
    """A small 10-node snapshot (listing cost is per record; a bigger snapshot only widens the gap)."""
    return {"format": "igniter_nb.snapshot/1", "graph": "G", "execution_id": eid,
            "states": {f"n{i}": {"status": "succeeded", "value": i} for i in range(10)}}


def best_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return min(times) if runs < 5 else statistics.median(sorted(times)[: max(1, runs // 2)])


def open_store(kind: str, tmp: Path, redis_url: str, pg_url: str) -> Any:
    if kind == "memory":
        return MemoryStore()
    if kind == "file":
        return FileStore(tmp / "file", fsync=False)
    if kind == "sqlite":
        return SQLStore(f"sqlite:///{tmp / 'bench.db'}")
    if kind == "postgres":
        return SQLStore(pg_url, table_prefix="listing_")
    if kind == "redis":
        return RedisStore(redis_url, namespace="listing")
    if kind == "parquet":
        return ParquetStore(tmp / "parquet", fsync=False)
    raise ValueError(kind)


def fill(store: Any, start: int, stop: int) -> None:
    for i in range(start, stop):
        status = ("waiting", "succeeded", "failed")[i % 3]
        store.save(snapshot(f"ex-{i:07d}"), graph="G" if i % 2 else "H", correlation={"n": i}, status=status)


def second_page(store: Any, graph: str | None, status: str | None) -> Callable[[], object]:
    _, cursor = store.list_page(graph, status, limit=PAGE)
    return lambda: store.list_page(graph, status, limit=PAGE, after=cursor)


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="2,000 instead of 20,000 executions")
    parser.add_argument("--kinds", default="memory,file,sqlite,redis,postgres,parquet")
    args = parser.parse_args()
    big = 12_000 if args.quick else 20_000
    runs = 5 if args.quick else 9
    print(f"# listing benchmark {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, python {sys.version.split()[0]}, "
          f"page of {PAGE} at {big // 10:,} and {big:,} executions; baseline = list() of the same filter (what "
          "GET /v1/executions read per page before)")
    print(f"{'store':<9} {'filter':<16} {'list() ms':>10} {'page ms':>9} {'page/list':>10} "
          f"{'page@' + format(big // 10, ',') + ' ms':>14} {'page growth':>12}")
    with tempfile.TemporaryDirectory(prefix="igniter-listing-") as tmpdir, RedisServer() as redis, \
            PostgresServer(fsync=False) as pg:
        for kind in args.kinds.split(","):
            tmp = Path(tmpdir) / kind
            tmp.mkdir()
            store = open_store(kind, tmp, redis.url, pg.url)
            try:
                filters: tuple[tuple[str | None, str | None], ...] = ((None, None), ("G", "waiting"))
                fill(store, 0, big // 10)
                small = {f: best_ms(second_page(store, *f), runs) for f in filters}
                fill(store, big // 10, big)
                for graph, status in filters:
                    # (a def, not a lambda with defaults: mypy cannot infer such a lambda against Callable[[], ...])
                    def list_all(s: Any = store, g: str | None = graph, st: str | None = status) -> object:
                        return s.list(g, st)

                    listed = best_ms(list_all, max(2, runs // 3))
                    page = best_ms(second_page(store, graph, status), runs)
                    label = "none" if graph is None else "graph+status"
                    print(f"{kind:<9} {label:<16} {listed:>10.2f} {page:>9.3f} {page / listed:>10.4f} "
                          f"{small[graph, status]:>14.3f} {page / small[graph, status]:>11.2f}x", flush=True)
            finally:
                store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
