"""The audit timeline: events as history, `snapshot()` with states and child timelines."""

from __future__ import annotations

import json

import igniter_nb as ig


class Child(ig.Contract):
    def define(c):
        c.input("n")
        c.compute("sq", call=lambda n: n * n)
        c.output("sq")


@ig.contract
def Parent(c):
    c.input("n", type="integer")
    c.compose("child", contract=Child, inputs={"n": "n"})
    c.export("sq", source="child")

    @c.compute
    def fails(n):
        raise ValueError("nope")

    c.output("fails")


def test_timeline_lists_events():
    contract = Parent(n=3)
    contract.resolve_all()
    audit = contract.audit
    assert len(audit) == len(contract.events)
    assert audit.events == contract.events
    assert audit.events is not contract.events  # a copy
    assert [e.seq for e in audit] == [e.seq for e in contract.events]


def test_snapshot_structure():
    contract = Parent(n=3)
    contract.resolve_all()
    snap = contract.audit.snapshot()
    assert snap["execution_id"] == contract.execution_id
    assert snap["graph"] == "Parent"
    assert snap["event_count"] == len(contract.events)
    assert [e["seq"] for e in snap["events"]] == list(range(1, len(contract.events) + 1))
    assert snap["states"]["child"]["status"] == "succeeded"
    assert snap["states"]["child"]["value"]["type"] == "result"
    assert snap["states"]["fails"]["status"] == "failed"
    assert "nope" in snap["states"]["fails"]["error"]
    [child] = snap["children"]
    assert child["node"] == "child"
    assert child["snapshot"]["graph"] == "Child"
    assert child["snapshot"]["states"]["sq"]["value"] == 9
    json.dumps(snap)  # plain data


def test_snapshot_of_fresh_contract_is_empty():
    snap = Parent(n=1).audit.snapshot()
    assert snap["event_count"] == 0
    assert snap["events"] == []
    assert snap["states"] == {}
    assert snap["children"] == []
