"""Inputs may share a name with a runtime option (``store``, ``now``, ``execution_id``, ``runner``,
``max_workers``, ``executor``): values in the inputs mapping are always inputs, and a keyword that could mean
either is refused instead of being silently read as the option (issue 11, point 13)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore

OPTIONS = ("execution_id", "store", "runner", "max_workers", "executor")
T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)


class Shop(ig.Contract):
    def define(c):
        for name in OPTIONS:
            c.input(name, type=str, default=f"default {name}")

        @c.compute
        def label(store, execution_id, runner, max_workers, executor):
            return "|".join((store, execution_id, runner, max_workers, executor))

        c.output("label")


@pytest.mark.parametrize("option", OPTIONS)
def test_keyword_naming_an_input_and_a_runtime_option_is_refused(option):
    with pytest.raises(ig.InputError) as info:
        Shop(**{option: "order-7"})
    err = info.value
    assert err.context["node"] == option and err.context["option"] == option
    assert err.context["source_location"].startswith(__file__)
    assert f"Shop({{'{option}': ...}})" in err.message


def test_inputs_mapping_always_holds_inputs_and_keywords_are_then_options():
    store = MemoryStore()
    k = Shop({"store": "Kyiv", "execution_id": "order-7", "runner": "r", "max_workers": "m", "executor": "e"},
             store=store, execution_id="exec-1", runner="inline")
    assert k.execution_id == "exec-1"
    assert k.execution.store is store
    assert k.result.label == "Kyiv|order-7|r|m|e"
    only_inputs = Shop({"execution_id": "order-7", "store": "Kyiv"})
    assert only_inputs.execution_id != "order-7"
    assert only_inputs.result.label.startswith("Kyiv|order-7|")
    # Restoring (and restoring from a store) passes options explicitly: defaulted inputs stay defaults.
    fresh = Shop({"store": "Lviv"})
    again = Shop.restore(json.loads(json.dumps(fresh.snapshot())), store=store)
    assert again.execution_id == fresh.execution_id
    assert again.result.label == "Lviv|default execution_id|default runner|default max_workers|default executor"


def visit_summary(store: str, now: str, paid: dict) -> str:
    return f"{store} {now} {paid['amount']}"


class Visit(ig.Contract):
    def define(c):
        c.correlate_by("visit_id")
        c.input("visit_id", type=str)
        c.input("store", type=str)
        c.input("now", type=str, default="morning")
        c.await_event("paid", event="visit_paid")
        c.compute("summary", call=visit_summary)
        c.output("summary")


def test_start_refuses_ambiguous_store_and_now_keywords():
    store = MemoryStore()
    with pytest.raises(ig.InputError, match=r"'store' is both an input of Visit and a runtime option of Visit.start"):
        Visit.start(visit_id="v-1", store="Kyiv")
    with pytest.raises(ig.InputError, match=r"'now' is both an input"):
        Visit.start({"visit_id": "v-1", "store": "Kyiv"}, now=T0, store=store)
    assert store.list() == []  # nothing was written
    wf = Visit.start({"visit_id": "v-1", "store": "Kyiv", "now": "evening"}, store=store, now=T0)
    assert wf.execution.workflow["started_at"].startswith("2030-01-01T12:00:00")
    assert wf.inputs == {"visit_id": "v-1", "store": "Kyiv", "now": "evening"}
    done = Visit.deliver_event("visit_paid", correlation={"visit_id": "v-1"}, payload={"amount": 5}, store=store,
                               now=T0)
    assert done.result.summary == "Kyiv evening 5"


class Branchy(ig.Contract):
    def define(c):
        c.input("store", type=str)
        c.output("store")


class Parent(ig.Contract):
    def define(c):
        c.input("shop", type=str)
        c.input("shops", type=list)
        c.compose("one", contract=Shop, inputs={"store": "shop", "execution_id": "shop"})
        c.branch("pick", selector="shop", cases={"Kyiv": Branchy}, inputs={"store": "shop"})
        c.collection("each", source="shops", each=Shop, key="store")
        c.output("one_label", source="one.label")
        c.output("picked", source="pick.store")
        c.output("each")


def test_children_receive_inputs_named_like_runtime_options():
    k = Parent(shop="Kyiv", shops=[{"store": "Odesa"}, {"store": "Dnipro", "execution_id": "order-9"}])
    assert k.result.one_label.startswith("Kyiv|Kyiv|")
    assert k.result.picked == "Kyiv"
    labels = [item.result.label for item in k.result.each]
    assert labels[0].startswith("Odesa|default execution_id|")
    assert labels[1].startswith("Dnipro|order-9|")
    assert all(item.child_execution_id not in ("order-9", "Kyiv") for item in k.result.each)


def test_schema_round_trip_keeps_inputs_named_like_runtime_options():
    schema = json.loads(json.dumps(Visit.graph.to_schema()))

    class VisitFromSchema(ig.Contract):
        def define(c):
            c.schema(schema)

    assert VisitFromSchema.graph.node("now").kind == "input"
    k = VisitFromSchema({"visit_id": "v-2", "store": "Kyiv", "now": "noon"}, store=MemoryStore())
    k.resume("paid", {"amount": 3})
    assert k.result.summary == "Kyiv noon 3"
