"""``list_page(graph, status, *, limit, after)`` and ``count(graph, status)``: the latest records newest first, a
page at a time, by a cursor (``stores/paging.py``).

Runs on every store kind (see ``conftest.store``). Besides the order and the cursor semantics, the last tests
check *what a page reads* — how many snapshots are decoded (each store module's ``parse_stored`` spied), which SQL plans and Redis
commands serve it — never how long it takes.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from igniter_nb.errors import StoreArgumentError
from igniter_nb.stores import FileStore, MemoryStore, ParquetStore, RedisStore, SQLStore, paging

MARKER = "page-snapshot-marker"


def snap(eid: str, graph: str = "G", **extra: Any) -> dict[str, Any]:
    return {"format": "igniter_nb.snapshot/1", "graph": graph, "execution_id": eid, "body": MARKER, **extra}


def _fill(store: Any, count: int) -> None:
    for i in range(count):
        graph = "G" if i % 2 == 0 else "H"
        status = ("waiting", "succeeded", "failed")[i % 3]
        store.save(snap(f"ex-{i:03d}", graph), graph=graph, correlation={"n": i}, status=status)


def _walk(store: Any, graph: str | None = None, status: str | None = None, *, limit: int,
          between: Any = None) -> list[str]:
    """Every page's ids in order; ``between(page_number)`` runs after each page but the last."""
    seen: list[str] = []
    cursor: str | None = None
    number = 0
    while True:
        page, cursor = store.list_page(graph, status, limit=limit, after=cursor)
        assert len(page) <= limit
        assert cursor is None or len(page) == limit
        seen += [r.execution_id for r in page]
        number += 1
        if cursor is None:
            return seen
        if between is not None:
            between(number)


def _newest_first(store: Any, graph: str | None = None, status: str | None = None) -> list[str]:
    return [r.execution_id for r in reversed(store.list(graph, status))]


# ------------------------------------------------------------------------------------------ behaviour


def test_empty_store(store: Any) -> None:
    assert store.list_page(limit=10) == ([], None)
    assert store.count() == 0
    assert store.list_page("G", "waiting", limit=1) == ([], None)


def test_pages_cover_every_record_once_newest_first(store: Any) -> None:
    _fill(store, 23)
    for graph in (None, "G", "H", "Unknown"):
        for status in (None, "waiting", "succeeded"):
            expected = _newest_first(store, graph, status)
            for limit in (1, 4, 23, 100):
                assert _walk(store, graph, status, limit=limit) == expected, (graph, status, limit)
            assert store.count(graph, status) == len(expected)
    page, cursor = store.list_page(limit=2)
    assert [r.execution_id for r in page] == ["ex-022", "ex-021"] and cursor is not None
    first = page[0]
    assert first.snapshot == snap("ex-022") and first.graph == "G" and first.status == "succeeded"
    assert first.correlation == {"n": 22} and first.version == 1
    assert store.count() == 23 and store.count("G") == 12 and store.count(status="waiting") == 8


def test_records_saved_between_pages(store: Any) -> None:
    _fill(store, 12)
    expected = _newest_first(store)
    added: list[str] = []

    def add(number: int) -> None:  # new executions are newer than every cursor: later pages never hold them
        for i in range(2):
            eid = f"new-{number}-{i}"
            store.save(snap(eid), graph="G", status="waiting")
            added.append(eid)

    assert _walk(store, limit=5, between=add) == expected
    assert added and set(added) <= set(_newest_first(store))


def test_an_execution_saved_again_moves_to_the_front(store: Any) -> None:
    _fill(store, 10)
    expected = _newest_first(store)
    page, cursor = store.list_page(limit=4)
    seen = [r.execution_id for r in page]
    store.save(snap(seen[1], n=2), status="running")  # already seen: not seen again
    store.delete(expected[6])  # not seen yet: never seen
    rest = _walk_from(store, cursor, limit=4)
    assert seen + rest == [eid for eid in expected if eid != expected[6]]
    assert store.list_page(limit=1)[0][0].execution_id == seen[1]


