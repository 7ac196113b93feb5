"""PostgreSQL: a saved row keeps its values in line (storage MAIN, ``stores/sql_storage.py``) — on new tables and
on tables of earlier releases from their first use — so a delivery's save writes no TOAST chunks; what a save
writes is pinned from the WAL (``pg_walinspect``); a store that may not switch the storage keeps working."""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from igniter_nb.stores import SQLStore, sql_compression
from igniter_nb.stores.sql_storage import COLUMNS, storage_of

GRAPH = "G"
# ~6.9 KB of JSON that lz4 makes ~2.9 KB of: over the ~2 KB a value may keep in its row with the default storage,
# under the ~8 KB of a page. (A two-event workflow's snapshot is 6.3 KB, ~2.0 KB compressed.)
TEXT = "".join(str(i * 7919 % 10007) for i in range(1600))


def snap(eid: str, n: int) -> dict[str, Any]:
    return {"format": "igniter_nb.snapshot/1", "graph": GRAPH, "execution_id": eid, "n": n, "text": TEXT}


@pytest.fixture
def pg(postgres_url: str) -> Iterator[tuple[str, str]]:
    yield postgres_url, f"s{uuid.uuid4().hex[:10]}_"


def storages(store: SQLStore) -> set[str]:
    with store.engine.connect() as conn:
        return set(storage_of(conn, store.table_prefix).values())


def toasted(store: SQLStore, table: str) -> int:
    """Rows (chunks) in the TOAST table of ``table``."""
    with store.engine.connect() as conn:
        toast = conn.execute(sa.text("SELECT reltoastrelid::regclass::text FROM pg_class "
                                     "WHERE oid = to_regclass(quote_ident(:t))"), {"t": f"{store.table_prefix}{table}"}
                             ).scalar_one()
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {toast}")).scalar_one())


def as_an_earlier_release(store: SQLStore) -> None:
    """The columns' storage as releases before this one left it: the default, EXTENDED."""
    with store.engine.begin() as conn:
        for table, column in COLUMNS:
            conn.execute(sa.text(f'ALTER TABLE "{store.table_prefix}{table}" ALTER COLUMN {column} SET STORAGE EXTENDED'))


def test_new_tables_keep_snapshots_in_their_rows(pg: tuple[str, str]) -> None:
    url, prefix = pg
    store = SQLStore(url, table_prefix=prefix)
    try:
        store.save(snap("ex-1", 1), graph=GRAPH, correlation={"k": 1}, status="waiting")
        store.save(snap("ex-1", 2), graph=GRAPH, correlation={"k": 1}, status="waiting", expected_version=1)
        assert storages(store) == {"m"}
        with store.engine.connect() as conn:  # compressed, and over what the default storage keeps in a row
            size = conn.execute(sa.text(f'SELECT pg_column_size(snapshot) FROM "{prefix}executions"')).scalar_one()
        assert 2100 < size < len(TEXT)
        assert toasted(store, "executions") == 0 and toasted(store, "execution_history") == 0
        assert store.fetch("ex-1") == snap("ex-1", 2)
        assert [r.snapshot for r in store.history_records("ex-1")] == [snap("ex-1", 1), snap("ex-1", 2)]
        store.create_tables()  # nothing left to switch
        assert storages(store) == {"m"}
    finally:
        store.close()


def test_a_large_snapshot_still_goes_out_of_line(pg: tuple[str, str]) -> None:
    url, prefix = pg
    store = SQLStore(url, table_prefix=prefix)
    try:
        big = {**snap("ex-1", 1), "noise": secrets.token_hex(16_000)}  # 32 KB of hex: ~16 KB compressed
        store.save(big, graph=GRAPH, correlation={"k": 1}, status="waiting")
        assert toasted(store, "executions") > 0  # the last resort: the row would not fit in a page otherwise
        assert store.fetch("ex-1") == big
    finally:
        store.close()


