"""A store's summary said ``MemoryStore(1 executions): 1 executions``: a plural for one execution, and the memory
store's count twice (its ``repr`` holds the count, and the summary put its own after it). One execution is now
``1 execution`` in every store's ``repr`` and summary (text and HTML heading), and the memory store's summary names
the store once, then the count."""

from __future__ import annotations

import pytest

from igniter_nb.notebook import reprs
from igniter_nb.stores import FileStore, MemoryStore, SQLStore


def _one(store):
    store.save({"execution_id": "e-1", "states": {}}, graph="Lead", status="succeeded")
    return store


def test_a_memory_store_of_one_execution_says_one_execution_once():
    store = MemoryStore()
    assert repr(store) == "MemoryStore(0 executions)"
    _one(store)
    assert repr(store) == "MemoryStore(1 execution)"
    bundle = reprs.store_mimebundle(store)
    assert bundle["text/plain"].splitlines()[0] == "MemoryStore: 1 execution (1 succeeded)"
    assert "1 execution (1 succeeded)" in bundle["text/html"] and "1 executions" not in bundle["text/html"]


@pytest.mark.parametrize("kind", ["file", "sqlite"])
def test_a_stored_execution_is_counted_in_the_singular(tmp_path, kind):
    store = _one(FileStore(tmp_path / "files") if kind == "file" else SQLStore(f"sqlite:///{tmp_path / 'x.db'}"))
    bundle = reprs.store_mimebundle(store)
    assert bundle["text/plain"].splitlines()[0] == f"{store!r}: 1 execution (1 succeeded)"
    assert "1 executions" not in bundle["text/html"]
    store.save({"execution_id": "e-2", "states": {}}, graph="Lead", status="failed")
    assert reprs.store_mimebundle(store)["text/plain"].splitlines()[0] == \
        f"{store!r}: 2 executions (1 failed, 1 succeeded)"


def test_an_empty_store_says_zero_executions():
    assert reprs.store_mimebundle(MemoryStore())["text/plain"] == "MemoryStore: 0 executions (empty)"
