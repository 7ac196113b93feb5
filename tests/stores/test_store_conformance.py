"""One conformance suite, run against every store kind (see ``conftest.store``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from igniter_nb.errors import (
    ConcurrencyError,
    DuplicateWorkflowError,
    SnapshotEncodingError,
    SnapshotNotFoundError,
    StoreArgumentError,
)
from igniter_nb.stores import ExecutionStore, StoredExecution

CORR = {"request_id": "req-1", "company_id": 42}


def snap(eid: str = "ex-1", **extra: Any) -> dict[str, Any]:
    return {"format": "igniter_nb.snapshot/1", "graph": "LeadWorkflow", "execution_id": eid, **extra}


def everything(store: Any) -> list[tuple[str, int, int]]:
    """What a store holds: (id, version, history length) for each execution."""
    return [(r.execution_id, r.version, len(store.history(r.execution_id))) for r in store.list()]


# ------------------------------------------------------------------------------------------ basics


def test_implements_protocol(store: Any) -> None:
    assert isinstance(store, ExecutionStore)


def test_save_fetch_and_versions(store: Any) -> None:
    assert store.save(snap(n=1)) == 1
    assert store.save(snap(n=2)) == 2
    assert store.fetch("ex-1") == snap(n=2)
    assert store.exists("ex-1") and not store.exists("ex-2")


def test_fetch_returns_a_fresh_dict(store: Any) -> None:
    original = snap(items=[1, {"a": 2}])
    store.save(original)
    original["items"].append("mutated after save")
    got = store.fetch("ex-1")
    got["items"][1]["a"] = 99
    assert store.fetch("ex-1") == snap(items=[1, {"a": 2}])


def test_record_carries_metadata(store: Any) -> None:
    before = dt.datetime.now(dt.UTC)
    store.save(snap(), graph="LeadWorkflow", correlation=CORR, status="waiting")
    rec = store.record("ex-1")
    assert isinstance(rec, StoredExecution)
    assert (rec.execution_id, rec.version, rec.graph, rec.correlation, rec.status) == (
        "ex-1", 1, "LeadWorkflow", CORR, "waiting"
    )
    assert rec.snapshot == snap()
    assert rec.updated_at.tzinfo is not None and rec.updated_at.utcoffset() == dt.timedelta(0)
    assert before - dt.timedelta(seconds=5) <= rec.updated_at <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.version = 2  # type: ignore[misc]


def test_graph_defaults_to_the_snapshot_graph(store: Any) -> None:
    store.save(snap())
    assert store.record("ex-1").graph == "LeadWorkflow"
    assert store.record("ex-1").status is None and store.record("ex-1").correlation is None


def test_missing_execution_raises_not_found(store: Any) -> None:
    for call in (store.fetch, store.record, store.history):
        with pytest.raises(SnapshotNotFoundError, match="nope") as info:
            call("nope")
        assert info.value.execution_id == "nope"


def test_history_is_every_version_oldest_first(store: Any) -> None:
    for n in range(1, 6):
        store.save(snap(n=n), status="running" if n < 5 else "succeeded")
    assert store.history("ex-1") == [snap(n=n) for n in range(1, 6)]
    records = store.history_records("ex-1")
    assert [r.version for r in records] == [1, 2, 3, 4, 5]
    assert [r.status for r in records] == ["running"] * 4 + ["succeeded"]
    assert all(a.updated_at <= b.updated_at for a, b in itertools.pairwise(records))


def test_delete(store: Any) -> None:
    store.save(snap(), graph="G", correlation=CORR, status="waiting")
    store.save(snap(n=2))
    assert store.delete("ex-1") is True
    assert not store.exists("ex-1")
    assert store.delete("ex-1") is False
    assert store.find_by_correlation("G", CORR) is None
    with pytest.raises(SnapshotNotFoundError):
        store.history("ex-1")
    assert store.list() == []
    assert store.save(snap(n=3)) == 1  # a new life starts at version 1
    assert store.history("ex-1") == [snap(n=3)]


def test_context_manager_closes(store: Any) -> None:
    with store as same:
        assert same is store


def test_version_of_is_the_latest_version_number(store: Any) -> None:
    assert store.version_of("ex-1") is None
    store.save(snap(n=1))
    store.save(snap(n=2), status="running")
    assert store.version_of("ex-1") == 2 == store.record("ex-1").version
    store.delete("ex-1")
    assert store.version_of("ex-1") is None
    with pytest.raises(StoreArgumentError, match="invalid execution id"):
        store.version_of("../x")


# ------------------------------------------------------------------------------------------ compare-and-set


def test_expected_version_zero_means_new(store: Any) -> None:
    assert store.save(snap(), expected_version=0) == 1
    with pytest.raises(ConcurrencyError) as info:
        store.save(snap(n=2), expected_version=0)
    assert "ex-1" in str(info.value) and "version 0" in str(info.value) and "version 1" in str(info.value)
    assert info.value.context["expected_version"] == 0 and info.value.context["actual_version"] == 1


def test_stale_expected_version_is_refused_and_writes_nothing(store: Any) -> None:
    store.save(snap(n=1))
    store.save(snap(n=2), expected_version=1)
    with pytest.raises(ConcurrencyError, match=r"expecting version 1: the stored version is 2") as info:
        store.save(snap(n=3), expected_version=1)
    assert info.value.execution_id == "ex-1"
    assert store.fetch("ex-1") == snap(n=2) and len(store.history("ex-1")) == 2
    with pytest.raises(ConcurrencyError, match="does not exist"):
        store.save(snap("other"), expected_version=3)
    assert not store.exists("other")
    assert store.save(snap(n=3), expected_version=2) == 3


def test_unconditional_save_still_increments(store: Any) -> None:
    assert [store.save(snap(n=n)) for n in range(3)] == [1, 2, 3]


def test_threads_never_lose_an_update(store: Any) -> None:
    store.save(snap(counter=0))
    conflicts = []

    def worker() -> None:
        done = 0
        while done < 10:
            rec = store.record("ex-1")
            try:
                store.save(snap(counter=rec.snapshot["counter"] + 1), expected_version=rec.version)
                done += 1
            except ConcurrencyError:
                conflicts.append(1)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.fetch("ex-1")["counter"] == 40
    assert store.record("ex-1").version == 41


# ------------------------------------------------------------------------------------------ correlation index


def test_find_by_correlation_finds_active_only(store: Any) -> None:
    store.save(snap(), graph="G", correlation=CORR, status="waiting")
    assert store.find_by_correlation("G", CORR) == "ex-1"
    assert store.find_by_correlation("G", dict(reversed(list(CORR.items())))) == "ex-1"  # key order is irrelevant
    assert store.find_by_correlation("G", {**CORR, "company_id": 43}) is None
    assert store.find_by_correlation("G", {**CORR, "company_id": "42"}) is None  # 42 != "42"
    assert store.find_by_correlation("Other", CORR) is None
    store.save(snap(n=2), status="succeeded")
    assert store.find_by_correlation("G", CORR) is None
    assert [r.execution_id for r in store.list(status="succeeded")] == ["ex-1"]
    assert len(store.history("ex-1")) == 2


@pytest.mark.parametrize("status", ["running", "pending", "waiting"])
def test_every_active_status_is_indexed(store: Any, status: str) -> None:
    store.save(snap(), graph="G", correlation=CORR, status=status)
    assert store.find_by_correlation("G", CORR) == "ex-1"


@pytest.mark.parametrize("status", ["succeeded", "failed", "cancelled", "timed_out"])
def test_finished_statuses_leave_the_index(store: Any, status: str) -> None:
    store.save(snap(), graph="G", correlation=CORR, status="waiting")
    store.save(snap(n=2), status=status)
    assert store.find_by_correlation("G", CORR) is None
    assert store.record("ex-1").correlation == CORR  # metadata kept
    store.save(snap("ex-2"), graph="G", correlation=CORR, status="waiting")  # a finished one does not block (L-07)
    assert store.find_by_correlation("G", CORR) == "ex-2"


def test_saves_without_metadata_keep_it_L44(store: Any) -> None:
    store.save(snap(), graph="G", correlation=CORR, status="waiting")
    store.save(snap(n=2))  # e.g. the store runner persisting after a lifecycle
    assert store.find_by_correlation("G", CORR) == "ex-1"
    rec = store.record("ex-1")
    assert (rec.graph, rec.correlation, rec.status, rec.version) == ("G", CORR, "waiting", 2)


def test_second_active_execution_with_same_correlation_is_a_duplicate(store: Any) -> None:
    store.save(snap("ex-1"), graph="G", correlation=CORR, status="waiting")
    with pytest.raises(DuplicateWorkflowError) as info:
        store.save(snap("ex-2"), graph="G", correlation=CORR, status="running")
    assert "ex-1" in str(info.value) and info.value.context["existing_execution_id"] == "ex-1"
    assert not store.exists("ex-2")
    store.save(snap("ex-2"), graph="G", correlation=CORR, status="succeeded")  # inactive: allowed
    store.save(snap("ex-3"), graph="Other", correlation=CORR, status="waiting")  # other graph: allowed
    assert store.find_by_correlation("G", CORR) == "ex-1"
    with pytest.raises(DuplicateWorkflowError):
        store.save(snap("ex-2"), status="waiting")  # becoming active again while ex-1 is active
    assert store.record("ex-2").version == 1


def test_changing_correlation_moves_the_index_entry(store: Any) -> None:
    store.save(snap(), graph="G", correlation={"k": 1}, status="waiting")
    store.save(snap(), correlation={"k": 2})
    assert store.find_by_correlation("G", {"k": 1}) is None
    assert store.find_by_correlation("G", {"k": 2}) == "ex-1"
    store.save(snap("ex-2"), graph="G", correlation={"k": 1}, status="waiting")
    assert store.find_by_correlation("G", {"k": 1}) == "ex-2"


def test_find_by_correlation_with_many_executions(store: Any) -> None:
    for i in range(150):
        status = "succeeded" if i % 3 == 0 else "waiting"
        store.save(snap(f"ex-{i}"), graph=f"G{i % 2}", correlation={"order": i, "tenant": "t"}, status=status)
    for i in range(150):
        expected = None if i % 3 == 0 else f"ex-{i}"
        assert store.find_by_correlation(f"G{i % 2}", {"tenant": "t", "order": i}) == expected
        assert store.find_by_correlation(f"G{(i + 1) % 2}", {"tenant": "t", "order": i}) is None
    assert len(store.list(graph="G0")) == 75
    assert len(store.list(graph="G0", status="waiting")) == 50
    assert len(store.list(status="succeeded")) == 50


def test_list_filters_and_orders(store: Any) -> None:
    store.save(snap("b"), graph="G", status="waiting")
    store.save(snap("a"), graph="G", status="succeeded")
    store.save(snap("c"), graph="H", status="waiting")
    assert [r.execution_id for r in store.list()] == ["b", "a", "c"]
    assert [r.execution_id for r in store.list(graph="G")] == ["b", "a"]
    assert [r.execution_id for r in store.list(status="waiting")] == ["b", "c"]
    assert store.list(graph="G", status="failed") == []
    assert store.list(graph="missing") == []


# ------------------------------------------------------------------------------------------ bad input


BAD_IDS = ["", "../etc/passwd", "a/b", "..", "a..b", ".hidden", "-x", "a b", "a\x00b", "x" * 201, "é", "a\\b"]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_invalid_execution_ids_are_refused_everywhere(store: Any, bad: str) -> None:
    with pytest.raises(StoreArgumentError, match="invalid execution id"):
        store.save(snap(bad))
    for call in (store.fetch, store.record, store.exists, store.delete, store.history):
        with pytest.raises(ValueError, match="invalid execution id"):
            call(bad)
    assert store.list() == []


def test_non_string_ids_are_refused(store: Any) -> None:
    with pytest.raises(StoreArgumentError, match="must be a str"):
        store.save({"execution_id": 5})
    with pytest.raises(StoreArgumentError):
        store.save({"no": "id"})
    with pytest.raises(StoreArgumentError, match="snapshot must be a dict"):
        store.save(["execution_id"])


def test_path_traversal_writes_nothing_outside(store: Any, tmp_path: Path) -> None:
    before = sorted(os.listdir(tmp_path))
    for bad in ("../../escape", "..", "/abs"):
        with pytest.raises(StoreArgumentError):
            store.save(snap(bad))
    assert sorted(os.listdir(tmp_path)) == before
    assert not (tmp_path.parent / "escape").exists()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"correlation": {"k": {"nested": 1}}}, StoreArgumentError, "must be a str, int"),
        ({"correlation": {1: "x"}}, StoreArgumentError, "keys must be str"),
        ({"correlation": {"k": float("nan")}}, StoreArgumentError, "finite float"),
        ({"correlation": {}}, StoreArgumentError, "non-empty"),
        ({"correlation": "k=1"}, StoreArgumentError, "non-empty dict"),
        ({"status": "done"}, StoreArgumentError, "unknown status 'done'"),
        ({"graph": ""}, StoreArgumentError, "graph name"),
        ({"graph": "a\nb"}, StoreArgumentError, "graph name"),
        ({"expected_version": -1}, StoreArgumentError, "expected_version"),
        ({"expected_version": "1"}, StoreArgumentError, "expected_version"),
    ],
)
def test_bad_arguments_write_nothing(store: Any, kwargs: dict[str, Any], error: type, match: str) -> None:
    store.save(snap(n=1), graph="G", correlation=CORR, status="waiting")
    with pytest.raises(error, match=match):
        store.save(snap(n=2), **kwargs)
    assert everything(store) == [("ex-1", 1, 1)]
    assert store.find_by_correlation("G", CORR) == "ex-1"


def test_snapshot_that_is_not_json_safe_writes_nothing(store: Any) -> None:
    for bad in ({"s": {1, 2}}, {"f": float("nan")}, {"d": dt.date(2026, 1, 1)}, {"o": object()}):
        with pytest.raises(SnapshotEncodingError, match=r"codec\.encode") as info:
            store.save(snap(**bad))
        assert info.value.execution_id == "ex-1"
    assert everything(store) == []


def test_bad_lookup_arguments(store: Any) -> None:
    with pytest.raises(StoreArgumentError):
        store.find_by_correlation("G", {"k": [1]})
    with pytest.raises(StoreArgumentError):
        store.list(status="nope")


# ------------------------------------------------------------------------------------------ content


def test_unicode_everywhere(store: Any) -> None:
    text = "Привіт, 世界 — 🎉 \u0000 nul and \ud7ff"
    snapshot = snap("uni-code", text=text, nested={"ключ": [text]})
    corr = {"клієнт": "Ґанок 🎉", "n": 1}
    store.save(snapshot, graph="Граф", correlation=corr, status="waiting")
    assert store.fetch("uni-code") == snapshot
    assert store.find_by_correlation("Граф", corr) == "uni-code"
    rec = store.record("uni-code")
    assert rec.graph == "Граф" and rec.correlation == corr


def test_large_snapshot(store: Any) -> None:
    big = snap(states={f"node_{i}": {"status": "succeeded", "value": "x" * 1000 + str(i)} for i in range(2000)})
    store.save(big)
    store.save(big)
    assert store.fetch("ex-1") == big
    assert store.history("ex-1") == [big, big]


def test_ids_with_all_allowed_characters(store: Any) -> None:
    eid = "A-z_0.9:" + "y" * 192
    assert len(eid) == 200
    store.save(snap(eid))
    assert store.fetch(eid)["execution_id"] == eid


def test_racing_starts_with_one_correlation_have_one_winner(store: Any) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def start(n: int) -> None:
        barrier.wait(10)
        try:
            store.save(snap(f"racer-{n}"), graph="G", correlation=CORR, status="waiting", expected_version=0)
            outcomes.append("won")
        except DuplicateWorkflowError:
            outcomes.append("duplicate")

    threads = [threading.Thread(target=start, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["duplicate"] * 5 + ["won"]
    winner = store.find_by_correlation("G", CORR)
    assert winner is not None and [r.execution_id for r in store.list()] == [winner]
