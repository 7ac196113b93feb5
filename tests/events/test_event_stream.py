"""Events: seq, catalogue types and payloads, order for a -> b -> c, subscribe, raising subscribers."""

from __future__ import annotations

import igniter_nb as ig


@ig.contract
def Chain(c):
    c.input("a", type="integer")

    @c.compute
    def b(a):
        return a + 1

    @c.compute
    def c_(b):
        return b * 2

    c.output("c", source="c_")


def kinds(events):
    return [(e.type, e.node) for e in events]


def test_order_for_a_chain_first_read():
    contract = Chain(a=1)
    assert contract.result.c == 4
    assert kinds(contract.events) == [
        ("execution_started", None),
        ("node_started", "c_"),
        ("node_started", "b"),
        ("node_started", "a"),
        ("node_succeeded", "a"),
        ("node_succeeded", "b"),
        ("node_succeeded", "c_"),
        ("execution_finished", None),
    ]


def test_order_after_update_and_reread():
    contract = Chain(a=1)
    _ = contract.result.c
    start = len(contract.events)
    contract.update_inputs(a=2)
    after_update = contract.events[start:]
    assert [(e.type, e.node, e.path) for e in after_update] == [
        ("input_updated", "a", "a"),
        ("node_invalidated", "b", "b"),
        ("node_invalidated", "c_", "c_"),
        ("node_invalidated", "c", "output.c"),
    ]
    assert after_update[0].payload == {"value": 2}
    assert all(e.payload == {"cause": "a"} and e.status == "stale" for e in after_update[1:])
    mid = len(contract.events)
    assert contract.result.c == 6
    assert kinds(contract.events[mid:]) == [
        ("execution_started", None),
        ("node_started", "c_"),
        ("node_started", "b"),
        ("node_succeeded", "b"),
        ("node_succeeded", "c_"),
        ("execution_finished", None),
    ]


def test_every_event_has_the_fields_and_seq_is_monotonic():
    contract = Chain(a=1)
    _ = contract.result.c
    contract.update_inputs(a=5)
    _ = contract.result.c
    events = contract.events
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    for e in events:
        assert isinstance(e, ig.Event)
        assert e.execution_id == contract.execution_id
        assert isinstance(e.timestamp, float) and e.timestamp > 0
        assert set(e.to_dict()) == {"seq", "type", "execution_id", "node", "path", "status", "payload", "timestamp"}


def test_catalogue_statuses_and_payloads():
    contract = Chain(a=1)
    _ = contract.result.c
    by_type = {e.type: e for e in contract.events}
    assert by_type["execution_started"].payload == {"graph": "Chain", "targets": ["c_"]}
    assert by_type["execution_started"].status is None
    assert by_type["node_started"].status == "running"
    assert dict(by_type["node_started"].payload) == {}
    assert by_type["node_succeeded"].status == "succeeded"
    assert by_type["execution_finished"].payload["graph"] == "Chain"
    assert by_type["execution_finished"].payload["targets"] == ["c_"]


def test_failed_events():
    @ig.contract
    def Fails(c):
        c.input("x")

        @c.compute
        def boom(x):
            raise ValueError("nope")

        c.output("boom")

    contract = Fails(x=1)
    contract.resolve_all()
    failed = [e for e in contract.events if e.type == "node_failed"]
    assert [(e.node, e.status) for e in failed] == [("boom", "failed")]
    assert "ValueError: nope" in failed[0].payload["error"]
    [exec_failed] = [e for e in contract.events if e.type == "execution_failed"]
    assert exec_failed.status == "failed"
    assert "nope" in exec_failed.payload["error"]
    assert exec_failed.payload["targets"] == ["boom"]


def test_pending_and_resumed_events():
    class Later(ig.Executor):
        def call(self, x):
            return self.defer(token="tok", payload={"x": x})

    @ig.contract
    def Waits(c):
        c.input("x")
        c.compute("later", call=Later)
        c.output("later")

    contract = Waits(x=1).resolve_all()
    [pending] = [e for e in contract.events if e.type == "node_pending"]
    assert pending.status == "pending"
    assert pending.payload["token"] == "tok"
    assert pending.payload["payload"] == {"x": 1}
    assert pending.payload["source_node"] == "later"
    contract.resume("later", value=3)
    [resumed] = [e for e in contract.events if e.type == "node_resumed"]
    assert (resumed.node, resumed.status, dict(resumed.payload)) == ("later", "succeeded", {"resumed": True})


def test_event_dict_round_trip():
    contract = Chain(a=1)
    _ = contract.result.c
    for e in contract.events:
        back = ig.Event.from_dict(e.to_dict())
        assert (back.seq, back.type, back.node, back.path, back.status) == (e.seq, e.type, e.node, e.path, e.status)
        assert abs(back.timestamp - e.timestamp) < 1e-3


def test_subscribe_receives_every_later_event_in_order():
    contract = Chain(a=1)
    seen = []
    assert contract.subscribe(seen.append) is contract
    _ = contract.result.c
    assert seen == contract.events


def test_raising_subscriber_never_corrupts_a_node():
    contract = Chain(a=1)

    def bad(event):
        if event.type == "node_succeeded":
            raise RuntimeError("subscriber bug")

    contract.subscribe(bad)
    later = []
    contract.subscribe(later.append)  # subscribers after the bad one still run
    assert contract.result.c == 4
    assert contract.status == "succeeded"
    assert all(st.status == "succeeded" for st in contract.execution.states.values())
    assert len(contract.reaction_errors) == 3  # a, b, c_ succeeded
    err = contract.reaction_errors[0]
    assert isinstance(err.error, RuntimeError)
    assert err.event.type == "node_succeeded"
    assert err.to_dict()["error"] == "RuntimeError: subscriber bug"
    assert later == contract.events


def test_subscriber_must_be_callable():
    import pytest

    with pytest.raises(TypeError):
        Chain(a=1).subscribe("not callable")
