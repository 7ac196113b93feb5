"""Snapshots reuse what did not change (encoded states and events kept per execution) without ever letting a
caller's dict and an execution share data."""

from __future__ import annotations

import copy
import datetime as dt

import igniter_nb as ig
from igniter_nb.runtime import codec
from igniter_nb.runtime.snapshot import snapshot_execution
from igniter_nb.stores import MemoryStore


class Pricing(ig.Contract):
    def define(c):
        c.input("amount", type=int)
        c.input("country", type=str)
        c.compute("net", depends_on=["amount"], call=lambda amount: {"net": amount, "tags": ["a"]})
        c.compute("label", depends_on=["country"], call=lambda country: f"for {country}")
        c.output("net")
        c.output("label")


def test_public_snapshots_are_private_copies() -> None:
    contract = Pricing(amount=10, country="UA")
    first = contract.snapshot()
    first["states"]["net"]["value"]["tags"].append("changed by caller")
    first["events"][0]["type"] = "changed by caller"
    second = contract.snapshot()
    assert second["states"]["net"]["value"] == {"net": 10, "tags": ["a"]}
    assert second["events"][0]["type"] != "changed by caller"


def test_unchanged_states_reuse_their_encoding_and_changed_ones_are_encoded_again() -> None:
    contract = Pricing(amount=10, country="UA")
    contract.resolve_all()
    ex = contract.execution
    a = snapshot_execution(ex, copy=False)
    contract.update_inputs(amount=20)
    contract.resolve_all()
    b = snapshot_execution(ex, copy=False)
    assert b["states"]["label"] is a["states"]["label"]  # the same NodeState: the same encoded dict
    assert b["states"]["net"] is not a["states"]["net"]
    assert b["states"]["net"]["value"] == {"net": 20, "tags": ["a"]}
    assert a["states"]["net"]["value"] == {"net": 10, "tags": ["a"]}  # an earlier snapshot never changes


def test_restoring_a_callers_dict_copies_it() -> None:
    store = MemoryStore()
    contract = Pricing(amount=10, country="UA")
    snap = contract.snapshot()
    restored = Pricing.restore(snap, store=store)
    snap["states"]["net"]["value"]["net"] = -1
    snap["events"].clear()
    again = restored.snapshot()
    assert again["states"]["net"]["value"] == {"net": 10, "tags": ["a"]}
    assert len(again["events"]) == len(contract.events)
    assert restored.result.net == {"net": 10, "tags": ["a"]}


def test_decode_shared_copies_only_the_path_to_a_tag_and_never_changes_its_input() -> None:
    plain = {"a": [1, {"b": 2}], "c": {"d": "e"}}
    assert codec.decode_shared(plain) is plain
    when = dt.date(2026, 1, 2)
    data = {"keep": {"x": [1, 2]}, "dated": [1, {"on": codec.encode(when)}]}
    before = copy.deepcopy(data)
    decoded = codec.decode_shared(data)
    assert decoded == {"keep": {"x": [1, 2]}, "dated": [1, {"on": when}]}
    assert decoded["keep"] is data["keep"] and decoded is not data
    assert data == before, "the input must not change"
