"""``correlations(graph, active_only=True, limit=1000)``: the ``(execution_id, correlation)`` pairs of a graph,
most recently saved first, without loading a snapshot.

Runs on every store kind (see ``conftest.store``). The last tests check *what is read*, not how long it takes:
no snapshot is decoded (the ``orjson``, ``json`` and ``marshal`` decoders the stores read with are spied), no
snapshot-returning method is called, and per store the SQL statements sent and their plans, the Redis commands sent,
the bytes read from files, the dicts iterated.
"""

from __future__ import annotations

import json
import marshal
import pathlib
from typing import Any

import pytest
import sqlalchemy as sa

from igniter_nb.errors import StoreArgumentError
from igniter_nb.stores import FileStore, MemoryStore, ParquetStore, RedisStore, SQLStore

MARKER = "snapshot-body-marker"


def snap(eid: str, graph: str = "G", **extra: Any) -> dict[str, Any]:
    return {"format": "igniter_nb.snapshot/1", "graph": graph, "execution_id": eid, "body": MARKER, **extra}


def listed(store: Any, graph: str = "G", **options: Any) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = store.correlations(graph, **options)
    return found


def ids(store: Any, graph: str = "G", **options: Any) -> list[str]:
    return [eid for eid, _ in listed(store, graph, **options)]


# ------------------------------------------------------------------------------------------ behaviour


def test_empty_and_unknown_graph(store: Any) -> None:
    assert listed(store) == []
    assert listed(store, active_only=False) == []
    store.save(snap("ex-1"), graph="G", correlation={"k": 1}, status="waiting")
    assert listed(store, "Unknown") == []
    assert listed(store, "Unknown", active_only=False) == []
    assert listed(store, "G") == [("ex-1", {"k": 1})]


def test_newest_save_first_and_a_resave_moves_to_the_front(store: Any) -> None:
    for i in range(1, 5):
        store.save(snap(f"ex-{i}"), graph="G", correlation={"order": i}, status="waiting")
    assert listed(store) == [("ex-4", {"order": 4}), ("ex-3", {"order": 3}), ("ex-2", {"order": 2}), ("ex-1", {"order": 1})]
    store.save(snap("ex-2", n=2), status="running")
    assert ids(store) == ["ex-2", "ex-4", "ex-3", "ex-1"]
    store.save(snap("ex-1", n=2))  # no metadata (the store runner): the correlation is kept and it counts as a save
    assert listed(store)[0] == ("ex-1", {"order": 1})
    assert ids(store, active_only=False) == ["ex-1", "ex-2", "ex-4", "ex-3"]


def test_active_only_by_default(store: Any) -> None:
    store.save(snap("ex-1"), graph="G", correlation={"k": 1}, status="succeeded")
    store.save(snap("ex-2"), graph="G", correlation={"k": 2}, status="waiting")
    store.save(snap("ex-3"), graph="G", correlation={"k": 3}, status="failed")
    store.save(snap("ex-4"), graph="G", correlation={"k": 4}, status="running")
    store.save(snap("ex-5"), graph="G", status="waiting")  # no correlation: never listed
    store.save(snap("ex-6"), graph="G", correlation={"k": 6}, status="pending")
    assert ids(store) == ["ex-6", "ex-4", "ex-2"]
    assert ids(store, active_only=True) == ["ex-6", "ex-4", "ex-2"]
    assert ids(store, active_only=False) == ["ex-6", "ex-4", "ex-3", "ex-2", "ex-1"]
    store.save(snap("ex-4", n=2), status="cancelled")  # finishing leaves the active listing...
    assert ids(store) == ["ex-6", "ex-2"]
    assert ids(store, active_only=False) == ["ex-4", "ex-6", "ex-3", "ex-2", "ex-1"]  # ...not the other one
    store.save(snap("ex-4", n=3), status="waiting")  # and coming back to life returns to it
    assert ids(store) == ["ex-4", "ex-6", "ex-2"]


def test_limit(store: Any) -> None:
    for i in range(6):
        store.save(snap(f"ex-{i}"), graph="G", correlation={"order": i}, status="succeeded" if i % 2 else "waiting")
    assert ids(store, limit=2) == ["ex-4", "ex-2"]
    assert ids(store, limit=1, active_only=False) == ["ex-5"]
    assert ids(store, limit=4, active_only=False) == ["ex-5", "ex-4", "ex-3", "ex-2"]
    assert ids(store, limit=100) == ["ex-4", "ex-2", "ex-0"]
    assert listed(store, limit=0) == [] == listed(store, limit=0, active_only=False)


