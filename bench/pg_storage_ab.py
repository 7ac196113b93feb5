"""The PostgreSQL backends' CPU per delivery with the snapshot columns' storage as earlier releases left it
(EXTENDED: a snapshot over ~2 KB compressed goes to TOAST in chunks) and as ``SQLStore`` sets it now (MAIN: kept
in the row, ``stores/sql_storage.py``), alternately in one process on one server, so that the host's load moves
both sides alike.

    .venv/bin/python bench/pg_storage_ab.py ROUNDS WORKFLOWS [--url URL]

Each round starts WORKFLOWS ``BenchPair`` workflows on each side (not measured) and delivers their first event
(measured: the CPU of the server's client backends from ``/proc/<pid>/schedstat``, per delivery), sides in the
order A B, then B A, ...; A is the EXTENDED table, B the MAIN one. Without ``--url`` it starts its own
PostgreSQL (``tests/services.py``). Local servers only (it reads ``/proc``).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from bench._server_contracts import BenchPair
from igniter_nb.stores import SQLStore
from igniter_nb.stores.sql_storage import COLUMNS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rounds", type=int)
    parser.add_argument("workflows", type=int)
    parser.add_argument("--url")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = args.url
        if url is None:
            from tests.services import PostgresServer

            url = stack.enter_context(PostgresServer()).url
        meter = stack.enter_context(sa.create_engine(url, isolation_level="AUTOCOMMIT").connect())

        def backends_cpu_s() -> float:
            pids = meter.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' "
                                         "AND pid <> pg_backend_pid()")).scalars().all()
            total = 0
            for pid in pids:
                with contextlib.suppress(OSError, ValueError):
                    total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
            return total / 1e9

        stores = {}
        for side in ("A", "B"):
            prefix = f"ab{side.lower()}{int(time.time())}_"
            store = SQLStore(url, table_prefix=prefix)
            stack.callback(store.close)
            store.create_tables()
            if side == "A":  # as earlier releases left it (create_tables already ran: it is not set again)
                with store.engine.begin() as conn:
                    for table, column in COLUMNS:
                        conn.exec_driver_sql(f'ALTER TABLE "{prefix}{table}" ALTER COLUMN {column} SET STORAGE EXTENDED')
            stores[side] = store
        results: dict[str, list[float]] = {"A": [], "B": []}
        for r in range(args.rounds):
            for side in ("A", "B") if r % 2 == 0 else ("B", "A"):
                store = stores[side]
                pairs = [f"{side}-{r}-{i}" for i in range(args.workflows)]
                for pair in pairs:
                    BenchPair.start(pair_id=pair, store=store)
                before = backends_cpu_s()
                for pair in pairs:
                    BenchPair.deliver_event("left_arrived", correlation={"pair_id": pair}, payload={"n": 1},
                                            store=store, idempotency_key=f"{pair}:l")
                results[side].append((backends_cpu_s() - before) * 1000 / len(pairs))
            load = Path("/proc/loadavg").read_text().split()[0]
            print(f"round {r}: A {results['A'][-1]:.3f} ms  B {results['B'][-1]:.3f} ms  (load {load})", flush=True)
        for side in ("A", "B"):
            print(f"{side}: median {statistics.median(results[side]):.3f} ms of backend CPU per delivery")
        print(f"B below A in {sum(b < a for a, b in zip(results['A'], results['B'], strict=True))} of {args.rounds} rounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
