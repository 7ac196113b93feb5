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


def _indexes(store: MemoryStore) -> tuple[list[str], list[str], list[str]]:
    return (list(store._by_correlation[("G", '{"k":"a"}')]), list(store._recent["G"]),
            list(store._recent_active.get("G", {})))


def test_a_save_with_unchanged_metadata_makes_the_execution_the_most_recent_in_each_index() -> None:
    """Branch deliverfast: such a save moves the id to the end of the indexes it is in (``_touch``), as the general
    path does, and leaves out the indexes it is not in (a finished execution is in no active index)."""
    store = MemoryStore()

    def save(eid: str, status: str | None, n: int = 1, **meta: Any) -> None:
        store.save({"execution_id": eid, "graph": "G", "n": n}, graph="G", status=status, check_json=False, **meta)

    for eid in ("a-1", "a-2"):
        save(eid, "succeeded", correlation={"k": "a"})
    save("a-3", "waiting", correlation={"k": "a"})
    assert _indexes(store) == (["a-1", "a-2", "a-3"], ["a-1", "a-2", "a-3"], ["a-3"])
    save("a-1", "succeeded", 2, correlation={"k": "a"})
    assert store._executions["a-1"][1].meta is store._executions["a-1"][0].meta  # (the unchanged-metadata path)
    assert _indexes(store) == (["a-2", "a-3", "a-1"], ["a-2", "a-3", "a-1"], ["a-3"])
    assert store.find_latest_by_correlation("G", {"k": "a"}) == "a-1"
    save("a-3", "waiting", 2, correlation={"k": "a"})
    assert _indexes(store) == (["a-2", "a-1", "a-3"], ["a-2", "a-1", "a-3"], ["a-3"])
    assert store.find_latest_by_correlation("G", {"k": "a"}) == "a-3"
    assert [eid for eid, _ in store.correlations("G", active_only=False)] == ["a-3", "a-1", "a-2"]
    save("a-3", "waiting", 3, correlation={"k": "a"})  # already the last everywhere: nothing moves
    assert _indexes(store) == (["a-2", "a-1", "a-3"], ["a-2", "a-1", "a-3"], ["a-3"])
    save("n-1", "succeeded")
    save("n-1", None, 2)  # no correlation: in no index, before or after
    assert "n-1" not in _indexes(store)[1] and store.version_of("n-1") == 2
