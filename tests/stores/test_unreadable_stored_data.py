"""Stored data that cannot be read back (issue 11 point 17): a 100,000-deep JSON document put into a store by hand,
or stored text that is not JSON, raises a ``StoreError`` naming the store and the execution — never a raw
``RecursionError`` or ``ValueError``; saving such a document is refused with ``SnapshotEncodingError``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import FileStore, MemoryStore, RedisStore, SQLStore

DEEP = "[" * 100_000 + "]" * 100_000


def _deep_dict() -> dict[str, Any]:
    value: Any = 1
    for _ in range(100_000):
        value = [value]
    return {"execution_id": "deep-1", "graph": "G", "value": value}


def test_saving_a_100000_deep_snapshot_is_refused_by_every_store(store: Any) -> None:
    with pytest.raises(ig.SnapshotEncodingError, match="nested too deeply"):
        store.save(_deep_dict())
    assert not store.exists("deep-1")


def _tamper(store: Any, text: str, tmp_path: Path) -> str:
    """Replace the stored snapshot of ``ex-1`` (current and history) with ``text``; returns what the error names."""
    if isinstance(store, MemoryStore):
        import dataclasses

        versions = store._executions["ex-1"]
        versions[:] = [dataclasses.replace(v, data=text) for v in versions]
        return "MemoryStore"
    if isinstance(store, FileStore):
        folder = store.root / "executions" / "ex-1"
        for path in folder.glob("*.json"):
            envelope = path.read_text()
            head = envelope[: envelope.index(',"snapshot":')]
            path.write_text(f'{head},"snapshot":{text}}}')
        return str(folder / "current.json")
    if isinstance(store, SQLStore):
        with sqlite3.connect(store.engine.url.database) as db:
            db.execute("UPDATE igniter_executions SET snapshot = ?", (text,))
            db.execute("UPDATE igniter_execution_history SET snapshot = ?", (text,))
        return "SQLStore('sqlite:///"
    if isinstance(store, RedisStore):
        store.client.hset(f"{store.namespace}:exec:ex-1", "snapshot", text)
        envelope = json.loads(store.client.lindex(f"{store.namespace}:hist:ex-1", 0))
        raw = json.dumps({k: v for k, v in envelope.items() if k != "snapshot"})
        store.client.lset(f"{store.namespace}:hist:ex-1", 0, raw[:-1] + f', "snapshot": {text}}}')
        return "RedisStore(namespace="
    raise AssertionError(type(store))


@pytest.fixture(params=["memory", "file", "sqlite", "redis"])
def writable(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    kind = request.param
    if kind == "memory":
        opened: Any = MemoryStore()
    elif kind == "file":
        opened = FileStore(tmp_path / "files")
    elif kind == "sqlite":
        opened = SQLStore(f"sqlite:///{tmp_path / 'x.db'}")
    else:
        opened = RedisStore(request.getfixturevalue("redis_url"), namespace=f"deep{id(tmp_path)}")
    yield opened
    opened.close()


@pytest.mark.parametrize("text", [DEEP, "{not json"])
def test_unreadable_stored_json_is_a_store_error_naming_the_store(writable: Any, text: str, tmp_path: Path) -> None:
    writable.save({"execution_id": "ex-1", "graph": "G"}, graph="G", status="waiting")
    where = _tamper(writable, text, tmp_path)
    for read in (writable.fetch, writable.record, writable.history):
        with pytest.raises(ig.StoreError, match=r"nested too deeply|not valid JSON") as info:
            read("ex-1")
        assert where in str(info.value), str(info.value)
        assert not isinstance(info.value, RecursionError)
