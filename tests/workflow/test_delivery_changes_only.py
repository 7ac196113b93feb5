"""A delivery does what it changed, not what the workflow already was (issue 13 target 4), pinned as counts: the
memory store and the runtime hand the event log over as ``EventChunks`` (runtime/event_chunks.py), so a delivery
serialises the events it added and reads none of the old ones; and a save encodes only the node states that
changed since the execution was restored. What is read back stays exactly what a plain save would give."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.runtime import snapshot as snapshot_module
from igniter_nb.runtime.event_chunks import EventChunks, takes_event_chunks
from igniter_nb.runtime.restore import restore_contract
from igniter_nb.runtime.snapshot import snapshot_execution
from igniter_nb.stores import MemoryStore
from igniter_nb.workflow import completing
from tests.workflow.wf_contracts import PairWorkflow, documents_workflow

Docs = documents_workflow(24)


def _deliver_all(store: Any, key: str = "k-1") -> Any:
    wf = Docs.start(key=key, store=store)
    for i in range(24):
        wf = Docs.deliver_event(f"doc{i:02d}_arrived", correlation={"key": key}, payload={"i": i}, store=store)
    return wf


class _PlainLists(MemoryStore):
    """A subclass that overrides ``save``: it gets and gives plain event lists, as every other store."""

    def save(self, snapshot: Any, **kwargs: Any) -> int:
        assert type(snapshot["events"]) is list
        return super().save(snapshot, **kwargs)


class _Renamed(MemoryStore):
    """A subclass that changes nothing the agreement covers keeps it."""


def test_only_stores_that_agreed_take_event_chunks() -> None:
    assert takes_event_chunks(MemoryStore())
    assert takes_event_chunks(_Renamed())
    assert not takes_event_chunks(_PlainLists())  # overrides save: not assumed to understand chunks

    class Proxy:  # forwards attributes to a memory store: its own class did not agree
        def __init__(self) -> None:
            self.inner = MemoryStore()

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    assert not takes_event_chunks(Proxy())
    store = _PlainLists()
    wf = _deliver_all(store)  # (its save asserts it never sees chunks)
    assert wf.workflow_status == "succeeded"
    assert all(v.events is None for v in store._executions[wf.execution_id])


def test_a_delivery_serialises_only_the_events_it_added_however_long_the_history() -> None:
    store = MemoryStore()
    wf = _deliver_all(store)
    versions = store._executions[wf.execution_id]
    added = []
    for before, after in itertools.pairwise(versions):
        assert before.events is not None and after.events is not None
        # every earlier chunk is the same bytes object: kept by reference, not written again
        assert all(a is b for a, b in zip(before.events.chunks, after.events.chunks, strict=False))
        assert len(after.events.chunks) == len(before.events.chunks) + 1
        new = after.events.chunks[-1]
        added.append(after.events.count - before.events.count)
        assert after.events.before is before.events  # linked to the version before: extending costs no copy
        assert len(EventChunks(None, new, 0, 0).load()) == added[-1]
    assert max(added[1:-1]) == min(added[1:-1])  # the same events per delivery, first or 22nd (the last succeeds)
    assert len(store.fetch(wf.execution_id)["events"]) == versions[-1].events.count


def test_the_runtime_reads_the_log_without_decoding_it_and_everyone_else_gets_lists() -> None:
    store = MemoryStore()
    wf = PairWorkflow.start(pair_id="p-1", store=store)
    chunked = store.record_by_correlation("PairWorkflow", {"pair_id": "p-1"}, event_chunks=True)
    assert chunked is not None and type(chunked.snapshot["events"]) is EventChunks
    assert type(store.record(wf.execution_id, event_chunks=True).snapshot["events"]) is EventChunks
    plain = store.record(wf.execution_id).snapshot
    assert type(plain["events"]) is list and plain["events"] == chunked.snapshot["events"].load()
    assert list(plain) == list(chunked.snapshot)  # the list back in its place: same keys, same order
    for read in (store.fetch(wf.execution_id), store.history(wf.execution_id)[-1],
                 store.record_by_correlation("PairWorkflow", {"pair_id": "p-1"}).snapshot,  # type: ignore[union-attr]
                 store.list(graph="PairWorkflow")[0].snapshot, store.history_records(wf.execution_id)[-1].snapshot):
        assert read == plain and type(read["events"]) is list
    with pytest.raises(ig.SnapshotEncodingError, match="not JSON-safe"):
        store.save({**plain, "events": chunked.snapshot["events"]})  # the checked (JSON) path never takes chunks


def test_history_read_back_equals_what_the_runtime_built() -> None:
    """Every version read back is exactly the snapshot the runtime built for it (a contract restored from it
    snapshots to the same data), whatever mix of chunks and plain saves made it."""
    store = MemoryStore()
    wf = _deliver_all(store)
    for snap in store.history(wf.execution_id):
        again = snapshot_execution(restore_contract(Docs, snap).execution)
        assert {k: v for k, v in again.items() if k != "saved_at"} == {k: v for k, v in snap.items() if k != "saved_at"}
        assert [e["seq"] for e in snap["events"]] == list(range(1, len(snap["events"]) + 1))
    # a memory-store workflow saved to another store afterwards gives it plain lists (the chunks become dicts)
    other = _PlainLists()
    contract = restore_contract(Docs, store.record(wf.execution_id, event_chunks=True).snapshot, owned=True)
    from igniter_nb.runtime.store_runner import persist

    contract.execution.store_version = 0
    contract.execution.saved_seq = -1
    persist(contract.execution, other)
    assert other.fetch(wf.execution_id) == {**store.fetch(wf.execution_id), "saved_at": other.fetch(wf.execution_id)["saved_at"]}


def test_nothing_a_caller_changes_after_the_delivery_reaches_the_store() -> None:
    store = MemoryStore()
    PairWorkflow.start(pair_id="p-2", store=store)
    payload = {"n": [1, 2]}
    wf = PairWorkflow.deliver_event("left_arrived", correlation={"pair_id": "p-2"}, payload=payload, store=store)
    stored = store.fetch(wf.execution_id)
    payload["n"].append(3)  # the caller's payload, now the left state's value and in the events
    wf.execution.states["left"].value["n"].append(4)
    wf.execution.workflow["signals"][0]["event"] = "changed"
    for event in wf.execution.bus.events:
        if isinstance(event.payload, dict):
            event.payload.clear()
    fetched = store.fetch(wf.execution_id)
    assert fetched == stored
    fetched["events"][0]["type"] = "changed"
    fetched["states"]["left"]["value"]["n"].append(5)
    assert store.fetch(wf.execution_id) == stored


class _Counted:
    """Counts the node states a save encodes (runtime/snapshot.py encodes a state in one place only)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: list[str] = []
        real = snapshot_module._encode_state

        def counting(execution: Any, name: str, st: Any, *args: Any) -> Any:
            self.names.append(name)
            return real(execution, name, st, *args)

        monkeypatch.setattr(snapshot_module, "_encode_state", counting)