def test_tables_of_an_earlier_release_keep_new_rows_inline_after_first_use(pg: tuple[str, str]) -> None:
    url, prefix = pg
    old = SQLStore(url, table_prefix=prefix)
    try:
        old.create_tables()
        as_an_earlier_release(old)
        old.save(snap("ex-1", 1), graph=GRAPH, correlation={"k": 1}, status="waiting")
        old.save(snap("ex-2", 1), graph=GRAPH, correlation={"k": 2}, status="succeeded")
        assert storages(old) == {"x"}
        assert toasted(old, "executions") > 0 and toasted(old, "execution_history") > 0
    finally:
        old.close()
    history_chunks = toasted(old, "execution_history")

    store = SQLStore(url, table_prefix=prefix)
    try:  # first use switches the storage; the rows stored out of line read as before
        assert store.record_by_correlation(GRAPH, {"k": 1}).snapshot == snap("ex-1", 1)  # type: ignore[union-attr]
        assert storages(store) == {"m"}
        assert store.fetch("ex-2") == snap("ex-2", 1)
        assert store.find_latest_by_correlation(GRAPH, {"k": 2}) == "ex-2"
        assert [r.execution_id for r in store.list_page(GRAPH, limit=5)[0]] == ["ex-2", "ex-1"]
        assert store.save(snap("ex-1", 2), graph=GRAPH, correlation={"k": 1}, status="waiting",
                          expected_version=1) == 2
        assert toasted(store, "execution_history") == history_chunks  # the new version is in its row
        assert toasted(store, "executions") < history_chunks  # ex-1's old chunks went with its old row version
        assert [r.snapshot["n"] for r in store.history_records("ex-1")] == [1, 2]
        assert store.fetch("ex-1") == snap("ex-1", 2)
    finally:
        store.close()


def test_a_table_locked_past_the_timeout_keeps_its_storage_and_the_store_works(
        pg: tuple[str, str], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    url, prefix = pg
    old = SQLStore(url, table_prefix=prefix)
    try:
        old.create_tables()
        as_an_earlier_release(old)
        old.save(snap("ex-1", 1), graph=GRAPH, correlation={"k": 1}, status="waiting")
        monkeypatch.setattr(sql_compression, "LOCK_TIMEOUT", "200ms")  # (alter_columns reads it there)
        monkeypatch.setattr(sql_compression, "LOCK_ATTEMPTS", 2)
        with old.engine.connect() as reader, reader.begin():  # a long read holds its lock across the first use
            reader.execute(sa.text(f'SELECT count(*) FROM "{prefix}executions"')).scalar()
            store = SQLStore(url, table_prefix=prefix)
            try:
                with caplog.at_level(logging.WARNING, logger="igniter_nb.stores.sql_compression"):
                    assert store.record("ex-1").snapshot == snap("ex-1", 1)
                assert "stored out of line" in caplog.text
                assert storages(store) == {"x"}
                assert store.save(snap("ex-1", 2), graph=GRAPH, correlation={"k": 1}, status="waiting",
                                  expected_version=1) == 2
            finally:
                store.close()
        again = SQLStore(url, table_prefix=prefix)  # the next store to start switches them
        try:
            assert [r.snapshot["n"] for r in again.history_records("ex-1")] == [1, 2]
            assert storages(again) == {"m"}
        finally:
            again.close()
    finally:
        old.close()


def test_waiting_for_the_lock_holds_other_readers_up_briefly_and_a_later_attempt_switches(
        pg: tuple[str, str], caplog: pytest.LogCaptureFixture) -> None:
    """PostgreSQL queues every later reader behind an ALTER waiting for its lock: one 5 s wait held the store up
    for 5 s. The ALTER now waits 100 ms at a time and tries again, so a reader gives up on nothing (here: a reader
    with a 1.5 s statement timeout gets its rows), and once the lock is free a later attempt makes the switch."""
    import threading

    url, prefix = pg
    old = SQLStore(url, table_prefix=prefix)
    try:
        old.create_tables()
        as_an_earlier_release(old)
        old.save(snap("ex-1", 1), graph=GRAPH, correlation={"k": 1}, status="waiting")
        holder = old.engine.connect()
        holder.begin()
        holder.execute(sa.text(f'SELECT count(*) FROM "{prefix}executions"')).scalar()  # its lock, held
        store = SQLStore(url, table_prefix=prefix)
        first_use: dict[str, Any] = {}
        worker = threading.Thread(target=lambda: first_use.update(record=store.record("ex-1")))
        with caplog.at_level(logging.WARNING, logger="igniter_nb.stores.sql_storage"):
            worker.start()
            try:
                with old.engine.connect() as watcher:  # until an ALTER waits for the lock
                    for _ in range(400):
                        if watcher.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                                                   "'Lock' AND query LIKE 'ALTER TABLE%'")).scalar():
                            break
                        watcher.rollback()
                        threading.Event().wait(0.01)
                    else:
                        pytest.fail("no ALTER waited for the lock")
                with old.engine.connect() as reader:
                    reader.execute(sa.text("SET statement_timeout = '1500ms'"))
                    assert reader.execute(sa.text(f'SELECT count(*) FROM "{prefix}executions"')).scalar() == 1
            finally:
                holder.rollback()
                holder.close()
                worker.join(30)
        assert first_use["record"].snapshot == snap("ex-1", 1)
        assert "stored out of line" not in caplog.text
        assert storages(store) == {"m"}
        store.close()
    finally:
        old.close()


