"""A caller's payload or input object is never shared with what the engine returns or keeps: after
``wf = deliver_event(..., payload=p)`` (or ``start(inputs)``), changing ``p`` — or a list or dict nested in it —
changes neither ``wf`` (the await's value, what its dependents computed) nor the stored record, on every path:
quiet, completing, general, an idempotent replay, a start; on the memory and SQLite stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore, SQLStore
from igniter_nb.workflow import quiet


class Joined(ig.Contract):
    """Two awaits joined: the first delivery is quiet, the second completes the join."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        c.correlate_by("key")
        c.input("key", type=str)
        c.await_event("a", event="a_arrived")
        c.await_event("b", event="b_arrived")
        c.compute("joined", depends_on=["a", "b"], call=lambda a, b: {"a": a, "b": b})
        c.output("joined")


class Tagged(ig.Contract):
    """An input that is not a correlation key and holds a list (never a fast path: inputs must be scalars)."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        c.correlate_by("key")
        c.input("key", type=str)
        c.input("tags")
        c.await_event("a", event="a_arrived")
        c.compute("seen", depends_on=["a", "tags"], call=lambda a, tags: [a, tags])
        c.output("seen")


class Order(pydantic.BaseModel):
    lines: list[Any]


class Modelled(ig.Contract):
    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        c.correlate_by("key")
        c.input("key", type=str)
        c.await_event("order", event="ordered", schema=Order)
        c.await_event("notes", event="noted", schema=dict[str, Any])
        c.compute("both", depends_on=["order", "notes"], call=lambda order, notes: [order.lines, notes])
        c.output("both")


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    opened = MemoryStore() if request.param == "memory" else SQLStore(f"sqlite:///{tmp_path / 'wf.db'}")
    yield opened
    opened.close()


def _stored(cls: Any, wf: Any, store: Any) -> Any:
    return cls.restore_from_store(wf.execution_id, store=store)


def test_quiet_and_completing_deliveries_keep_no_payload_of_the_caller(
        store: Any, count_quiet: list[int], count_completing: dict[str, int]) -> None:
    Joined.start({"key": "k"}, store=store)
    first = {"n": [1], "inner": {"x": 1}}
    wf = Joined.deliver_event("a_arrived", correlation={"key": "k"}, payload=first, store=store)
    assert count_quiet == [1]
    first["n"].append(2)
    first["inner"]["x"] = 99
    assert wf.execution.states["a"].value == {"n": [1], "inner": {"x": 1}}
    second = {"m": [1]}
    wf = Joined.deliver_event("b_arrived", correlation={"key": "k"}, payload=second, store=store)
    assert count_completing["applied"] == 1
    second["m"].append(2)
    assert wf.execution.states["b"].value == {"m": [1]}
    assert wf.result.joined == {"a": {"n": [1], "inner": {"x": 1}}, "b": {"m": [1]}}
    assert _stored(Joined, wf, store).result.joined == wf.result.joined


def test_general_path_keeps_no_payload_of_the_caller(store: Any, monkeypatch: pytest.MonkeyPatch,
                                                      count_quiet: list[int]) -> None:
    monkeypatch.setattr(quiet, "GENERAL_ONLY", True)
    Joined.start({"key": "k"}, store=store)
    first = {"n": [1]}
    wf = Joined.deliver_event("a_arrived", correlation={"key": "k"}, payload=first, store=store)
    first["n"].append(2)  # the contract returned held this very list before the fix
    assert count_quiet == [0]
    assert wf.execution.states["a"].value == {"n": [1]}
    assert _stored(Joined, wf, store).execution.states["a"].value == {"n": [1]}
    # and the other way: changing what the contract shows does not change the caller's object
    wf.execution.states["a"].value["n"].append(3)
    assert first == {"n": [1, 2]}
    second = {"m": [1]}
    wf = Joined.deliver_event("b_arrived", correlation={"key": "k"}, payload=second, store=store)
    second["m"].append(2)
    assert wf.result.joined == {"a": {"n": [1]}, "b": {"m": [1]}}
    assert _stored(Joined, wf, store).result.joined == {"a": {"n": [1]}, "b": {"m": [1]}}


def test_idempotent_replay_keeps_no_payload_of_the_caller(store: Any) -> None:
    Joined.start({"key": "k"}, store=store)
    Joined.deliver_event("a_arrived", correlation={"key": "k"}, payload={"n": [1]}, store=store, idempotency_key="i")
    again = {"n": [1]}
    wf = Joined.deliver_event("a_arrived", correlation={"key": "k"}, payload=again, store=store, idempotency_key="i")
    again["n"].append(2)
    assert wf.execution.states["a"].value == {"n": [1]}


def test_start_keeps_no_input_of_the_caller(store: Any) -> None:
    tags = {"t": [1]}
    wf = Tagged.start({"key": "k", "tags": tags}, store=store)
    tags["t"].append(2)
    assert wf.inputs["tags"] == {"t": [1]}
    payload = {"p": [1]}
    wf = Tagged.deliver_event("a_arrived", correlation={"key": "k"}, payload=payload, store=store)
    payload["p"].append(2)
    tags["t"].append(3)
    assert wf.result.seen == [{"p": [1]}, {"t": [1]}]
    assert _stored(Tagged, wf, store).result.seen == [{"p": [1]}, {"t": [1]}]


def test_schema_payloads_keep_nothing_of_the_caller(store: Any) -> None:
    Modelled.start({"key": "k"}, store=store)
    order = Order(lines=[{"sku": "a"}])
    wf = Modelled.deliver_event("ordered", correlation={"key": "k"}, payload=order, store=store)
    order.lines[0]["sku"] = "changed"
    order.lines.append("more")
    assert wf.execution.states["order"].value.lines == [{"sku": "a"}]
    notes = {"who": ["ann"]}  # (validated as dict[str, Any]: the nested list is the caller's unless copied)
    wf = Modelled.deliver_event("noted", correlation={"key": "k"}, payload=notes, store=store)
    notes["who"].append("bob")
    assert wf.result.both == [[{"sku": "a"}], {"who": ["ann"]}]
    assert _stored(Modelled, wf, store).result.both == [[{"sku": "a"}], {"who": ["ann"]}]


def test_resume_from_store_keeps_no_value_of_the_caller(store: Any) -> None:
    """A worker resuming an await by its token (``resume_from_store``, an RQ resume job) gives the value as a
    delivery does: the contract returned holds its own copy."""
    wf = Joined.start({"key": "k"}, store=store)
    token = wf.execution.states["a"].value.token
    given = {"n": [1]}
    resumed = Joined.resume_from_store(wf.execution_id, token, given, store=store)
    given["n"].append(2)
    assert resumed.execution.states["a"].value == {"n": [1]}
    assert _stored(Joined, wf, store).execution.states["a"].value == {"n": [1]}
