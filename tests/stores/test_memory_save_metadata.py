"""A runtime save of an execution ``MemoryStore`` holds already reuses the stored metadata when graph, correlation
and status stay the same (branch memdeliver), and still refuses what a first save refuses."""

from __future__ import annotations

from typing import Any

import pytest

from igniter_nb.errors import ConcurrencyError, StoreArgumentError
from igniter_nb.stores import MemoryStore
from igniter_nb.stores.packing import PACKED_KEY


def _snap(**extra: Any) -> dict[str, Any]:
    return {"execution_id": "ex-1", "graph": "G", "n": 1, **extra}


def _runtime_save(store: MemoryStore, snapshot: dict[str, Any], status: str, version: int) -> int:
    return store.save(snapshot, graph="G", correlation={"k": "a"}, status=status, expected_version=version,
                      check_json=False)


def test_unchanged_metadata_is_the_stored_object_and_a_change_is_seen() -> None:
    store = MemoryStore()
    _runtime_save(store, _snap(), "waiting", 0)
    _runtime_save(store, _snap(n=2), "waiting", 1)
    versions = store._executions["ex-1"]
    assert versions[1].meta is versions[0].meta
    assert store.find_by_correlation("G", {"k": "a"}) == "ex-1"
    _runtime_save(store, _snap(n=3), "succeeded", 2)
    assert versions[2].meta is not versions[1].meta and versions[2].meta.status == "succeeded"
    assert store.find_by_correlation("G", {"k": "a"}) is None  # no longer active
    assert store.find_latest_by_correlation("G", {"k": "a"}) == "ex-1"
    assert [s["n"] for s in store.history("ex-1")] == [1, 2, 3]


def test_a_runtime_save_of_a_stored_execution_is_still_checked() -> None:
    store = MemoryStore()
    _runtime_save(store, _snap(), "waiting", 0)
    with pytest.raises(StoreArgumentError, match="reserved"):
        _runtime_save(store, _snap(**{PACKED_KEY: 1}), "waiting", 1)
    with pytest.raises(ConcurrencyError):
        _runtime_save(store, _snap(n=2), "waiting", 0)
    with pytest.raises(StoreArgumentError, match="invalid execution id"):
        _runtime_save(store, _snap(execution_id="../x"), "waiting", 0)
    with pytest.raises(StoreArgumentError, match="must be a dict"):
        store.save(["not", "a", "dict"], check_json=False)  # type: ignore[arg-type]
    assert store.version_of("ex-1") == 1