def test_correlations_come_back_as_saved(store: Any) -> None:
    corr = {"request_id": "req-1", "company_id": 42, "ratio": 0.5, "flag": True, "none": None}
    store.save(snap("ex-1"), graph="G", correlation=corr, status="waiting")
    store.save(snap("ex-2"), graph="G", correlation={"company_id": "42"}, status="waiting")  # "42" stays a str
    [(second, got2), (first, got1)] = listed(store)
    assert (first, got1, second, got2) == ("ex-1", corr, "ex-2", {"company_id": "42"})
    got1["request_id"] = "changed"  # a fresh dict: changing it changes nothing stored
    assert listed(store)[1] == ("ex-1", corr)


def test_graphs_are_separate_and_a_graph_change_moves_the_entry(store: Any) -> None:
    store.save(snap("ex-1"), graph="G", correlation={"k": 1}, status="waiting")
    store.save(snap("ex-2", graph="H"), graph="H", correlation={"k": 1}, status="waiting")  # same correlation
    store.save(snap("ex-3"), graph="G", correlation={"k": 3}, status="succeeded")
    assert ids(store, "G") == ["ex-1"] and ids(store, "H") == ["ex-2"]
    assert ids(store, "G", active_only=False) == ["ex-3", "ex-1"]
    store.save(snap("ex-3", n=2), graph="H", status="waiting")
    assert ids(store, "G", active_only=False) == ["ex-1"]
    assert listed(store, "H") == [("ex-3", {"k": 3}), ("ex-2", {"k": 1})]
    store.save(snap("ex-1", n=2), correlation={"k": 9})  # a new correlation replaces the old one
    assert listed(store, "G", active_only=False) == [("ex-1", {"k": 9})]


def test_delete_removes_the_entry(store: Any) -> None:
    store.save(snap("ex-1"), graph="G", correlation={"k": 1}, status="waiting")
    store.save(snap("ex-2"), graph="G", correlation={"k": 2}, status="succeeded")
    store.save(snap("ex-3"), graph="G", correlation={"k": 3}, status="waiting")
    assert store.delete("ex-3") and store.delete("ex-2")
    assert ids(store) == ["ex-1"] == ids(store, active_only=False)
    assert store.delete("ex-1")
    assert listed(store) == [] == listed(store, active_only=False)
    store.save(snap("ex-3"), graph="G", correlation={"k": 3}, status="waiting")  # a new life
    assert listed(store) == [("ex-3", {"k": 3})]


def test_many_executions(store: Any) -> None:
    for i in range(90):  # three statuses round-robin over 90 correlations
        store.save(snap(f"ex-{i}"), graph="G", correlation={"order": i}, status=("waiting", "running", "succeeded")[i % 3])
    active = [f"ex-{i}" for i in reversed(range(90)) if i % 3 != 2]
    assert ids(store) == active
    assert ids(store, limit=10) == active[:10]
    assert ids(store, active_only=False, limit=1000) == [f"ex-{i}" for i in reversed(range(90))]
    for i in range(0, 90, 3):
        store.delete(f"ex-{i}")
    assert ids(store) == [f"ex-{i}" for i in reversed(range(90)) if i % 3 == 1]


@pytest.mark.parametrize(
    ("graph", "options"),
    [("", {}), (5, {}), ("a\nb", {}), (None, {}), ("G", {"limit": -1}), ("G", {"limit": True}), ("G", {"limit": 1.5}),
     ("G", {"limit": "10"}), ("G", {"active_only": "yes"}), ("G", {"active_only": None})],
)
def test_bad_arguments(store: Any, graph: Any, options: dict[str, Any]) -> None:
    with pytest.raises(StoreArgumentError):
        store.correlations(graph, **options)


def test_in_the_protocol() -> None:
    from igniter_nb.stores import ExecutionStore

    assert "correlations" in dir(ExecutionStore)
    for cls in (MemoryStore, FileStore, SQLStore, RedisStore, ParquetStore):
        assert callable(getattr(cls, "correlations", None)), cls


# ------------------------------------------------------------------------------------------ no snapshot is loaded


def _fill(store: Any, count: int, big: bool = False) -> None:
    """``count`` executions of G, two thirds active, plus some of another graph and some without correlation."""
    padding = "x" * (50_000 if big else 0)
    for i in range(count):
        status = "succeeded" if i % 3 == 2 else "waiting"
        store.save(snap(f"g-{i}", pad=padding), graph="G", correlation={"order": i, "tenant": "t"}, status=status)
    for i in range(5):
        store.save(snap(f"h-{i}", graph="H"), graph="H", correlation={"order": i}, status="waiting")
        store.save(snap(f"n-{i}"), graph="G", status="waiting")


