"""A restored execution adopts its stored event log lazily: the events become ``Event`` objects only when read,
new events are numbered after the stored ones, and saving again never needs them decoded."""

from __future__ import annotations

from typing import Any

import igniter_nb as ig
from igniter_nb.runtime.snapshot import snapshot_execution
from igniter_nb.stores import MemoryStore


class Ticket(ig.Contract):
    def define(c):
        c.correlate_by("ticket_id")
        c.input("ticket_id", type=str)
        c.await_event("approval", event="approved", schema=dict)

        @c.compute
        def closed(approval):
            return {"by": approval["by"], "tags": ["done"]}

        c.output("closed")


def started() -> tuple[MemoryStore, Any]:
    store = MemoryStore()
    wf = Ticket.start(ticket_id="t-1", store=store)
    return store, wf


def test_restored_log_is_not_built_until_read() -> None:
    store, wf = started()
    stored = store.fetch(wf.execution_id)
    restored = Ticket.restore(stored)
    bus = restored.execution.bus
    assert bus.unloaded == len(stored["events"]) and bus.log == []
    assert bus.count() == len(stored["events"]) and bus.last_seq() == stored["events"][-1]["seq"]
    events = restored.events  # reading materialises them, once
    assert bus.unloaded == 0
    assert [e.seq for e in events] == [e["seq"] for e in stored["events"]]
    assert [e.type for e in events] == [e["type"] for e in stored["events"]]
    assert all(e.execution_id == wf.execution_id for e in events)


def test_new_events_follow_the_stored_ones_and_saves_need_no_decoding() -> None:
    store, _wf = started()
    done = Ticket.deliver_event("approved", correlation={"ticket_id": "t-1"}, payload={"by": "ann"}, store=store)
    bus = done.execution.bus
    assert bus.unloaded > 0, "a delivery must not have decoded the stored log"
    first_new = bus.log[0].seq
    assert first_new == bus.unloaded + 1
    saved = store.fetch(done.execution_id)["events"]
    assert [e["seq"] for e in saved] == list(range(1, len(saved) + 1))
    # the same log, read after materialising, gives the same snapshot events
    before = snapshot_execution(done.execution)["events"]
    assert [e.seq for e in done.events] == list(range(1, len(saved) + 1))
    after = snapshot_execution(done.execution)["events"]
    assert before == after == saved


def test_live_events_never_share_dicts_with_the_store() -> None:
    store, wf = started()
    restored = Ticket.restore_from_store(wf.execution_id, store=store)
    started_event = next(e for e in restored.events if e.type == "workflow_started")
    started_event.payload["correlation"]["ticket_id"] = "changed in memory"
    assert store.fetch(wf.execution_id)["events"][0]["payload"]["correlation"] == {"ticket_id": "t-1"}


def test_a_replaced_log_is_encoded_again() -> None:
    store, wf = started()
    restored = Ticket.restore_from_store(wf.execution_id, store=store)
    bus = restored.execution.bus
    bus.replace(restored.execution_id, restored.events[:2])
    assert [e["seq"] for e in snapshot_execution(restored.execution)["events"]] == [1, 2]
    assert restored.execution.bus.emit("custom").seq == 3
