"""The resolver records ``node_started``/``node_succeeded`` compactly and the bus builds the ``Event`` objects
when the log is read: what a reader sees (order, numbering, fields, times, subscribers) is what an eager log
would have held."""

from __future__ import annotations

import threading
from typing import Any

import igniter_nb as ig


class Chain(ig.Contract):
    def define(c):
        c.input("a", type=int)
        c.compute("b", call=lambda a: a + 1)
        c.compute("c", call=lambda b: b * 2)
        c.compute("d", call=lambda b, c: [b, c])
        c.output("c")
        c.output("d")


def kinds(events: list[ig.Event]) -> list[tuple[str, str | None]]:
    return [(e.type, e.node) for e in events]


def test_recorded_events_are_built_in_order_when_read() -> None:
    chain = Chain(a=1)
    assert chain.result.d == [2, 4]
    bus = chain.execution.bus
    assert bus.recorded, "a plain resolve records its node events without building them"
    assert bus.count() == 10 and bus.last_seq() == 10  # counted without building
    assert bus.recorded
    events = chain.events
    assert not bus.recorded
    assert [e.seq for e in events] == list(range(1, 11))
    assert kinds(events) == [
        ("execution_started", None), ("node_started", "d"), ("node_started", "b"), ("node_started", "a"),
        ("node_succeeded", "a"), ("node_succeeded", "b"), ("node_started", "c"), ("node_succeeded", "c"),
        ("node_succeeded", "d"), ("execution_finished", None),
    ]
    for e in events:
        assert e.execution_id == chain.execution_id
        if e.type == "node_started":
            assert (e.path, e.status, dict(e.payload)) == (e.node, "running", {})
        if e.type == "node_succeeded":
            assert (e.path, e.status, dict(e.payload)) == (e.node, "succeeded", {})
            assert e.timestamp == chain.execution.states[e.node].resolved_at  # type: ignore[index]


def test_recorded_times_follow_the_clock() -> None:
    chain = Chain(a=1)
    assert chain.result.d == [2, 4]
    chain.update_inputs(a=2)
    assert chain.result.d == [3, 6]
    events = chain.events
    times = [e.timestamp for e in events]
    assert times == sorted(times)
    last_run = events[max(i for i, e in enumerate(events) if e.type == "execution_started"):]
    started = {e.node: e.timestamp for e in last_run if e.type == "node_started"}
    done = {e.node: e.timestamp for e in last_run if e.type == "node_succeeded"}
    assert started.keys() == done.keys() == {"b", "c", "d"}
    assert all(started[n] <= done[n] for n in started)


def test_an_event_emitted_while_recorded_ones_wait_is_numbered_after_them() -> None:
    chain = Chain(a=1)
    assert chain.result.c == 4
    bus = chain.execution.bus
    waiting = len(bus.recorded)
    late = bus.emit("note", payload={"n": 1})
    assert late.seq == bus.last_seq() == bus.count()
    events = chain.events
    assert events[-1] is late and [e.seq for e in events] == list(range(1, len(events) + 1))
    assert waiting >= 4


def test_reading_the_log_inside_a_compute_keeps_every_event() -> None:
    seen: list[list[tuple[str, str | None]]] = []
    holder: list[Any] = []

    def reading(b: int) -> int:
        seen.append(kinds(holder[0].events))  # builds what was recorded while the resolver keeps recording
        return b

    class Reader(ig.Contract):
        def define(c):
            c.input("a", type=int)
            c.compute("b", call=lambda a: a + 1)
            c.compute("c", call=lambda b: reading(b))
            c.compute("d", call=lambda c: c + 1)
            c.output("d")

    reader = Reader(a=1)
    holder.append(reader)
    assert reader.result.d == 3
    events = reader.events
    assert seen == [[("execution_started", None), ("node_started", "d"), ("node_started", "c"),
                     ("node_started", "b"), ("node_started", "a"), ("node_succeeded", "a"),
                     ("node_succeeded", "b")]]
    assert [e.seq for e in events] == list(range(1, 11))
    assert kinds(events)[7:] == [("node_succeeded", "c"), ("node_succeeded", "d"), ("execution_finished", None)]


def test_subscribers_and_recorded_events_share_one_order() -> None:
    chain = Chain(a=1)
    assert chain.result.c == 4
    got: list[int] = []
    chain.subscribe(lambda e: got.append(e.seq))
    assert chain.result.d == [2, 4]
    events = chain.events
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert got == [e.seq for e in events if e.seq >= 9] == [9, 10, 11, 12]  # after the first run's 8


def test_concurrent_readers_build_the_recorded_events_once() -> None:
    chain = Chain(a=1)
    assert chain.result.d == [2, 4]
    barrier = threading.Barrier(4)
    lengths: list[int] = []

    def read() -> None:
        barrier.wait(timeout=5)
        lengths.append(len(chain.events))

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5)
    assert lengths == [10, 10, 10, 10]
    assert [e.seq for e in chain.events] == list(range(1, 11))


def test_restoring_drops_what_the_replaced_log_recorded() -> None:
    chain = Chain(a=1)
    assert chain.result.d == [2, 4]
    bus = chain.execution.bus
    bus.replace(chain.execution_id, [])
    assert bus.recorded == [] and chain.events == [] and bus.last_seq() == 0


class Diamond(ig.Contract):
    def define(c):
        c.input("a", type=int)
        c.input("z", type=int)
        c.compute("b", call=lambda a: a + 1)
        c.compute("c", call=lambda b, z: b * z)
        c.compute("d", call=lambda b, c: [b, c])
        c.output("c")
        c.output("d")
        c.output("b")


