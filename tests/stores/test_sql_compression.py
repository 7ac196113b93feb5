"""PostgreSQL: the snapshot columns are compressed with lz4 where the server has it (``stores/sql_compression.py``)
— on new tables and on tables of earlier releases at their first use — and a store that may not switch them keeps
working with pglz."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from igniter_nb.stores import SQLStore, sql_compression
from igniter_nb.stores.sql_compression import COLUMNS, compression_of

GRAPH = "G"
BIG = "x" * 3000 + "".join(str(i) for i in range(1000))  # > 2 KB: PostgreSQL compresses it


def snap(eid: str, n: int) -> dict[str, Any]:
    return {"format": "igniter_nb.snapshot/1", "graph": GRAPH, "execution_id": eid, "n": n, "text": BIG}


@pytest.fixture
def pg(postgres_url: str) -> Iterator[tuple[str, str]]:
    """(URL, a fresh table prefix) on the session's PostgreSQL; skipped where lz4 is not available."""
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        version = engine.dialect.server_version_info or (0,)
        lz4 = conn.execute(sa.text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                                   "WHERE name = 'default_toast_compression'")).scalar()
    engine.dispose()
    if version < (14,) or not lz4:
        pytest.skip("this PostgreSQL has no lz4 (14+ built --with-lz4)")
    yield postgres_url, f"c{uuid.uuid4().hex[:10]}_"


def compressions(store: SQLStore) -> dict[str, Any]:
    with store.engine.connect() as conn:
        return compression_of(conn, store.table_prefix)


def stored_methods(store: SQLStore, table: str) -> list[str]:
    """How each stored snapshot of ``table`` is compressed, in version order (``pg_column_compression``)."""
    with store.engine.connect() as conn:
        order = "version" if table == "execution_history" else "execution_id"
        rows = conn.execute(sa.text(f'SELECT pg_column_compression(snapshot) FROM "{store.table_prefix}{table}" '
                                    f"ORDER BY {order}"))
        return [row[0] for row in rows]


def test_new_tables_compress_snapshots_with_lz4(pg: tuple[str, str]) -> None:
    url, prefix = pg
    store = SQLStore(url, table_prefix=prefix)
    try:
        store.save(snap("ex-1", 1), graph=GRAPH, correlation={"k": 1}, status="waiting")
        assert compressions(store) == {f"{prefix}{table}.{column}": "l" for table, column in COLUMNS}
        assert stored_methods(store, "executions") == ["lz4"]
        assert stored_methods(store, "execution_history") == ["lz4"]
        store.create_tables()  # nothing left to switch: no ALTER, same answer
        assert set(compressions(store).values()) == {"l"}
    finally:
        store.close()


def test_tables_of_an_earlier_release_switch_to_lz4_on_first_use(pg: tuple[str, str]) -> None:
    url, prefix = pg
    old = SQLStore(url, table_prefix=prefix)
    try:
        old.create_tables()
        with old.engine.begin() as conn:  # as an earlier release left them: the server's default, pglz
            for table, column in COLUMNS:
                conn.execute(sa.text(f'ALTER TABLE "{prefix}{table}" ALTER COLUMN {column} SET COMPRESSION pglz'))
        old.save(snap("ex-1", 1), graph=GRAPH, correlation={"k": 1}, status="waiting")
        assert set(compressions(old).values()) == {"p"}
        assert stored_methods(old, "executions") == ["pglz"]
    finally:
        old.close()

    store = SQLStore(url, table_prefix=prefix)
    try:
        assert store.record("ex-1").snapshot == snap("ex-1", 1)  # first use switches; the pglz value reads as before
        assert set(compressions(store).values()) == {"l"}
        assert store.save(snap("ex-1", 2), graph=GRAPH, correlation={"k": 1}, status="waiting",
                          expected_version=1) == 2
        assert stored_methods(store, "execution_history") == ["pglz", "lz4"]  # only new values are lz4
        assert stored_methods(store, "executions") == ["lz4"]
        assert [r.snapshot["n"] for r in store.history_records("ex-1")] == [1, 2]
    finally:
        store.close()


def test_a_table_locked_past_the_timeout_keeps_pglz_and_the_store_works(
        pg: tuple[str, str], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    url, prefix = pg
    old = SQLStore(url, table_prefix=prefix)
    try:
        old.create_tables()
        with old.engine.begin() as conn:
            for table, column in COLUMNS:
                conn.execute(sa.text(f'ALTER TABLE "{prefix}{table}" ALTER COLUMN {column} SET COMPRESSION pglz'))
        old.save(snap("ex-1", 1), graph=GRAPH, correlation={"k": 1}, status="waiting")
        monkeypatch.setattr(sql_compression, "LOCK_TIMEOUT", "200ms")
        monkeypatch.setattr(sql_compression, "LOCK_ATTEMPTS", 2)
        with old.engine.connect() as reader, reader.begin():  # a long read holds its lock across the first use below
            reader.execute(sa.text(f'SELECT count(*) FROM "{prefix}executions"')).scalar()
            store = SQLStore(url, table_prefix=prefix)
            try:
                with caplog.at_level(logging.WARNING, logger="igniter_nb.stores.sql_compression"):
                    assert store.record("ex-1").snapshot == snap("ex-1", 1)
                assert "stay compressed with pglz" in caplog.text
                assert set(compressions(store).values()) == {"p"}
                assert store.save(snap("ex-1", 2), graph=GRAPH, correlation={"k": 1}, status="waiting",
                                  expected_version=1) == 2
            finally:
                store.close()
        again = SQLStore(url, table_prefix=prefix)  # the next store to start switches them
        try:
            assert [r.snapshot["n"] for r in again.history_records("ex-1")] == [1, 2]
            assert set(compressions(again).values()) == {"l"}
        finally:
            again.close()
    finally:
        old.close()


@pytest.mark.parametrize("without", ["PostgreSQL 13", "a server built without lz4"])
def test_where_lz4_is_unavailable_nothing_is_altered(pg: tuple[str, str], without: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    url, prefix = pg
    store = SQLStore(url, table_prefix=prefix)
    try:
        if without == "PostgreSQL 13":
            with store.engine.connect():  # the dialect learns the server's version on the first connection
                pass
            monkeypatch.setattr(store.engine.dialect, "server_version_info", (13, 11))
        else:
            monkeypatch.setattr(sql_compression, "_LZ4_AVAILABLE", "SELECT false")
        altered: list[str] = []
        event.listen(store.engine, "before_cursor_execute", lambda *args: altered.append(args[2]))
        assert store.save(snap("ex-1", 1), graph=GRAPH, correlation={"k": 1}, status="waiting") == 1
        # (the columns' storage is still set, stores/sql_storage.py: that needs no lz4)
        assert not [sql for sql in altered if "ALTER" in sql.upper() and "COMPRESSION" in sql.upper()]
        assert set(compressions(store).values()) == {""}  # the server's default (pglz), as created
        assert store.record("ex-1").snapshot == snap("ex-1", 1)
    finally:
        store.close()
