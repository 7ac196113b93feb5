"""``record_by_correlation``: the record of the active execution of a correlation in one read (what a delivery
needs), on the stores that have it (memory, SQL, Redis); the workflow engine falls back to ``find_by_correlation``
+ ``record`` on the others."""

from __future__ import annotations

from typing import Any

import pytest

from igniter_nb.errors import StoreArgumentError

GRAPH = "Lead"
CORR = {"request_id": "req-1", "company_id": 42}


def snap(eid: str, **extra: Any) -> dict[str, Any]:
    return {"format": "igniter_nb.snapshot/1", "graph": GRAPH, "execution_id": eid, **extra}


def _reader(store: Any) -> Any:
    return store.record_by_correlation


@pytest.fixture(params=("memory", "sqlite", "sqlite_memory", "postgres", "redis"))
def reading_store(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    from tests.stores.conftest import _fresh

    yield from _fresh(request, tmp_path)


def test_record_by_correlation_is_the_active_record(reading_store: Any) -> None:
    store = reading_store
    reader = _reader(store)
    assert reader(GRAPH, CORR) is None
    store.save(snap("ex-1", n=1), graph=GRAPH, correlation=CORR, status="waiting")
    store.save(snap("ex-1", n=2), graph=GRAPH, correlation=CORR, status="waiting", expected_version=1)
    found = reader(GRAPH, {"company_id": 42, "request_id": "req-1"})  # key order does not matter
    assert found == store.record("ex-1")
    assert (found.version, found.snapshot, found.correlation, found.status) == (2, snap("ex-1", n=2), CORR, "waiting")
    found.snapshot["n"] = "changed"  # a fresh dict, as from record()
    assert reader(GRAPH, CORR).snapshot == snap("ex-1", n=2)
    assert reader(GRAPH, {**CORR, "company_id": "42"}) is None  # value types count
    assert reader("Other", CORR) is None


def test_record_by_correlation_ignores_finished_and_deleted_executions(reading_store: Any) -> None:
    store = reading_store
    reader = _reader(store)
    store.save(snap("ex-1"), graph=GRAPH, correlation=CORR, status="waiting")
    store.save(snap("ex-1"), graph=GRAPH, correlation=CORR, status="succeeded", expected_version=1)
    assert reader(GRAPH, CORR) is None
    store.save(snap("ex-2"), graph=GRAPH, correlation=CORR, status="running")  # the correlation is free again
    assert reader(GRAPH, CORR).execution_id == "ex-2"
    store.delete("ex-2")
    assert reader(GRAPH, CORR) is None


def test_record_by_correlation_reads_packed_snapshots_whole(reading_store: Any) -> None:
    store = reading_store
    reader = _reader(store)
    big = snap("ex-big", states={f"n{i}": {"status": "succeeded", "value": "x" * 20_000} for i in range(5)})
    store.save(big, graph=GRAPH, correlation=CORR, status="waiting")
    assert reader(GRAPH, CORR).snapshot == big


def test_record_by_correlation_refuses_bad_arguments(reading_store: Any) -> None:
    reader = _reader(reading_store)
    with pytest.raises(StoreArgumentError):
        reader("", CORR)
    with pytest.raises(StoreArgumentError):
        reader(GRAPH, {"k": object()})
