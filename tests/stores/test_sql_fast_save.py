"""``SQLStore.save``'s fast path: a compare-and-set (``expected_version`` > 0) naming graph, correlation and status
skips the row read (PostgreSQL: one statement), and must still behave exactly like the long way.

Runs on SQLite (file and in-memory) and PostgreSQL through ``sql_store`` (``tests/stores/conftest.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from igniter_nb.errors import ConcurrencyError, DuplicateWorkflowError
from igniter_nb.stores import MemoryStore
from igniter_nb.stores.base import conflict

GRAPH = "LeadWorkflow"
CORR_A = {"request_id": "req-a", "company_id": 1}
CORR_B = {"request_id": "req-b", "company_id": 2}


def snap(eid: str, **extra: Any) -> dict[str, Any]:
    return {"format": "igniter_nb.snapshot/1", "graph": GRAPH, "execution_id": eid, **extra}


def cas(store: Any, eid: str, expected: int, *, corr: dict[str, Any] = CORR_A, status: str = "waiting",
        graph: str = GRAPH, **extra: Any) -> int:
    """A save as the runtime makes it: all metadata given, compare-and-set on ``expected``."""
    return int(store.save(snap(eid, **extra), graph=graph, correlation=corr, status=status, expected_version=expected))


def stored(store: Any) -> list[tuple[str, int, str | None, Any, str | None, int]]:
    """Everything a store holds: (id, version, graph, correlation, status, history length) per execution."""
    return [(r.execution_id, r.version, r.graph, r.correlation, r.status, len(store.history_records(r.execution_id)))
            for r in store.list()]


@contextmanager
def statements(store: Any) -> Iterator[list[str]]:
    """The SQL statements the store sends while the block runs: through SQLAlchemy, and on the DBAPI connection
    by the hot path (``stores/sql_hot.py``)."""
    sent: list[str] = []

    def told(text: str) -> None:
        sent.append(" ".join(text.split()).upper())

    def before(_conn: Any, _cursor: Any, text: str, *_args: Any) -> None:
        told(text)

    event.listen(store.engine, "before_cursor_execute", before)
    store._hot.listeners.append(told)
    try:
        yield sent
    finally:
        store._hot.listeners.remove(told)
        event.remove(store.engine, "before_cursor_execute", before)


def test_fast_save_skips_the_read(sql_store: Any) -> None:
    cas_first = sql_store.save(snap("ex-1"), graph=GRAPH, correlation=CORR_A, status="waiting")
    assert cas_first == 1
    with statements(sql_store) as sent:
        assert cas(sql_store, "ex-1", 1, n=2) == 2
    assert not any(s.startswith("SELECT") for s in sent), sent  # no lock_row, no duplicate-owner lookup
    if sql_store.engine.dialect.name == "postgresql":
        assert len(sent) == 1 and sent[0].startswith("WITH SAVED AS (UPDATE"), sent  # autocommitted: one round trip
    else:
        assert [s.split()[0] for s in sent] == ["BEGIN", "UPDATE", "INSERT", "COMMIT"], sent
    rec = sql_store.record("ex-1")
    assert (rec.version, rec.snapshot, rec.graph, rec.correlation, rec.status) == (2, snap("ex-1", n=2), GRAPH, CORR_A,
                                                                                   "waiting")


def test_history_gets_one_row_per_save(sql_store: Any) -> None:
    sql_store.save(snap("ex-1", n=1), graph=GRAPH, correlation=CORR_A, status="running")
    for version in range(1, 6):
        status = "waiting" if version < 5 else "succeeded"
        assert cas(sql_store, "ex-1", version, status=status, n=version + 1) == version + 1
    history = sql_store.history_records("ex-1")
    assert [h.version for h in history] == [1, 2, 3, 4, 5, 6]
    assert [h.snapshot["n"] for h in history] == [1, 2, 3, 4, 5, 6]
    assert [h.status for h in history] == ["running", "waiting", "waiting", "waiting", "waiting", "succeeded"]
    assert all(h.graph == GRAPH and h.correlation == CORR_A for h in history)
    latest = sql_store.record("ex-1")
    assert latest.version == 6 and latest.updated_at == history[-1].updated_at  # saved_at of the version == updated_at
    # a finished execution leaves the correlation index but stays the latest with that correlation
    assert sql_store.find_by_correlation(GRAPH, CORR_A) is None
    assert sql_store.find_latest_by_correlation(GRAPH, CORR_A) == "ex-1"


def test_stale_expected_version_raises_with_the_actual_version(sql_store: Any) -> None:
    sql_store.save(snap("ex-1"), graph=GRAPH, correlation=CORR_A, status="waiting")
    cas(sql_store, "ex-1", 1, n=2)
    cas(sql_store, "ex-1", 2, n=3)
    before = stored(sql_store)
    with pytest.raises(ConcurrencyError) as info:
        cas(sql_store, "ex-1", 1, n="stale")
    assert info.value.context["expected_version"] == 1 and info.value.context["actual_version"] == 3
    assert str(info.value) == str(conflict("ex-1", 1, 3))
    with pytest.raises(ConcurrencyError) as ahead:
        cas(sql_store, "ex-1", 7, n="ahead")
    assert ahead.value.context["expected_version"] == 7 and ahead.value.context["actual_version"] == 3
    assert stored(sql_store) == before
    assert sql_store.fetch("ex-1") == snap("ex-1", n=3)


def test_missing_execution_raises_what_the_long_way_raises(sql_store: Any) -> None:
    reference = MemoryStore()  # the reference behaviour every store shares
    errors = []
    for store in (sql_store, reference):
        with pytest.raises(ConcurrencyError) as info:
            cas(store, "ghost", 3)
        errors.append(info.value)
        assert not store.exists("ghost") and store.list() == []
    ours, theirs = errors
    assert str(ours) == str(theirs) == str(conflict("ghost", 3, 0))
    assert ours.context == theirs.context
    assert ours.context["actual_version"] == 0


def test_second_active_owner_raises_duplicate_and_changes_nothing(sql_store: Any) -> None:
    sql_store.save(snap("ex-a"), graph=GRAPH, correlation=CORR_A, status="waiting")
    sql_store.save(snap("ex-b"), graph=GRAPH, correlation=CORR_B, status="waiting")
    cas(sql_store, "ex-b", 1, corr=CORR_B, n=2)
    before = stored(sql_store)
    with statements(sql_store) as sent, pytest.raises(DuplicateWorkflowError) as info:
        cas(sql_store, "ex-b", 2, corr=CORR_A, n="stolen")  # would make ex-b a second active owner of CORR_A
    # the fast update is refused by the unique index; the retry goes the long way, which names the owner
    fast = "WITH SAVED AS (UPDATE" if sql_store.engine.dialect.name == "postgresql" else "UPDATE"
    first_fast = next(i for i, s in enumerate(sent) if s.startswith(fast))
    assert any(s.startswith("SELECT") for s in sent[first_fast + 1:]), sent
    assert sum(s.startswith(fast) for s in sent) == 1, sent
    assert info.value.context["existing_execution_id"] == "ex-a"
    assert info.value.context["execution_id"] == "ex-b"
    assert stored(sql_store) == before
    assert sql_store.fetch("ex-b") == snap("ex-b", n=2)
    assert sql_store.find_by_correlation(GRAPH, CORR_A) == "ex-a"
    assert sql_store.find_by_correlation(GRAPH, CORR_B) == "ex-b"
    # a finished save may share the correlation; so may an active one once the owner finished
    assert cas(sql_store, "ex-b", 2, corr=CORR_A, status="failed", n=3) == 3
    cas(sql_store, "ex-a", 1, status="succeeded")
    assert cas(sql_store, "ex-b", 3, corr=CORR_A, status="running", n=4) == 4
    assert sql_store.find_by_correlation(GRAPH, CORR_A) == "ex-b"
    assert sql_store.find_by_correlation(GRAPH, CORR_B) is None


def test_fast_save_metadata_matches_the_long_way(sql_store: Any) -> None:
    """The given graph wins over the snapshot's "graph" and the stored one; correlation and status replace."""
    reference = MemoryStore()
    for store in (sql_store, reference):
        store.save(snap("ex-1"), graph="Stored", correlation=CORR_A, status="running")
        store.save(snap("ex-1", graph="InSnapshot"), graph="Given", correlation=CORR_B, status="pending",
                   expected_version=1)
    ours, theirs = sql_store.record("ex-1"), reference.record("ex-1")
    assert (ours.version, ours.graph, ours.correlation, ours.status, ours.snapshot) == (
        theirs.version, theirs.graph, theirs.correlation, theirs.status, theirs.snapshot)
    assert ours.graph == "Given"
    assert sql_store.find_by_correlation("Given", CORR_B) == "ex-1"
    assert sql_store.find_by_correlation("Stored", CORR_A) is None


def test_concurrent_fast_saves_have_one_winner(sql_store: Any) -> None:
    sql_store.save(snap("ex-1", counter=0), graph=GRAPH, correlation=CORR_A, status="waiting")
    rounds, workers = 15, 4
    wins = [0] * workers
    losses = [0] * workers

    def worker(i: int) -> None:
        for _ in range(rounds):
            rec = sql_store.record("ex-1")
            try:
                cas(sql_store, "ex-1", rec.version, counter=rec.snapshot["counter"] + 1)
                wins[i] += 1
            except ConcurrencyError:
                losses[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = sum(wins)
    assert won + sum(losses) == rounds * workers
    rec = sql_store.record("ex-1")
    assert rec.version == won + 1 and rec.snapshot["counter"] == won  # no lost update, no double version
    assert [h.version for h in sql_store.history_records("ex-1")] == list(range(1, won + 2))
