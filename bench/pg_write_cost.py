"""What one save costs PostgreSQL to write, per phase of ``BenchPair`` workflows run in-process on ``SQLStore``:
WAL bytes (``pg_current_wal_lsn()`` before and after), the WAL records by kind (``pg_walinspect``: heap
inserts, updates and HOT updates, btree leaf inserts — one per index entry written — and page splits), the
table's ``n_tup_upd`` / ``n_tup_hot_upd`` (``pg_stat_user_tables``), the statements our process sent, and CPU
per save: the whole cluster's, and the phase's own backends' (from their start: their connection setup is in it,
~0.01 ms per save over 300) — both noisy; the other figures are deterministic for a given schema and data.

    .venv/bin/python bench/pg_write_cost.py                     # starts its own PostgreSQL (tests/services.py)
    .venv/bin/python bench/pg_write_cost.py --url postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        --prefix a_ --workflows 400

The code measured is whichever ``igniter_nb`` Python imports: run it once with ``PYTHONPATH=<checkout A>`` and
once with ``PYTHONPATH=<checkout B>`` (different ``--prefix``, same ``--url``) to compare two schemas; the line
``code:`` says which was used. Phases: ``start`` (the first save of each workflow, an insert), ``deliver 1`` (the
first event: an active execution saved again, still waiting) and ``deliver 2`` (the second event: the execution
finishes, its correlation is released). Each phase runs on a store of its own, closed at the end so that its
backends report their table statistics.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1]))  # appended: PYTHONPATH chooses the igniter_nb measured

import sqlalchemy as sa

import igniter_nb
from bench._server_contracts import BenchPair
from igniter_nb.stores import SQLStore

BTREE_INSERTS = ("INSERT_LEAF", "INSERT_POST", "INSERT_UPPER", "INSERT_META")


def cluster_cpu_s(backend_pid: int) -> float | None:
    """CPU seconds used so far by the postmaster of ``backend_pid`` and its children (local servers only)."""
    try:
        postmaster = int(Path(f"/proc/{backend_pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        children = [int(p) for p in Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()]
    except OSError:
        return None
    total = 0
    for pid in (postmaster, *children):
        with contextlib.suppress(OSError, ValueError):
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    return total / 1e9


class Meter:
    """The database-side counters around one phase, read on a connection of its own."""

    def __init__(self, url: str, prefix: str) -> None:
        self.engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
        self.conn = self.engine.connect()
        self.conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        self.table = f"{prefix}executions"
        self.tables = (f"{prefix}executions", f"{prefix}execution_history")
        self.pid = int(self.conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())

    def lsn(self) -> str:
        return str(self.conn.exec_driver_sql("SELECT pg_current_wal_lsn()").scalar_one())

    def table_stats(self) -> dict[str, tuple[int, int, int]]:
        self.conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
        rows = self.conn.execute(sa.text("SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
                                         "WHERE relname IN :names").bindparams(sa.bindparam("names", expanding=True)),
                                 {"names": list(self.tables)}).all()
        return {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}

    def indexes(self) -> list[tuple[str, str]]:
        rows = self.conn.execute(sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t "
                                         "ORDER BY indexname"), {"t": self.table}).all()
        return [(r[0], r[1]) for r in rows]

    def records(self, start: str, end: str) -> dict[str, tuple[int, int]]:
        """(count, bytes) of the WAL records between two LSNs, by ``resource manager/record type``."""
        rows = self.conn.execute(sa.text(
            "SELECT resource_manager, record_type, count(*), sum(record_length) "
            "FROM pg_get_wal_records_info(CAST(:a AS pg_lsn), CAST(:b AS pg_lsn)) GROUP BY 1, 2"),
            {"a": start, "b": end}).all()
        return {f"{r[0]}/{r[1]}": (int(r[2]), int(r[3])) for r in rows}

    def backend_cpu_s(self) -> float | None:
        """CPU seconds used so far by the other client backends of the server (local servers only)."""
        pids = self.conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' "
                                         "AND pid <> pg_backend_pid()")).scalars().all()
        total = 0
        try:
            for pid in pids:
                total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except (OSError, ValueError):
            return None
        return total / 1e9

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


@contextlib.contextmanager
def counting(store: SQLStore) -> Iterator[list[str]]:
    """The statements ``store`` sends (its hot path on the DBAPI connection, and SQLAlchemy's)."""
    sent: list[str] = []

    def on_sqlalchemy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", on_sqlalchemy)
    if store._hot is not None:
        store._hot.listeners.append(sent.append)
    try:
        yield sent
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", on_sqlalchemy)
        if store._hot is not None:
            store._hot.listeners.remove(sent.append)


def phase(url: str, prefix: str, meter: Meter, name: str, run: Callable[[SQLStore], int]) -> dict[str, Any]:
    store = SQLStore(url, table_prefix=prefix)
    store.create_tables()
    stats0 = meter.table_stats()
    cpu0 = cluster_cpu_s(meter.pid)
    start = meter.lsn()
    with counting(store) as sent:
        t0 = time.perf_counter()
        n = run(store)
        seconds = time.perf_counter() - t0
    end = meter.lsn()
    cpu1 = cluster_cpu_s(meter.pid)
    backends = meter.backend_cpu_s()  # the phase's own backends (made for it: their whole life)
    store.close()  # its backends exit and report their statistics
    stats1 = stats0
    for _ in range(50):  # a backend reports on exit, just after our side of the connection closed
        time.sleep(0.1)
        stats1 = meter.table_stats()
        t = meter.table
        if stats1.get(t, (0, 0, 0))[:2] != stats0.get(t, (0, 0, 0))[:2]:
            time.sleep(0.3)
            stats1 = meter.table_stats()
            break
    records = meter.records(start, end)
    wal = int(meter.conn.execute(sa.text("SELECT CAST(:b AS pg_lsn) - CAST(:a AS pg_lsn)"),
                                 {"a": start, "b": end}).scalar_one())
    delta = {k: tuple(b - a for a, b in zip(stats0.get(k, (0, 0, 0)), v, strict=True)) for k, v in stats1.items()}
    return {"phase": name, "n": n, "wal": wal, "records": records, "stats": delta, "sent": len(sent),
            "seconds": seconds, "cpu": None if cpu0 is None or cpu1 is None else cpu1 - cpu0, "backends": backends}


def report(result: dict[str, Any], table: str) -> None:
    n, records = result["n"], result["records"]

    def count(*kinds: str) -> float:
        return sum(c for key, (c, _) in records.items() if key in kinds) / n

    btree = sum(c for key, (c, _) in records.items() if key.startswith("Btree/") and key.split("/")[1] in BTREE_INSERTS)
    splits = sum(c for key, (c, _) in records.items() if key.startswith("Btree/SPLIT"))
    btree_bytes = sum(b for key, (_, b) in records.items() if key.startswith("Btree/"))
    heap_bytes = sum(b for key, (_, b) in records.items() if key.startswith("Heap"))
    ins, upd, hot = result["stats"].get(table, (0, 0, 0))
    cpu = "" if result["cpu"] is None else f" | cluster CPU {result['cpu'] * 1000 / n:.3f} ms"
    if result["backends"] is not None:
        cpu += f", backends {result['backends'] * 1000 / n:.3f} ms"
    print(f"{result['phase']:>10} | {n} saves | WAL {result['wal'] / n:,.0f} B "
          f"(heap records {heap_bytes / n:,.0f} B, btree {btree_bytes / n:,.0f} B) | "
          f"heap insert {count('Heap/INSERT', 'Heap/INSERT+INIT'):.2f} update {count('Heap/UPDATE', 'Heap/UPDATE+INIT'):.2f} "
          f"HOT {count('Heap/HOT_UPDATE', 'Heap/HOT_UPDATE+INIT'):.2f} | btree inserts {btree / n:.2f} "
          f"splits {splits / n:.3f} | {table}: ins {ins / n:.2f} upd {upd / n:.2f} hot {hot / n:.2f} | "
          f"statements {result['sent'] / n:.2f} | {result['seconds'] * 1000 / n:.3f} ms wall{cpu}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a PostgreSQL SQLAlchemy URL (default: start a throwaway server)")
    parser.add_argument("--prefix", default=None, help="table prefix (default: a fresh one)")
    parser.add_argument("--workflows", type=int, default=400)
    parser.add_argument("--fsync", action="store_true", help="the throwaway server with fsync and full_page_writes")
    parser.add_argument("--details", action="store_true", help="print every WAL record kind")
    args = parser.parse_args()
    prefix = args.prefix or f"w{uuid.uuid4().hex[:6]}_"
    with contextlib.ExitStack() as stack:
        url = args.url
        if url is None:
            from tests.services import PostgresServer

            url = stack.enter_context(PostgresServer(fsync=args.fsync)).url
        meter = Meter(url, prefix)
        stack.callback(meter.close)
        print(f"# code: {Path(igniter_nb.__file__).parent}  prefix {prefix}  {args.workflows} workflows", flush=True)
        pairs = [f"{prefix}{i}" for i in range(args.workflows)]

        def starts(store: SQLStore) -> int:
            for pair in pairs:
                BenchPair.start(pair_id=pair, store=store)
            return len(pairs)

        def deliver(event: str, key: str) -> Callable[[SQLStore], int]:
            def run(store: SQLStore) -> int:
                for pair in pairs:
                    BenchPair.deliver_event(event, correlation={"pair_id": pair}, payload={"n": 1}, store=store,
                                            idempotency_key=f"{pair}:{key}")
                return len(pairs)
            return run

        results = [phase(url, prefix, meter, "start", starts),
                   phase(url, prefix, meter, "deliver 1", deliver("left_arrived", "l")),
                   phase(url, prefix, meter, "deliver 2", deliver("right_arrived", "r"))]
        for name, definition in meter.indexes():
            print(f"# index {name}: {definition.split(' USING ', 1)[-1]}")
        for result in results:
            report(result, meter.table)
            if args.details:
                for key, (c, b) in sorted(result["records"].items()):
                    print(f"#   {key}: {c / result['n']:.2f} records, {b / result['n']:,.0f} B per save")
    return 0


if __name__ == "__main__":
    sys.exit(main())
