"""How a stored value reads in a stepper's table and the store frames: an object by its repr, unquoted, also
when its class is not at hand (a snapshot read over HTTP, or in another process)."""

from __future__ import annotations

import dataclasses

import pydantic

import igniter_nb as ig
from igniter_nb.notebook import html as h
from igniter_nb.notebook.snapshot_view import snapshot_view
from igniter_nb.stores.memory import MemoryStore


class Crm(pydantic.BaseModel):
    name: str
    tier: str


@dataclasses.dataclass
class Point:
    x: int
    y: int


def test_an_object_reads_as_its_repr_not_as_a_quoted_string() -> None:
    assert h.short(Crm(name="Acme", tier="gold")) == "Crm(name='Acme', tier='gold')"
    assert h.short(Point(1, 2)) == "Point(x=1, y=2)"
    assert h.short("plain text") == "plain text"
    assert h.short({"a": [1, 2]}) == '{"a": [1, 2]}'  # plain data stays JSON
    assert h.short({3, 1}) == "[1, 3]"


def test_a_stored_object_whose_class_is_not_imported_reads_as_name_and_fields() -> None:
    states = {
        "crm": {"status": "succeeded", "value": {"__ig__": "pydantic", "class": "not_imported_mod:Crm",
                                                 "data": {"name": "Acme", "tier": "gold"}}},
        "point": {"status": "succeeded", "value": {"__ig__": "dataclass", "class": "not_imported_mod:Point",
                                                   "fields": {"x": 1, "y": {"__ig__": "tuple", "items": [2, 3]}}}},
        "colour": {"status": "succeeded", "value": {"__ig__": "enum", "class": "not_imported_mod:Colour",
                                                    "value": "red"}},
        "broken": {"status": "succeeded", "value": {"__ig__": "pydantic", "class": "x:Y", "data": "no fields"}},
    }
    view = snapshot_view({"states": states})
    assert view["crm"]["value"] == "Crm(name='Acme', tier='gold')"
    assert view["point"]["value"].startswith("Point(x=1, y=")
    assert view["colour"]["value"] == "Colour('red')"
    assert view["broken"]["value"] == "Y(…)"


class CrmFlow(ig.Contract):
    def define(c):
        c.correlate_by("rid")
        c.input("rid", type=str)
        c.await_event("crm", event="crm_received", schema=Crm)

        @c.compute
        def account(crm):
            return f"{crm.name} ({crm.tier})"

        c.output("account")


def test_a_stepper_shows_a_delivered_model_unquoted() -> None:
    store = MemoryStore()
    run = CrmFlow.start({"rid": "r1"}, store=store)
    CrmFlow.deliver_event("crm_received", correlation={"rid": "r1"}, payload={"name": "Acme", "tier": "gold"},
                          store=store)
    stepper = ig.nb.SnapshotStepper(store, execution_id=run.execution_id)
    stepper.goto(1)
    crm = next(change for change in stepper.changes() if change.node == "crm")
    assert crm.value_after == "Crm(name='Acme', tier='gold')", crm
    assert "Crm(name=&#x27;Acme&#x27;, tier=&#x27;gold&#x27;)" in stepper.to_html()
    assert '"Crm(' not in stepper.to_html() and "&quot;Crm(" not in stepper.to_html()
