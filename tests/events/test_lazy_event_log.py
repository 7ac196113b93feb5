"""A restored execution adopts its stored event log lazily: the events become ``Event`` objects only when read,
new events are numbered after the stored ones, and saving again never needs them decoded."""

from __future__ import annotations

from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.runtime.snapshot import snapshot_execution
from igniter_nb.stores import MemoryStore
from igniter_nb.workflow import completing


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


def test_new_events_follow_the_stored_ones_and_saves_need_no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(completing, "GENERAL_ONLY", True)  # (the general path: it restores, then adds events)
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


class Pair(ig.Contract):
    def define(c):
        c.run_with("threads")
        c.input("a", type=int)
        c.input("b", type=int)
        c.compute("x", depends_on=["a"], call=lambda a: a + 1)
        c.compute("y", depends_on=["b"], call=lambda b: b + 1)
        c.compute("total", depends_on=["x", "y"], call=lambda x, y: x + y)
        c.output("total")


def test_a_subscriber_may_read_a_lazy_log_while_threads_emit() -> None:
    import threading

    restored = Pair.restore(Pair(a=1, b=2).snapshot())
    seen: list[int] = []
    restored.subscribe(lambda e: seen.append(len(restored.events)) if e.type == "node_succeeded" else None)
    restored.update_inputs(a=5)
    worker = threading.Thread(target=restored.resolve_all, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "reading the log from a subscriber deadlocked"
    assert restored.result.total == 9 and seen and seen == sorted(seen)


class Long(ig.Contract):
    def define(c):
        c.input("n", type=int)
        prev = "n"
        for i in range(100):
            c.compute(f"s{i}", depends_on=[prev], call=lambda **kw: sum(kw.values()) + 1)
            prev = f"s{i}"
        c.output(prev)


def test_concurrent_first_reads_load_the_log_once() -> None:
    import sys
    import threading

    snap = Long(n=1).snapshot()
    stored = [e["seq"] for e in snap["events"]]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # makes the race window easy to hit
    try:
        for _ in range(10):
            restored = Long.restore(snap)
            barrier = threading.Barrier(4)

            def read(contract: Any = restored, gate: Any = barrier) -> None:
                gate.wait()
                contract.events  # noqa: B018

            threads = [threading.Thread(target=read) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert [e.seq for e in restored.events] == stored
    finally:
        sys.setswitchinterval(interval)


class Scaled(ig.Contract):
    def define(c):
        c.input("x", type=int)
        c.compute("y", depends_on=["x"], call=lambda x: x * 10)
        c.output("y")


class Big(ig.Contract):
    def define(c):
        c.input("n", type=int)
        c.compute("label", depends_on=["n"], call=lambda n: f"big {n}")
        c.output("label")


class Small(Big):
    pass


def is_big(result: Any) -> bool:
    return bool(result.y > 5)


class Picker(ig.Contract):
    def define(c):
        c.input("x", type=int)
        c.compose("a", contract=Scaled, inputs={"x": "x"})
        c.branch("pick", selector="a", cases=[(is_big, Big)], default=Small, inputs={"n": "x"})
        c.export("label", source="pick")


def test_lazy_events_can_refer_to_restored_child_results() -> None:
    original = Picker(x=1)
    assert original.result.label == "big 1"
    assert any(e.type == "branch_selected" for e in original.events)
    restored = Picker.restore(original.snapshot())
    assert [e.type for e in restored.events] == [e.type for e in original.events]
    selected = next(e for e in restored.events if e.type == "branch_selected")
    assert selected.payload["selector_value"].y == 10
    assert len(restored.audit) == len(original.events)
