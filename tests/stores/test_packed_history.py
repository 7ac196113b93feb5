"""History that does not grow with the square of the deliveries (issue 11 point 7, ``stores/packing.py``): large
snapshots are stored packed — unchanged parts written once — while ``fetch``/``record``/``list``/``history``
return exactly the snapshots that were saved, old (whole) versions still read, and every store's size for 20
deliveries of 200 KB payloads stays within 3× the final snapshot (it was 11.5×)."""

from __future__ import annotations

import base64
import copy
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.errors import StoreArgumentError
from igniter_nb.stores import packing
from igniter_nb.stores.packing import PACKED_KEY

DELIVERIES, PAYLOAD = 20, 200_000


class Intake(ig.Contract):
    """Twenty awaits, one 200 KB payload each; a small aggregate at the end."""

    def define(c):
        c.correlate_by("key")
        c.input("key", type=str)
        for i in range(DELIVERIES):
            c.await_event(f"doc{i}", event=f"doc{i}_uploaded")
        c.compute("count", depends_on=[f"doc{i}" for i in range(DELIVERIES)], call=lambda **docs: len(docs))
        c.output("count")


def _payload() -> dict[str, str]:
    return {"pdf": base64.b64encode(os.urandom(PAYLOAD * 3 // 4)).decode()}  # 200 KB that does not compress


def _stored_bytes(store: Any, kind: str) -> int:
    """Everything the store keeps: files on disk, rows in SQL tables, keys in Redis, bytes in memory."""
    if kind == "memory":
        return int(store.stored_bytes())
    if kind in ("file", "parquet"):
        return sum(p.stat().st_size for p in Path(store.root).rglob("*") if p.is_file())
    if kind in ("sqlite", "sqlite_memory"):
        with store.engine.connect() as conn:
            if kind == "sqlite":
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                return os.path.getsize(store.engine.url.database)
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar() - conn.exec_driver_sql("PRAGMA freelist_count").scalar()
            return int(pages * conn.exec_driver_sql("PRAGMA page_size").scalar())
    if kind == "postgres":
        engine = store.engine.execution_options(isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            tables = [t.name for t in (store._executions, store._history, store._parts)]
            for table in tables:  # live rows only: dead tuples are autovacuum's business, not the layout's
                conn.exec_driver_sql(f'VACUUM FULL "{table}"')
            return sum(conn.exec_driver_sql(f"SELECT pg_total_relation_size('\"{t}\"')").scalar() for t in tables)
    if kind == "redis":
        return sum(store.client.memory_usage(key, samples=0) or 0 for key in store.client.scan_iter(f"{store.namespace}:*"))
    raise AssertionError(kind)


def _kind(store: Any) -> str:
    name = type(store).__name__
    if name == "SQLStore":
        if store.engine.dialect.name == "postgresql":
            return "postgres"
        return "sqlite_memory" if store.engine.url.database in (None, "", ":memory:") else "sqlite"
    return {"MemoryStore": "memory", "FileStore": "file", "RedisStore": "redis", "ParquetStore": "parquet"}[name]


def test_twenty_large_deliveries_keep_the_store_within_three_times_the_final_snapshot(store: Any) -> None:
    kind = _kind(store)
    wf = Intake.start(key="k-1", store=store)
    for i in range(DELIVERIES):
        wf = Intake.deliver_event(f"doc{i}_uploaded", correlation={"key": "k-1"}, payload=_payload(), store=store)
    assert wf.workflow_status == "succeeded" and wf.result.count == DELIVERIES
    final = len(json.dumps(store.fetch(wf.execution_id), separators=(",", ":")))
    assert final > DELIVERIES * PAYLOAD  # each payload is in the snapshot once (not also in bound_events)
    history = store.history(wf.execution_id)
    assert len(history) == DELIVERIES + 1 and history[-1] == store.fetch(wf.execution_id)
    assert [len(h["workflow"]["signals"]) for h in history] == list(range(DELIVERIES + 1))
    ratio = _stored_bytes(store, kind) / final
    print(f"{kind}: final snapshot {final:,} B, store {ratio:.2f}x")  # the figure docs/stores.md quotes
    if kind == "parquet":  # every row a whole snapshot, by design (docs/stores.md): zstd is all it gets
        assert ratio > 3
    else:
        assert ratio <= 3.0


def _big_snapshot(execution_id: str, version: int) -> dict[str, Any]:
    """A runtime-format snapshot with large states, a long event log and small bits, changing per version:
    packed from version 1 on (17 KB and more; small snapshots are stored whole)."""
    states = {f"n{i}": {"status": "succeeded", "version": 1, "value": {"blob": f"{i}-" + "x" * 12_000}}
              for i in range(version)}
    states["small"] = {"status": "succeeded", "version": version, "value": version}
    events = [{"seq": s, "type": "node_succeeded", "node": f"n{s}", "payload": {}} for s in range(1, 40 * version)]
    return {"format": "igniter_nb.snapshot/1", "graph": "G", "execution_id": execution_id, "states": states,
            "inputs": {"doc": "y" * 3000, "n": version}, "events": events, "bound_events": {}, "workflow": None,
            "children": {}, "collections": {}}


def test_packed_versions_read_back_exactly_as_saved(store: Any) -> None:
    saved = []
    for version in range(1, 8):
        snapshot = _big_snapshot("packed-1", version)
        saved.append(copy.deepcopy(snapshot))
        assert store.save(snapshot, graph="G", correlation={"k": "v"}, status="waiting",
                          expected_version=version - 1) == version
    assert store.history("packed-1") == saved
    assert [r.snapshot for r in store.history_records("packed-1")] == saved
    assert store.fetch("packed-1") == saved[-1] and store.record("packed-1").snapshot == saved[-1]
    assert [r.snapshot for r in store.list(graph="G")] == [saved[-1]]
    first, second = store.fetch("packed-1"), store.fetch("packed-1")
    first["states"]["n0"]["value"]["blob"] = "changed"  # fresh dicts every time, parts included
    assert second == saved[-1] and store.fetch("packed-1") == saved[-1]
    assert store.delete("packed-1") and not store.exists("packed-1")
    with pytest.raises(ig.SnapshotNotFoundError):
        store.history("packed-1")


def test_versions_stored_whole_by_an_older_release_still_read(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Data written before packing existed is whole; later saves pack; history returns both kinds as saved."""
    saved = []
    monkeypatch.setattr(packing, "PACK_THRESHOLD", 10**12)
    monkeypatch.setattr("igniter_nb.stores.save_request.PACK_THRESHOLD", 10**12)
    monkeypatch.setattr("igniter_nb.stores.memory.PACK_THRESHOLD", 10**12)
    for version in (1, 2, 3):
        saved.append(_big_snapshot("mixed-1", version))
        store.save(copy.deepcopy(saved[-1]), expected_version=version - 1)
    monkeypatch.undo()
    for version in (4, 5):
        saved.append(_big_snapshot("mixed-1", version))
        store.save(copy.deepcopy(saved[-1]), expected_version=version - 1)
    assert store.history("mixed-1") == saved and store.fetch("mixed-1") == saved[-1]


def test_small_snapshots_are_stored_whole_and_large_ones_write_each_part_once(tmp_path: Path) -> None:
    from igniter_nb.stores import SQLStore

    store = SQLStore(f"sqlite:///{tmp_path / 'p.db'}")
    small = {"format": "igniter_nb.snapshot/1", "graph": "G", "execution_id": "s-1", "states": {}, "events": []}
    store.save(small)
    for version in range(1, 6):
        store.save(_big_snapshot("b-1", version), expected_version=version - 1)
    with sqlite3.connect(tmp_path / "p.db") as db:
        texts = dict(db.execute("SELECT execution_id, snapshot FROM igniter_executions").fetchall())
        parts = db.execute("SELECT execution_id, count(*) FROM igniter_execution_parts GROUP BY 1").fetchall()
    assert PACKED_KEY not in json.loads(texts["s-1"])  # whole, as before
    assert json.loads(texts["b-1"])[PACKED_KEY] == 1
    # five big states (n0..n4) and the big input, each written once, plus the full chunks of the event log
    event_chunks = (40 * 5 - 1) // packing.EVENT_CHUNK
    assert parts == [("b-1", 5 + 1 + event_chunks)]
    store.delete("b-1")
    with sqlite3.connect(tmp_path / "p.db") as db:
        assert db.execute("SELECT count(*) FROM igniter_execution_parts").fetchone() == (0,)
    store.close()


def test_the_packed_key_is_reserved(store: Any) -> None:
    with pytest.raises(StoreArgumentError, match="'__ig_packed__' is reserved"):
        store.save({"execution_id": "r-1", PACKED_KEY: 1})
    assert not store.exists("r-1")