def _forbid_snapshot_reads(store: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Fail the test when a snapshot is decoded or a snapshot-returning method is called; count the JSON decodes.

    Spied where the stores really decode: ``orjson.loads`` (through ``json_text._ORJSON``), which
    ``json_text.parse_stored`` — every store's snapshot reader — tries first; ``json.loads``, its fallback and what
    the stores read correlations with; and ``marshal.loads``, what ``MemoryStore`` reads a runtime save's snapshot
    with. Spying ``json.loads`` alone misses every snapshot ``orjson`` decodes."""
    from igniter_nb.stores import json_text

    calls: list[int] = []

    def spy(decode: Any, what: str) -> Any:
        def spied(data: Any, *args: Any, **kwargs: Any) -> Any:
            body = bytes(data) if isinstance(data, (bytes, bytearray, memoryview)) else str(data).encode()
            if MARKER.encode() in body:
                raise AssertionError(f"correlations() decoded a snapshot ({what}): {body[:80]!r}")
            calls.append(len(body))
            return decode(data, *args, **kwargs)

        return spied

    def no_snapshots(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("correlations() called a method that loads snapshots")

    if not json_text._ORJSON:
        json_text._load_orjson()
    dumps, loads = json_text._ORJSON
    monkeypatch.setattr(json_text, "_ORJSON", [dumps, spy(loads, "orjson.loads")])
    monkeypatch.setattr(json, "loads", spy(json.loads, "json.loads"))
    monkeypatch.setattr(marshal, "loads", spy(marshal.loads, "marshal.loads"))
    for name in ("fetch", "record", "list", "history", "history_records"):
        monkeypatch.setattr(store, name, no_snapshots)
    return calls


class _NoScan(dict):  # type: ignore[type-arg]
    """A dict that fails the test if anything iterates over it."""

    def _scan(self, *args: Any) -> Any:
        raise AssertionError("correlations() iterated over every execution")

    __iter__ = keys = values = items = _scan  # type: ignore[assignment]


def _sql_plan(store: SQLStore, statement: Any) -> str:
    compiled = statement.compile(dialect=store.engine.dialect)
    params = compiled.construct_params({"graph": "G", "limit": 10})
    args: Any = tuple(params[name] for name in compiled.positiontup or ()) if compiled.positional else params
    with store.engine.connect() as conn:
        if store._is_postgres:  # as in test_latest_by_correlation: fresh statistics, and no sequential scan allowed
            conn.exec_driver_sql(f"ANALYZE {store.table_prefix}executions")
            conn.exec_driver_sql("SET enable_seqscan = off")
            rows = conn.exec_driver_sql("EXPLAIN " + str(compiled), args).all()
            conn.exec_driver_sql("RESET enable_seqscan")
        else:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), args).all()
    return "\n".join(str(row[-1]) for row in rows)


def test_no_snapshot_is_loaded(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    big_snapshots = isinstance(store, FileStore)
    _fill(store, 60 if big_snapshots else 300, big=big_snapshots)
    count = 60 if big_snapshots else 300
    expected_active = [f"g-{i}" for i in reversed(range(count)) if i % 3 != 2]
    expected_all = [f"g-{i}" for i in reversed(range(count))]

    calls = _forbid_snapshot_reads(store, monkeypatch)

    if isinstance(store, MemoryStore):
        monkeypatch.setattr(store, "_executions", _NoScan(store._executions))
        assert ids(store, limit=5) == expected_active[:5]
        assert len(calls) == 5  # one small decode per correlation returned, nothing else

    elif isinstance(store, SQLStore):
        sent: list[str] = []

        def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            sent.append(statement)

        sa.event.listen(store.engine, "before_cursor_execute", spy)
        try:
            assert ids(store, limit=5) == expected_active[:5]
            assert ids(store, limit=5, active_only=False) == expected_all[:5]
        finally:
            sa.event.remove(store.engine, "before_cursor_execute", spy)
        selects = [s for s in sent if s.lstrip().upper().startswith("SELECT")]
        assert len(selects) == 2, sent
        for statement in selects:
            assert "snapshot" not in statement.lower(), statement  # only execution_id and correlation_key
            assert "LIMIT" in statement.upper(), statement
        for statement, index in ((store._q.active_correlations, "executions_graph_active_recent"),
                                 (store._q.all_correlations, "executions_graph_recent")):
            plan = _sql_plan(store, statement)
            assert f"{store.table_prefix}{index}" in plan, plan
            if store._is_postgres:
                assert "Seq Scan" not in plan and "Sort" not in plan, plan
            else:  # one SEARCH of the index, no table scan, no sort for ORDER BY
                assert plan.startswith("SEARCH") and "TEMP B-TREE" not in plan, plan

    elif isinstance(store, ParquetStore):
        from igniter_nb.stores.parquet import _ACTIVE_CORRELATIONS, _ALL_CORRELATIONS

        def no_file(*args: Any) -> Any:
            raise AssertionError("correlations() read a parquet file")

        monkeypatch.setattr(store, "_read_file", no_file)
        assert ids(store, limit=5) == expected_active[:5]
        assert ids(store, limit=5, active_only=False) == expected_all[:5]
        for query, index in ((_ACTIVE_CORRELATIONS, "executions_graph_active_recent"),
                             (_ALL_CORRELATIONS, "executions_graph_recent")):
            assert "snapshot" not in query
            plan = "\n".join(str(row[-1]) for row in store._db.execute("EXPLAIN QUERY PLAN " + query, ("G", 5)))
            assert index in plan and plan.startswith("SEARCH") and "TEMP B-TREE" not in plan, plan

    elif isinstance(store, RedisStore):
        import redis.client

        sent_commands: list[tuple[Any, ...]] = []
        direct = store.client.execute_command
        queued = redis.client.Pipeline.pipeline_execute_command

        def spy_direct(*args: Any, **options: Any) -> Any:
            sent_commands.append(args)
            return direct(*args, **options)

        def spy_queued(self: Any, *args: Any, **options: Any) -> Any:
            sent_commands.append(args)
            return queued(self, *args, **options)

        monkeypatch.setattr(store.client, "execute_command", spy_direct)
        monkeypatch.setattr(redis.client.Pipeline, "pipeline_execute_command", spy_queued)
        assert ids(store, limit=5) == expected_active[:5]
        ns = store.namespace
        assert sent_commands[0] == ("ZREVRANGE", f"{ns}:graphactive:G", 0, 4)
        assert sent_commands[1:] == [("HGET", f"{ns}:exec:{eid}", "correlation") for eid in expected_active[:5]]
        sent_commands.clear()
        assert ids(store, limit=3, active_only=False) == expected_all[:3]
        assert sent_commands[0] == ("ZREVRANGE", f"{ns}:graphcorr:G", 0, 2)
        assert [c[0] for c in sent_commands[1:]] == ["HGET"] * 3

    elif isinstance(store, FileStore):
        from igniter_nb.stores import file as file_module

        read: dict[str, int] = {}

        class CountingHandle:
            def __init__(self, handle: Any, name: str) -> None:
                self._handle, self._name = handle, name

            def read(self, size: int = -1) -> bytes:
                data: bytes = self._handle.read(size)
                read[self._name] = read.get(self._name, 0) + len(data)
                return data

            def __enter__(self) -> CountingHandle:
                return self

            def __exit__(self, *exc: Any) -> None:
                self._handle.close()

        def counting_open(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            return CountingHandle(open(path, mode, *args, **kwargs), str(path))

        read_bytes = pathlib.Path.read_bytes

        def spy_read_bytes(self: pathlib.Path) -> bytes:
            if self.name.startswith("v") or self.name == "current.json":
                raise AssertionError(f"correlations() read a whole snapshot file {self}")
            return read_bytes(self)

        monkeypatch.setattr(file_module, "open", counting_open, raising=False)
        monkeypatch.setattr(pathlib.Path, "read_bytes", spy_read_bytes)
        for active_only, expected in ((True, expected_active), (False, expected_all)):
            read.clear()
            assert ids(store, limit=5, active_only=active_only) == expected[:5]
            assert read and all(name.endswith("current.json") for name in read), read
            # The metadata head of each candidate's current.json (one 4 KiB read), not its 50 KB snapshot.
            assert max(read.values()) <= 4096, read

    else:  # pragma: no cover - a new store kind must say how its listing is checked
        pytest.fail(f"no read check for {type(store).__name__}")

    monkeypatch.undo()
    assert ids(store, "H") == [f"h-{i}" for i in reversed(range(5))]


def test_sql_indexes_are_added_to_an_existing_database(sql_store: Any) -> None:
    store = sql_store
    assert isinstance(store, SQLStore)
    store.save(snap("ex-1"), graph="G", correlation={"k": 1}, status="waiting")
    table = f"{store.table_prefix}executions"
    names = [f"{store.table_prefix}executions_graph_recent", f"{store.table_prefix}executions_graph_active_recent"]
    with store.engine.begin() as conn:  # a database created before the indexes existed
        for name in names:
            conn.exec_driver_sql(f"DROP INDEX {name}")
    assert not set(names) & {ix["name"] for ix in sa.inspect(store.engine).get_indexes(table)}
    reopened = SQLStore(store.engine, table_prefix=store.table_prefix)  # same engine: sqlite:// stays alive
    assert reopened.correlations("G") == [("ex-1", {"k": 1})]  # first use creates the missing indexes
    assert set(names) <= {ix["name"] for ix in sa.inspect(store.engine).get_indexes(table)}
