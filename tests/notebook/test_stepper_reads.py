"""How much of a long history a SnapshotStepper reads, counted on a real SQLite store: opening reads the latest
version only, a step reads the page of versions it is on (``VERSION_PAGE``), once (it read every version on
opening)."""

from __future__ import annotations

import collections
import datetime as dt
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.notebook import stepper_sources
from igniter_nb.stores.memory import MemoryStore
from igniter_nb.stores.sql import SQLStore

NOW = dt.datetime(2026, 1, 2, 9, 0, tzinfo=dt.UTC)


class LongLead(ig.Contract):
    def define(c):
        c.correlate_by("request_id")
        c.input("request_id")
        c.await_event("crm", event="crm_received")
        c.output("crm")


def counting(store: SQLStore) -> collections.Counter[int]:
    """Snapshot decodes, by version number read: every snapshot the store reads passes ``_loads``."""
    reads: collections.Counter[int] = collections.Counter()
    loads = store._loads

    def spy(text: Any, execution_id: str) -> Any:
        data = loads(text, execution_id)
        reads[len(reads)] += 1
        return data

    store._loads = spy  # type: ignore[method-assign]
    return reads


def long_history(store: Any, versions: int) -> str:
    eid: str = LongLead.start(request_id="r-1", store=store, now=NOW).execution_id
    snapshot = store.fetch(eid)
    for _ in range(versions - 1):
        store.save(snapshot)
    return eid


@pytest.fixture
def sqlite(tmp_path: Any) -> Any:
    s = SQLStore(f"sqlite:///{tmp_path / 'history.db'}")
    yield s
    s.close()


def test_opening_a_long_history_reads_the_latest_version_only(sqlite: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(stepper_sources, "VERSION_PAGE", 10)
    eid = long_history(sqlite, 35)
    reads = counting(sqlite)
    st = ig.nb.SnapshotStepper(sqlite, eid, engine="python")
    assert len(st) == 35 and st.graph is not None and st.graph.name == "LongLead"
    assert sum(reads.values()) == 1  # the latest version: the graph and the contract's name
    reads.clear()
    assert st.version is not None and st.version.version == 1
    assert st.describe() == "step 1/35: version 1 — waiting"
    assert sum(reads.values()) == 10  # the first page (versions 1-10), once
    reads.clear()
    st.goto(9)
    st.next()  # version 11: the second page
    st.prev()
    assert sum(reads.values()) == 10
    reads.clear()
    st.goto(-1)  # read on opening
    st.goto(33)  # versions 31-35: the last page is 5 long
    assert sum(reads.values()) == 5 and st.version.version == 34
    reads.clear()
    st.goto(0)
    st.goto(34)
    assert sum(reads.values()) == 0  # pages are kept


def test_an_unknown_execution_is_refused_as_before(sqlite: Any) -> None:
    with pytest.raises(ig.SnapshotNotFoundError):
        ig.nb.SnapshotStepper(sqlite, "no-such-execution")


def test_lazy_and_whole_histories_step_the_same(monkeypatch: Any) -> None:
    monkeypatch.setattr(stepper_sources, "VERSION_PAGE", 4)
    store = MemoryStore()
    eid = LongLead.start(request_id="r-1", store=store, now=NOW).execution_id
    for _ in range(6):
        store.save(store.fetch(eid))
    LongLead.deliver_event("crm_received", correlation={"request_id": "r-1"}, payload={"x": 1}, store=store, now=NOW)
    lazy = ig.nb.SnapshotStepper(store, eid, engine="python")
    whole = stepper_sources.store_versions(store, eid)
    assert isinstance(lazy._versions, stepper_sources.LazyVersions) and len(lazy) == len(whole) == 8
    for i, version in enumerate(whole):
        assert lazy.goto(i) == version.snapshot
        assert lazy.version is not None and (lazy.version.version, lazy.version.status) == (version.version,
                                                                                          version.status)
    assert lazy.current_status == "succeeded" and lazy.diff()["crm"] == ("waiting", "succeeded")