def _computed_graph(size: int) -> type[ig.Contract]:
    """``size`` computed nodes off the input (plain dict values), plus one await and the node that uses it."""
    names = [f"n{i:02d}" for i in range(size)]

    class Wide(ig.Contract):
        def define(c):
            c.correlate_by("key")
            c.input("key", type=str)
            for i, name in enumerate(names):
                c.compute(name, depends_on=["key"], call=lambda key, i=i: {"key": key, "i": i, "tags": ["a", "b"]})
            c.await_event("approval", event="approved", schema=dict)
            c.compute("decision", depends_on=["approval", "n00"], call=lambda approval, n00: {**approval, "n": n00["i"]})
            c.output("decision")
            for name in names:
                c.output(name)

    Wide.__name__ = Wide.__qualname__ = f"Wide{size}"
    return Wide


@pytest.mark.parametrize("size", [8, 40])
def test_a_delivery_encodes_the_states_it_changed_not_the_others(size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    cls = _computed_graph(size)
    store = MemoryStore()
    cls.start(key="w-1", store=store)
    monkeypatch.setattr(completing, "GENERAL_ONLY", True)  # (the general path: a completing delivery encodes no state)
    counted = _Counted(monkeypatch)
    wf = cls.deliver_event("approved", correlation={"key": "w-1"}, payload={"ok": True}, store=store)
    assert wf.workflow_status == "succeeded" and wf.result.decision == {"ok": True, "n": 0}
    assert sorted(counted.names) == ["approval", "decision"]  # the same two at 8 and at 40 computed nodes
    restored = restore_contract(cls, store.fetch(wf.execution_id))
    assert restored.execution.states["n07"].value == {"key": "w-1", "i": 7, "tags": ["a", "b"]}


def test_waiting_awaits_are_not_encoded_again_by_each_delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryStore()
    Docs.start(key="d-1", store=store)
    counted = _Counted(monkeypatch)
    per_delivery = []
    for i in range(12):
        before = len(counted.names)
        Docs.deliver_event(f"doc{i:02d}_arrived", correlation={"key": "d-1"}, payload={"i": i}, store=store)
        per_delivery.append(len(counted.names) - before)
    assert max(per_delivery) <= 2, per_delivery  # the await delivered (and the count it blocks), not the 23 waiting


def test_a_restored_value_changed_in_place_is_saved_as_it_is_now() -> None:
    """A state kept in its stored form shares its plain value with it: a change made in place shows in the next
    snapshot, and one that is no longer plain (a date added) is encoded again, as it always was."""
    store = MemoryStore()
    cls = _computed_graph(2)
    wf = cls.start(key="c-1", store=store)
    contract = restore_contract(cls, store.fetch(wf.execution_id))
    value = contract.execution.states["n01"].value
    value["tags"].append("c")
    assert snapshot_execution(contract.execution)["states"]["n01"]["value"]["tags"] == ["a", "b", "c"]
    value["when"] = dt.date(2026, 1, 2)
    encoded = snapshot_execution(contract.execution)["states"]["n01"]["value"]["when"]
    assert encoded == {"__ig__": "date", "value": "2026-01-02"}
    waiting = contract.execution.states["approval"].value
    waiting.payload["extra"] = 1  # a pending value's payload changed in place: compared, so encoded again
    assert snapshot_execution(contract.execution)["states"]["approval"]["value"]["value"]["payload"]["extra"] == 1


def test_extending_the_log_costs_the_same_however_long_it_is() -> None:
    """Each extension links one node to the one before (nothing is copied); reading walks them without recursion."""
    from igniter_nb.runtime.event_chunks import NO_EVENTS

    log = NO_EVENTS
    for seq in range(1, 3001):
        longer = log.extended([{"seq": seq}])
        assert longer.before is (log if seq > 1 else None) and longer.count == seq and longer.last_seq == seq
        log = longer
    assert log.extended([]) is log
    assert [e["seq"] for e in log.load()] == list(range(1, 3001))
    assert len(log.chunks) == 3000 and "3000 events" in repr(log)
    assert log != EventChunks(log.before, log.chunk, log.count, log.last_seq)  # identity, never a deep comparison


def test_a_snapshot_for_an_agreeing_store_is_taken_when_it_is_built() -> None:
    """Plain values go to such a store without a copy, but the workflow record's own keys are the saver's to set
    after the snapshot is built (its status): the snapshot keeps the ones it was built with, as a copy did."""
    store = MemoryStore()
    wf = PairWorkflow.start(pair_id="p-3", store=store)
    ex = wf.execution
    snap = snapshot_execution(ex, copy=False, event_chunks=True)
    assert type(snap["events"]) is EventChunks
    ex.workflow["status"] = "changed"
    assert snap["workflow"]["status"] == "waiting"


class _PassThrough(ig.Contract):
    """A node whose value is its dependency's very object, and a workflow record holding one signal twice."""

    def define(c):
        c.correlate_by("key")
        c.input("key", type=str)
        c.compute("made", depends_on=["key"], call=lambda key: {"key": key, "tags": ["a"]})
        c.compute("same", depends_on=["made"], call=lambda made: made)
        c.await_event("go", event="go", schema=dict)
        c.compute("done", depends_on=["go", "same"], call=lambda go, same: same)
        c.output("done")


def test_a_stored_snapshot_never_holds_one_container_in_two_places() -> None:
    """Values are copied into the snapshot (never shared with the live execution), so marshal never writes one
    object for two places: what is read back holds as many containers as its JSON has."""
    store = MemoryStore()
    started = _PassThrough.start(key="a-1", store=store)
    assert started.execution.states["same"].value is started.execution.states["made"].value  # shared while it runs
    wf = _PassThrough.deliver_event("go", correlation={"key": "a-1"}, payload={"x": [1]}, store=store)
    for snap in [store.fetch(wf.execution_id), *store.history(wf.execution_id)]:
        states = snap["states"]
        assert states["same"]["value"] is not states["made"]["value"]
        assert states["same"]["value"]["tags"] is not states["made"]["value"]["tags"]
        signals = snap["workflow"]["signals"]
        if signals:
            assert snap["workflow"]["last_external_event"] is not signals[-1]
        payloads = [id(e["payload"]) for e in snap["events"]]
        assert len(payloads) == len(set(payloads))
