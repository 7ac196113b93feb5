"""A store made from a PostgreSQL URL keeps the connections a burst opened (up to ``POOL_SIZE``) instead of closing
all but five of them as they come back: a server with more store calls in flight than five no longer opens a new
PostgreSQL session every few requests."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from igniter_nb.stores import SQLStore
from igniter_nb.stores.sql_engine import POOL_SIZE

pytestmark = pytest.mark.services

THREADS = 10  # more than SQLAlchemy's default pool of 5, fewer than POOL_SIZE


def _sessions(store: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                        "AND backend_type = 'client backend'").scalar())


def test_a_burst_of_store_calls_leaves_its_connections_open(postgres_url: str) -> None:
    store = SQLStore(postgres_url, table_prefix="pool_")
    try:
        store.create_tables()
        pool: Any = store.engine.pool
        assert pool.size() == POOL_SIZE
        for i in range(THREADS):
            store.save({"execution_id": f"e{i}"})
        barrier = threading.Barrier(THREADS)
        errors: list[BaseException] = []

        def burst() -> None:  # THREADS connections checked out at once, then returned
            try:
                with store.engine.connect():
                    barrier.wait(30)
            except BaseException as exc:  # reported below
                errors.append(exc)

        for _ in range(3):
            threads = [threading.Thread(target=burst) for _ in range(THREADS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert errors == []
            assert pool.checkedin() == THREADS  # every connection of the burst kept, none closed
        assert pool.overflow() <= 0
        before = _sessions(store)
        threads = [threading.Thread(target=burst) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert _sessions(store) == before  # the next burst opened no new PostgreSQL session
    finally:
        store.close()