# ------------------------------------------------------------------------------------------ what a save writes

_INSERTS = ("INSERT_LEAF", "INSERT_POST", "SPLIT_L", "SPLIT_R")  # a split record carries the entry it inserts


def _wal_records(conn: sa.Connection, start: str, end: str) -> list[tuple[str, str, str]]:
    rows = conn.execute(sa.text("SELECT resource_manager, record_type, coalesce(block_ref, '') "
                                "FROM pg_get_wal_records_info(CAST(:a AS pg_lsn), CAST(:b AS pg_lsn))"),
                        {"a": start, "b": end})
    return [(r[0], r[1], r[2]) for r in rows]


def test_a_delivery_save_writes_its_two_rows_and_one_entry_per_index(pg: tuple[str, str]) -> None:
    """The compare-and-set save of a waiting execution (what a delivery writes), read back from the WAL: the
    executions row's new version, one entry in each index of executions, the history row and its primary-key
    entry — nothing in a TOAST table. (PostgreSQL cannot make it a HOT update: ``updated_at``, which every save
    changes, is in the listing indexes.)"""
    url, prefix = pg
    store = SQLStore(url, table_prefix=prefix)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            try:
                conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_walinspect"))
            except sa.exc.DBAPIError:
                pytest.skip("pg_walinspect is not available on this PostgreSQL (15+, contrib)")
            for n in range(1, 6):  # a few versions first: the save below updates a row that has history
                store.save(snap("ex-1", n), graph=GRAPH, correlation={"k": 1}, status="waiting",
                           expected_version=n - 1)
            relations = {}
            for table in ("executions", "execution_history"):
                rows = conn.execute(sa.text(
                    "SELECT c.relname, c.relkind, pg_relation_filenode(c.oid) FROM pg_class c "
                    "WHERE c.oid = to_regclass(quote_ident(:t)) OR c.oid = (SELECT reltoastrelid FROM pg_class "
                    "WHERE oid = to_regclass(quote_ident(:t))) OR c.oid IN (SELECT indexrelid FROM pg_index WHERE "
                    "indrelid IN (to_regclass(quote_ident(:t)), (SELECT reltoastrelid FROM pg_class "
                    "WHERE oid = to_regclass(quote_ident(:t)))))"), {"t": f"{prefix}{table}"})
                for name, kind, node in rows:
                    relations[str(node)] = (table, name, kind)
            indexes = sorted(name for table, name, kind in relations.values() if table == "executions" and kind == "i"
                             and not name.startswith("pg_toast"))
            start = conn.execute(sa.text("SELECT pg_current_wal_lsn()")).scalar_one()
            assert store.save(snap("ex-1", 6), graph=GRAPH, correlation={"k": 1}, status="waiting",
                              expected_version=5) == 6
            end = conn.execute(sa.text("SELECT pg_current_wal_lsn()")).scalar_one()
            entries: dict[str, int] = {}
            heap: list[tuple[str, str]] = []
            for manager, kind, blocks in _wal_records(conn, str(start), str(end)):
                found = re.search(r"rel \d+/\d+/(\d+)", blocks)
                if found is None or found.group(1) not in relations:
                    continue  # another test's work, or the catalogs
                _table, name, _kind = relations[found.group(1)]
                if manager == "Btree" and kind in _INSERTS:
                    entries[name] = entries.get(name, 0) + 1
                elif manager == "Heap":
                    heap.append((name, kind.split("+")[0]))
        assert len(indexes) == 7
        assert entries == {**dict.fromkeys(indexes, 1), f"{prefix}execution_history_pkey": 1}, entries
        assert not [name for name, _ in heap if name.startswith("pg_toast")], heap
        assert sorted(kind for _, kind in heap if kind != "LOCK") == ["INSERT", "UPDATE"], heap
    finally:
        engine.dispose()
        store.close()