def _walk_from(store: Any, cursor: str | None, *, limit: int) -> list[str]:
    seen: list[str] = []
    while cursor is not None:
        page, cursor = store.list_page(limit=limit, after=cursor)
        seen += [r.execution_id for r in page]
    return seen


def test_same_time_records_are_ordered_by_id(store: Any) -> None:
    """A cursor is (saved at, id): executions saved within the same microsecond still page exactly once."""
    import datetime as dt

    from igniter_nb.stores import base

    moment = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
    frozen = pytest.MonkeyPatch()
    modules = [base] + [__import__(f"igniter_nb.stores.{m}", fromlist=["x"]) for m in
                        ("memory", "file", "sql", "sql_rows", "redis", "parquet")]
    for module in modules:
        if hasattr(module, "utc_now"):
            frozen.setattr(module, "utc_now", lambda: moment)
    try:
        for i in range(7):
            store.save(snap(f"tie-{i}"), graph="G", status="waiting")
    finally:
        frozen.undo()
    store.save(snap("later"), graph="G", status="waiting")
    expected = ["later"] + [f"tie-{i}" for i in reversed(range(7))]
    assert {r.updated_at for r in store.list() if r.execution_id != "later"} == {moment}
    assert _newest_first(store) == expected
    for limit in (1, 2, 3):
        assert _walk(store, limit=limit) == expected
        assert _walk(store, "G", "waiting", limit=limit) == expected


@pytest.mark.parametrize("bad", [0, -1, "3", 2.0, True, None, paging.MAX_LIMIT + 1])
def test_bad_limit(store: Any, bad: Any) -> None:
    with pytest.raises(StoreArgumentError, match="limit"):
        store.list_page(limit=bad)


@pytest.mark.parametrize("bad", ["", "nope", "YWJj", "MTIzOi4u", "MTIzOg", "x" * 401, 12, "LTE6YQ"])
def test_bad_cursor(store: Any, bad: Any) -> None:
    store.save(snap("ex-1"), graph="G", status="waiting")
    with pytest.raises(StoreArgumentError, match="cursor"):
        store.list_page(limit=1, after=bad)


def test_bad_filters(store: Any) -> None:
    with pytest.raises(StoreArgumentError, match="status"):
        store.list_page(status="done", limit=1)
    with pytest.raises(StoreArgumentError, match="graph"):
        store.list_page("", limit=1)
    with pytest.raises(StoreArgumentError, match="status"):
        store.count(status="done")


def test_cursor_round_trip() -> None:
    import datetime as dt

    moment = dt.datetime(2030, 5, 6, 7, 8, 9, 12, tzinfo=dt.UTC)
    cursor = paging.encode_cursor(moment, "a:b.c-d_e")
    assert cursor.isascii() and "=" not in cursor and "/" not in cursor and "+" not in cursor
    assert paging.decode_cursor(cursor) == (moment, "a:b.c-d_e")


def test_a_store_without_list_page_falls_back_to_list(store: Any) -> None:
    """A third-party store written before paging: ``paging.list_page``/``paging.count`` cut pages from list()."""

    class Minimal:
        def list(self, graph: str | None = None, status: str | None = None) -> list[Any]:
            return list(store.list(graph, status))

    _fill(store, 9)
    legacy = Minimal()
    seen, cursor = [], None
    while True:
        page, cursor = paging.list_page(legacy, "G", limit=2, after=cursor)
        seen += [r.execution_id for r in page]
        if cursor is None:
            break
    assert seen == _newest_first(store, "G")
    assert paging.count(legacy, status="waiting") == store.count(status="waiting") == 3
    assert paging.list_page(store, limit=1)[0][0].execution_id == "ex-008"  # the store's own method


# ------------------------------------------------------------------------------------------ what a page reads