def fields(events: list[ig.Event]) -> list[tuple[Any, ...]]:
    return [(e.seq, e.type, e.node, e.path, e.status, dict(e.payload or {})) for e in events]


def updated_twice(listen: bool) -> tuple[Diamond, list[ig.Event]]:
    contract = Diamond(a=1, z=2)
    heard: list[ig.Event] = []
    if listen:  # a subscriber: every event is built and emitted as it happens
        contract.subscribe(heard.append)
    assert contract.result.d == [2, 4]
    contract.update_inputs(a=2)
    assert contract.result.d == [3, 6]
    contract.update_inputs(a=3, z=3)  # z finds c and d stale already: only what is fresh is invalidated
    assert contract.result.c == 12
    contract.update_inputs(z=4)
    assert contract.result.d == [4, 16]
    return contract, heard


def test_invalidation_is_recorded_and_reads_as_the_emitted_events() -> None:
    recorded, _ = updated_twice(listen=False)
    emitted, heard = updated_twice(listen=True)
    assert recorded.execution.bus.recorded, "updates and re-reads record without building"
    assert not emitted.execution.bus.recorded
    assert fields(recorded.events) == fields(emitted.events) == fields(heard)
    invalidated = [e for e in recorded.events if e.type == "node_invalidated"]
    assert [(e.node, e.path) for e in invalidated[:5]] == [
        ("b", "b"), ("b", "output.b"), ("c", "c"), ("c", "output.c"), ("d", "d")]
    assert all(e.payload == {"cause": "a"} and e.status == "stale" for e in invalidated[:6])
    assert [(e.node, e.path, e.payload["cause"]) for e in invalidated[-2:]] == [  # d was stale already
        ("c", "c", "z"), ("c", "output.c", "z")]
    times = [e.timestamp for e in recorded.events]
    assert times == sorted(times)
    assert len({e.timestamp for e in invalidated[:6]}) == 1  # one update's invalidations share its clock reading


class Scalars(ig.Contract):
    def define(c):
        c.input("a", type=int)
        c.input("z", type=int)
        c.compute("b", call=lambda a: a + 1)
        c.compute("c", call=lambda b, z: b * z)
        c.compute("d", call=lambda b, c: b + c / 2)
        c.output("c")
        c.output("d")
        c.output("b")


def test_an_update_does_not_build_the_events_of_the_runs_before_it() -> None:
    contract = Scalars(a=1, z=2)
    assert contract.result.d == 4.0
    bus = contract.execution.bus
    assert not bus.pinned  # every recorded state holds an int, a float, a bool or None
    built = len(bus._log)  # what the first run built: its lifecycle events only
    waiting = len(bus.recorded)
    contract.update_inputs(a=2)
    assert len(bus._log) == built  # nothing of the first run was built by the update
    assert len(bus.recorded) == waiting + 7  # input_updated + b, c, d and the outputs reading them
    assert bus.count() == bus.last_seq() == built + waiting + 7
    assert [e.seq for e in contract.events] == list(range(1, bus.count() + 1))


def test_invalidating_from_several_sources_records_the_same_events() -> None:
    from igniter_nb.runtime.invalidation import invalidate_dependents

    logs = []
    for listen in (False, True):
        contract = Diamond(a=1, z=2)
        if listen:
            contract.subscribe(lambda e: None)
        assert contract.result.d == [2, 4]
        assert invalidate_dependents(contract.execution, ("a", "z"), "a") == ["b", "c", "d"]
        logs.append(fields(contract.events))
    assert logs[0] == logs[1]
    assert [row[2:4] for row in logs[0][-6:]] == [("b", "b"), ("b", "output.b"), ("c", "c"), ("c", "output.c"),
                                                 ("d", "d"), ("d", "output.d")]


class Box:
    """A value the log must not keep alive once its node recomputed."""

    def __init__(self, n: int) -> None:
        self.n = n


class Boxes(ig.Contract):
    def define(c):
        c.input("a")
        c.input("z", type=int)
        c.compute("b", call=lambda a: Box(a.n + 1))
        c.compute("c", call=lambda b, z: b.n * z)
        c.output("b")
        c.output("c")


def test_superseded_values_are_not_kept_alive_by_recorded_events() -> None:
    import gc
    import weakref

    contract = Boxes(a=Box(1), z=2)
    assert contract.result.c == 4
    bus = contract.execution.bus
    assert bus.pinned and bus.recorded  # recorded states hold boxes: an invalidation builds them first
    first_input = weakref.ref(contract.execution.states["a"].value)
    first_b = weakref.ref(contract.execution.states["b"].value)
    contract.update_inputs(a=Box(5))
    assert contract.result.c == 12
    gc.collect()
    assert first_input() is None and first_b() is None
    # the stale record of a box-valued node holds no value either, and the log reads as emitted
    contract.update_inputs(a=Box(7))
    assert contract.result.c == 16
    heard: list[ig.Event] = []
    other = Boxes(a=Box(1), z=2)
    other.subscribe(heard.append)
    assert other.result.c == 4
    other.update_inputs(a=Box(5))
    assert other.result.c == 12
    other.update_inputs(a=Box(7))
    assert other.result.c == 16
    mine = [row[1:] for row in fields(contract.events) if row[1] != "input_updated"]
    theirs = [row[1:] for row in fields(heard) if row[1] != "input_updated"]
    assert mine == theirs
    assert [e.seq for e in contract.events] == list(range(1, len(contract.events) + 1))
