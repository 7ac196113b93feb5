"""``find_latest_by_correlation``: the most recently saved execution of a graph with a correlation, any status.

Runs on every store kind (see ``conftest.store``). The last tests check that the lookup is an index probe, not
a scan, without timing anything: SQL query plans, the Redis commands sent, the files read, the dicts iterated.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any

import pytest
import sqlalchemy as sa

from igniter_nb.errors import StoreArgumentError
from igniter_nb.stores import FileStore, MemoryStore, ParquetStore, RedisStore, SQLStore
from igniter_nb.stores.base import canonical_correlation

CORR = {"request_id": "req-1", "company_id": 42}


def snap(eid: str, **extra: Any) -> dict[str, Any]:
    return {"format": "igniter_nb.snapshot/1", "graph": "G", "execution_id": eid, **extra}


def latest(store: Any, correlation: dict[str, Any] = CORR, graph: str = "G") -> str | None:
    found: str | None = store.find_latest_by_correlation(graph, correlation)
    return found


# ------------------------------------------------------------------------------------------ behaviour


def test_none_found(store: Any) -> None:
    assert latest(store) is None
    store.save(snap("ex-1"), graph="G", correlation={"other": 1}, status="succeeded")
    store.save(snap("ex-2"), graph="G", status="succeeded")  # no correlation at all
    store.save(snap("ex-3"), graph="G", correlation={**CORR, "company_id": "42"}, status="waiting")  # 42 != "42"
    assert latest(store) is None
    assert latest(store, {"request_id": "req-1"}) is None  # a subset is another correlation


def test_finds_active_then_finished(store: Any) -> None:
    store.save(snap("ex-1"), graph="G", correlation=CORR, status="waiting")
    assert latest(store) == "ex-1"
    assert latest(store, dict(reversed(list(CORR.items())))) == "ex-1"  # key order is irrelevant
    store.save(snap("ex-1", n=2), status="succeeded")
    assert store.find_by_correlation("G", CORR) is None  # no longer active...
    assert latest(store) == "ex-1"  # ...but still the latest
    rec = store.record("ex-1")  # and the rest of the store still works as before
    assert (rec.version, rec.status, rec.correlation, store.fetch("ex-1")) == (2, "succeeded", CORR, snap("ex-1", n=2))


def test_latest_among_several_finished_and_active(store: Any) -> None:
    store.save(snap("ex-1"), graph="G", correlation=CORR, status="succeeded")
    store.save(snap("ex-2"), graph="G", correlation=CORR, status="failed")
    assert latest(store) == "ex-2"
    store.save(snap("ex-3"), graph="G", correlation=CORR, status="waiting")
    store.save(snap("ex-9"), graph="G", correlation={"other": 1}, status="succeeded")  # another correlation
    assert latest(store) == "ex-3" == store.find_by_correlation("G", CORR)
    store.save(snap("ex-3", n=2), status="cancelled")
    assert latest(store) == "ex-3"
    store.save(snap("ex-4"), graph="G", correlation=CORR, status="running")
    assert latest(store) == "ex-4"
    store.save(snap("ex-4", n=2), status="timed_out")
    assert latest(store) == "ex-4"
    assert latest(store, {"other": 1}) == "ex-9"


def test_saving_without_correlation_keeps_the_entry(store: Any) -> None:
    store.save(snap("ex-1"), graph="G", correlation=CORR, status="waiting")
    store.save(snap("ex-1", n=2))  # e.g. the store runner: no metadata, the stored correlation is kept
    assert latest(store) == "ex-1"
    store.save(snap("ex-1", n=3), status="succeeded")
    store.save(snap("ex-2"), graph="G", correlation=CORR, status="waiting")
    store.save(snap("ex-2", n=2))
    assert latest(store) == "ex-2"
    # A later save of ex-1 keeps its correlation and makes it the most recently saved one with it.
    store.save(snap("ex-1", n=4))
    assert latest(store) == "ex-1"
    assert store.find_by_correlation("G", CORR) == "ex-2"  # the active index is not affected


def test_changing_correlation_or_graph_moves_the_entry(store: Any) -> None:
    store.save(snap("ex-0"), graph="G", correlation={"k": 1}, status="succeeded")
    store.save(snap("ex-1"), graph="G", correlation={"k": 1}, status="waiting")
    assert latest(store, {"k": 1}) == "ex-1"
    store.save(snap("ex-1", n=2), correlation={"k": 2})
    assert latest(store, {"k": 1}) == "ex-0"  # ex-1 no longer has {"k": 1}
    assert latest(store, {"k": 2}) == "ex-1"
    store.save(snap("ex-1", n=3), graph="H")
    assert latest(store, {"k": 2}) is None
    assert latest(store, {"k": 2}, graph="H") == "ex-1"


def test_after_delete_falls_back_to_the_previous_one(store: Any) -> None:
    store.save(snap("ex-1"), graph="G", correlation=CORR, status="succeeded")
    store.save(snap("ex-2"), graph="G", correlation=CORR, status="failed")
    store.save(snap("ex-3"), graph="G", correlation=CORR, status="waiting")
    assert store.delete("ex-3") is True
    assert latest(store) == "ex-2"  # never a dangling id: the one saved before takes over
    assert store.delete("ex-1") is True  # deleting an older one changes nothing
    assert latest(store) == "ex-2"
    assert store.delete("ex-2") is True
    assert latest(store) is None
    assert store.delete("ex-2") is False
    assert latest(store) is None
    store.save(snap("ex-2"), graph="G", correlation=CORR, status="waiting")  # a new life
    assert latest(store) == "ex-2"


def test_unknown_graph(store: Any) -> None:
    store.save(snap("ex-1"), graph="G", correlation=CORR, status="succeeded")
    store.save(snap("ex-2"), graph="H", correlation=CORR, status="succeeded")
    assert latest(store, graph="Unknown") is None
    assert latest(store, graph="G") == "ex-1"  # per graph: ex-2 was saved later, but in another graph
    assert latest(store, graph="H") == "ex-2"


@pytest.mark.parametrize(
    ("graph", "correlation"),
    [("", CORR), (5, CORR), ("a\nb", CORR), ("G", {}), ("G", None), ("G", {"k": [1]}), ("G", {1: "x"})],
)
def test_bad_arguments(store: Any, graph: Any, correlation: Any) -> None:
    with pytest.raises(StoreArgumentError):
        store.find_latest_by_correlation(graph, correlation)


def test_many_executions(store: Any) -> None:
    for i in range(120):  # 40 correlations, three executions each, saved round-robin
        status = ("succeeded", "failed", "waiting")[i // 40]
        store.save(snap(f"ex-{i}"), graph="G", correlation={"order": i % 40, "tenant": "t"}, status=status)
    for order in range(40):
        assert latest(store, {"tenant": "t", "order": order}) == f"ex-{80 + order}"
        assert latest(store, {"tenant": "t", "order": order}, graph="H") is None
    for order in range(0, 40, 2):
        store.delete(f"ex-{80 + order}")
    for order in range(40):
        assert latest(store, {"tenant": "t", "order": order}) == f"ex-{(40 if order % 2 == 0 else 80) + order}"


# ------------------------------------------------------------------------------------------ an index, not a scan


def _fill(store: Any, count: int) -> None:
    """``count`` other executions of graph G (distinct correlations), around three that share CORR."""
    for i in range(count):
        if i == count // 4:
            store.save(snap("t-1"), graph="G", correlation=CORR, status="succeeded")
        if i == count // 2:
            store.save(snap("t-2"), graph="G", correlation=CORR, status="failed")
        store.save(snap(f"f-{i}"), graph="G", correlation={"order": i}, status="succeeded" if i % 2 else "waiting")
    store.save(snap("t-3"), graph="G", correlation=CORR, status="succeeded")
    for i in range(0, count, max(1, count // 10)):  # later saves of other executions do not matter
        store.save(snap(f"f-{i}", n=2))


class _NoScan(dict):  # type: ignore[type-arg]
    """A dict that fails the test if anything iterates over it."""

    def _scan(self, *args: Any) -> Any:
        raise AssertionError("find_latest_by_correlation iterated over every execution")

    __iter__ = keys = values = items = _scan  # type: ignore[assignment]


def _plan(store: SQLStore) -> str:
    from igniter_nb.stores.sql import _lookup

    compiled = store._q.find_latest.compile(dialect=store.engine.dialect)
    params = compiled.construct_params(_lookup("G", canonical_correlation(CORR)))
    args: Any = tuple(params[name] for name in compiled.positiontup or ()) if compiled.positional else params
    with store.engine.connect() as conn:
        if store._is_postgres:
            # Fresh statistics (autovacuum has not run yet), and no sequential scan: the table is small, so the
            # planner could rightly prefer one; forbidding it shows the index serves the query on its own (with
            # no usable index the plan would still be a Seq Scan, or a Sort after another index).
            conn.exec_driver_sql(f"ANALYZE {store.table_prefix}executions")
            conn.exec_driver_sql("SET enable_seqscan = off")
            rows = conn.exec_driver_sql("EXPLAIN " + str(compiled), args).all()
            conn.exec_driver_sql("RESET enable_seqscan")
        else:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), args).all()
    return "\n".join(str(row[-1]) for row in rows)


def test_lookup_is_an_index_probe(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    big = isinstance(store, MemoryStore) or (isinstance(store, SQLStore) and not store._is_postgres)
    _fill(store, 2000 if big else 200)
    assert latest(store) == "t-3"

    if isinstance(store, MemoryStore):
        monkeypatch.setattr(store, "_executions", _NoScan(store._executions))
        assert latest(store) == "t-3"
        assert latest(store, {"order": 7}) == "f-7"

    elif isinstance(store, SQLStore):
        plan = _plan(store)
        index = f"{store.table_prefix}executions_latest_correlation"
        assert index in plan, plan
        if store._is_postgres:
            assert "Seq Scan" not in plan and "Sort" not in plan, plan
        else:  # one SEARCH of the index, no scan of the table, no sort for ORDER BY
            assert plan.startswith("SEARCH") and "TEMP B-TREE" not in plan, plan

    elif isinstance(store, ParquetStore):
        rows = store._db.execute("EXPLAIN QUERY PLAN " + _find_latest_sql(), ("G", canonical_correlation(CORR)))
        plan = "\n".join(str(row[-1]) for row in rows.fetchall())
        assert "executions_latest_correlation" in plan and plan.startswith("SEARCH"), plan
        assert "TEMP B-TREE" not in plan, plan

        def no_file(*args: Any) -> Any:
            raise AssertionError("find_latest_by_correlation read a parquet file")

        monkeypatch.setattr(store, "_read_file", no_file)
        assert latest(store) == "t-3"

    elif isinstance(store, RedisStore):
        sent: list[tuple[Any, ...]] = []
        original = store.client.execute_command

        def spy(*args: Any, **options: Any) -> Any:
            sent.append(args)
            return original(*args, **options)

        monkeypatch.setattr(store.client, "execute_command", spy)
        assert latest(store) == "t-3"
        key = f"{store.namespace}:corrlatest:G:{canonical_correlation(CORR)}"
        assert sent == [("ZREVRANGE", key, 0, 0)]  # one command, one key

    elif isinstance(store, FileStore):
        read: list[pathlib.Path] = []
        read_bytes = pathlib.Path.read_bytes

        def spy_read(self: pathlib.Path) -> bytes:
            read.append(self)
            return read_bytes(self)

        def no_listing(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("find_latest_by_correlation listed a directory")

        monkeypatch.setattr(pathlib.Path, "read_bytes", spy_read)
        monkeypatch.setattr(pathlib.Path, "iterdir", no_listing)
        monkeypatch.setattr(pathlib.Path, "glob", no_listing)
        monkeypatch.setattr(os, "scandir", no_listing)
        monkeypatch.setattr(os, "listdir", no_listing)
        assert latest(store) == "t-3"
        # The correlation's index file, then the found execution's current.json (to check it still matches).
        assert [p.parent.name for p in read] == ["latest", "t-3"], read

    else:  # pragma: no cover - a new store kind must say how its lookup is checked
        pytest.fail(f"no index check for {type(store).__name__}")

    monkeypatch.undo()
    store.delete("t-3")
    assert latest(store) == "t-2"


def _find_latest_sql() -> str:
    from igniter_nb.stores.parquet import _FIND_LATEST

    return _FIND_LATEST


def test_sql_index_is_added_to_an_existing_database(sql_store: Any) -> None:
    store = sql_store
    assert isinstance(store, SQLStore)
    store.save(snap("ex-1"), graph="G", correlation=CORR, status="succeeded")
    index = f"{store.table_prefix}executions_latest_correlation_digest"
    table = f"{store.table_prefix}executions"
    with store.engine.begin() as conn:  # a database created before the index existed
        conn.exec_driver_sql(f"DROP INDEX {index}")
    assert index not in {ix["name"] for ix in sa.inspect(store.engine).get_indexes(table)}
    reopened = SQLStore(store.engine, table_prefix=store.table_prefix)  # same engine: sqlite:// stays alive
    assert reopened.find_latest_by_correlation("G", CORR) == "ex-1"  # first use creates the missing index
    assert index in {ix["name"] for ix in sa.inspect(store.engine).get_indexes(table)}
    reopened.create_tables()  # and creating it again is harmless