def _count_parse_stored(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the snapshots every store decodes: each store module's ``parse_stored`` (the one function that reads
    stored snapshot text) called on text that holds a snapshot of :func:`snap`."""
    from igniter_nb.stores import file, memory, parquet_files, redis, sql

    decoded: list[int] = []
    for module in (file, memory, parquet_files, redis, sql):
        real = module.parse_stored

        def spy(data: Any, where: str, real: Any = real) -> Any:
            body = data.decode() if isinstance(data, (bytes, bytearray)) else str(data)
            if MARKER in body:
                decoded.append(1)
            return real(data, where)

        monkeypatch.setattr(module, "parse_stored", spy)
    return decoded


def test_a_page_decodes_only_its_own_snapshots(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """limit decodes a page, never limit + 1: the record past the page only says another page follows."""
    _fill(store, 30)
    decoded = _count_parse_stored(monkeypatch)
    cursor: str | None = None
    pages = 0
    for graph, status in ((None, None), ("G", None), (None, "waiting"), ("G", "waiting")):
        expected = _newest_first(store, graph, status)
        decoded.clear()
        seen: list[str] = []
        while True:
            page, cursor = store.list_page(graph, status, limit=4, after=cursor)
            seen += [r.execution_id for r in page]
            pages += 1
            if cursor is None:
                break
        assert seen == expected, (graph, status)
        assert all(r.snapshot["body"] == MARKER for r in page)
        assert len(decoded) == len(expected), (graph, status, len(decoded), len(expected))
    assert pages > 8


def _sql_plan(store: SQLStore, statement: Any, values: dict[str, Any]) -> str:
    compiled = statement.compile(dialect=store.engine.dialect)
    params = compiled.construct_params(values)
    args: Any = tuple(params[name] for name in compiled.positiontup or ()) if compiled.positional else params
    with store.engine.connect() as conn:
        if store._is_postgres:
            conn.exec_driver_sql(f"ANALYZE {store.table_prefix}executions")
            conn.exec_driver_sql("SET enable_seqscan = off")
            rows = conn.exec_driver_sql("EXPLAIN " + str(compiled), args).all()
            conn.exec_driver_sql("RESET enable_seqscan")
        else:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), args).all()
    return "\n".join(str(row[-1]) for row in rows)


def test_a_page_reads_about_limit_records(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    total = 150
    _fill(store, total)
    _, cursor = store.list_page(limit=5)
    assert cursor is not None
    decoded = _count_parse_stored(monkeypatch)
    for graph, status in ((None, None), ("G", None), (None, "waiting"), ("G", "waiting")):
        decoded.clear()
        page, _ = store.list_page(graph, status, limit=5, after=cursor)
        assert len(page) == 5
        # the page's records only — not the one that tells whether another page follows, never all 150
        assert len(decoded) == 5, (graph, status, len(decoded))

    if isinstance(store, SQLStore):
        import datetime as dt

        key = paging.decode_cursor(cursor)
        for (graph, _status, after), statement in store._q.pages.items():
            values = {"limit": 6, "graph": "G", "status": "waiting", "after_at": key[0], "after_id": key[1]}
            plan = _sql_plan(store, statement, values)
            assert "executions" in plan and "Seq Scan" not in plan and "Sort" not in plan, plan
            if not store._is_postgres:
                assert "TEMP B-TREE" not in plan and "USING INDEX" in plan, plan
                if graph or after:
                    assert plan.startswith("SEARCH"), plan
        assert isinstance(key[0], dt.datetime)

    elif isinstance(store, RedisStore):
        import redis.client

        sent: list[tuple[Any, ...]] = []
        direct = store.client.execute_command
        queued = redis.client.Pipeline.pipeline_execute_command

        def spy_direct(*args: Any, **options: Any) -> Any:
            sent.append(args)
            return direct(*args, **options)

        def spy_queued(self: Any, *args: Any, **options: Any) -> Any:
            sent.append(args)
            return queued(self, *args, **options)

        monkeypatch.setattr(store.client, "execute_command", spy_direct)
        monkeypatch.setattr(redis.client.Pipeline, "pipeline_execute_command", spy_queued)
        store.list_page("G", "waiting", limit=5, after=cursor)
        names = [c[0] for c in sent]
        assert "SMEMBERS" not in names and "SSCAN" not in names and "KEYS" not in names, names
        assert names.count("HMGET") == 6, names  # the sixth: the metadata fields of the one past the page
        assert [c[2:] for c in sent if c[0] == "HMGET"][-1] == ("updated_at", "graph", "status")
        assert any(c[0] == "ZREVRANGEBYSCORE" and c[1] == f"{store.namespace}:recent:gs:waiting:G" for c in sent)

    elif isinstance(store, ParquetStore):
        reads: list[Any] = []
        read_file = store._read_file

        def spy_read(path: Any) -> Any:
            reads.append(path)
            return read_file(path)

        monkeypatch.setattr(store, "_read_file", spy_read)
        store.list_page(limit=5, after=cursor)
        assert len(reads) == 5  # the row past the page: only its file's existence

    elif isinstance(store, FileStore):
        envelopes: list[Any] = []
        read_envelope = store._read_envelope

        def spy_envelope(path: Any) -> Any:
            envelopes.append(path)
            return read_envelope(path)

        monkeypatch.setattr(store, "_read_envelope", spy_envelope)
        store.list_page(limit=5, after=cursor)
        assert len(envelopes) == 5  # whole files; the others (and the one past the page) only their metadata head

    else:
        assert isinstance(store, MemoryStore)


# ------------------------------------------------------------------------------------------ existing data


def test_sql_listing_index_is_added_to_an_existing_database(sql_store: Any) -> None:
    store = sql_store
    store.save(snap("ex-1"), graph="G", correlation={"k": 1}, status="waiting")
    table = f"{store.table_prefix}executions"
    name = f"{store.table_prefix}executions_recent"
    with store.engine.begin() as conn:  # a database created before the listing index existed
        conn.exec_driver_sql(f"DROP INDEX {name}")
    assert name not in {ix["name"] for ix in sa.inspect(store.engine).get_indexes(table)}
    reopened = SQLStore(store.engine, table_prefix=store.table_prefix)
    assert [r.execution_id for r in reopened.list_page(limit=5)[0]] == ["ex-1"]  # first use adds the index
    assert name in {ix["name"] for ix in sa.inspect(store.engine).get_indexes(table)}


def test_redis_indexes_executions_saved_before_the_listing_index(redis_url: str) -> None:
    import uuid

    namespace = f"old{uuid.uuid4().hex[:8]}"
    store = RedisStore(redis_url, namespace=namespace)
    try:
        _fill(store, 20)
        # what an earlier release left: no listing index, no marker
        for key in store.client.scan_iter(f"{namespace}:recent*"):
            store.client.delete(key)
        fresh = RedisStore(redis_url, namespace=namespace)
        assert _walk(fresh, limit=3) == _newest_first(fresh)
        assert _walk(fresh, "H", "failed", limit=2) == _newest_first(fresh, "H", "failed")
        assert fresh.count(status="succeeded") == 7
        assert store.client.exists(f"{namespace}:recent:complete")
        fresh.close()
    finally:
        for key in store.client.scan_iter(f"{namespace}:*"):
            store.client.delete(key)
        store.close()


def test_parquet_listing_indexes_exist_on_a_reopened_store(tmp_path: Any) -> None:
    store = ParquetStore(tmp_path / "p")
    store.save(snap("ex-1"), graph="G", status="waiting")
    store._db.execute("DROP INDEX executions_recent")
    store.close()
    reopened = ParquetStore(tmp_path / "p")
    names = {row[0] for row in reopened._db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"executions_recent", "executions_status_recent", "executions_graph_status_recent"} <= names
    assert [r.execution_id for r in reopened.list_page(limit=2)[0]] == ["ex-1"]
    reopened.close()
