"""Snapshots reuse the encoded event log and restores take over a store's fresh dict, without ever letting a
caller's dict and an execution share data."""

from __future__ import annotations

import collections
import copy
import datetime as dt
import decimal
import enum
import json
import types

import pytest

import igniter_nb as ig
from igniter_nb.runtime import codec
from igniter_nb.stores import MemoryStore


class Pricing(ig.Contract):
    def define(c):
        c.input("amount", type=int)
        c.input("country", type=str)
        c.compute("net", depends_on=["amount"], call=lambda amount: {"net": amount, "tags": ["a"]})
        c.compute("label", depends_on=["country"], call=lambda country: f"for {country}")
        c.output("net")
        c.output("label")


class Order(ig.Contract):
    def define(c):
        c.run_with("store")
        c.input("rate", type=int)
        c.compute("base", depends_on=[], call=lambda: {"lines": [1, 2]})

        @c.compute
        def enriched(base, rate):
            base["rate"] = decimal.Decimal(rate)  # changes an upstream value in place (not recommended)
            return sorted(base)

        c.output("base")
        c.output("enriched")


def test_public_snapshots_are_private_copies() -> None:
    contract = Pricing(amount=10, country="UA")
    first = contract.snapshot()
    first["states"]["net"]["value"]["tags"].append("changed by caller")
    first["events"][0]["type"] = "changed by caller"
    second = contract.snapshot()
    assert second["states"]["net"]["value"] == {"net": 10, "tags": ["a"]}
    assert second["events"][0]["type"] != "changed by caller"


def test_a_value_changed_in_place_after_a_restore_is_saved_encoded() -> None:
    store = MemoryStore()
    first = Order(rate=3, store=store)
    assert first.result.base == {"lines": [1, 2]}  # only `base` runs, and is saved
    restored = Order.restore_from_store(first.execution_id, store=store)
    assert restored.result.enriched == ["lines", "rate"]  # `enriched` adds a Decimal to `base` in place
    stored = store.fetch(first.execution_id)["states"]["base"]["value"]
    assert stored == {"lines": [1, 2], "rate": {"__ig__": "decimal", "value": "3"}}
    assert store.history(first.execution_id)[0]["states"]["base"]["value"] == {"lines": [1, 2]}


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


class Flag(enum.StrEnum):
    ON = "on"


def test_restore_accepts_any_mapping_and_json_scalar_subclasses() -> None:
    snap = Pricing(amount=10, country="UA").snapshot()
    ordered = json.loads(json.dumps(snap), object_pairs_hook=collections.OrderedDict)
    for given in (types.MappingProxyType(snap), ordered, {**snap, "note": Flag.ON}):
        assert Pricing.restore(given).result.net == {"net": 10, "tags": ["a"]}


def test_restore_names_what_is_not_json_data() -> None:
    snap = Pricing(amount=10, country="UA").snapshot()
    snap["note"] = {"when": object()}
    with pytest.raises(ig.SnapshotEncodingError, match=r"object at snapshot\.note\.when"):
        Pricing.restore(snap)
