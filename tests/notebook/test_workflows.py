"""ig.nb.start_or_restore: start a workflow, or carry on with the active one that has the same correlation."""

from __future__ import annotations

import datetime as dt

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore, SQLStore

NOW = dt.datetime(2026, 4, 1, 8, 0, tzinfo=dt.UTC)


class Parcel(ig.Contract):
    def define(c):
        c.correlate_by("parcel_id")
        c.input("parcel_id", type=str)
        c.await_event("delivered", event="parcel_delivered")
        c.compute("receipt", depends_on=["delivered"], call=lambda delivered: f"signed by {delivered['by']}")
        c.output("receipt")


class Plain(ig.Contract):
    def define(c):
        c.input("x", type="integer")
        c.output("x")


def test_starts_then_restores_the_active_workflow(tmp_path):
    store = SQLStore(f"sqlite:///{tmp_path / 'w.db'}")
    first = ig.nb.start_or_restore(Parcel, parcel_id="p-1", store=store, now=NOW)
    again = ig.nb.start_or_restore(Parcel, {"parcel_id": "p-1"}, store=store, now=NOW)
    assert again.execution_id == first.execution_id and again.workflow_status == "waiting"
    assert len(store.list(graph="Parcel")) == 1 and len(store.history(first.execution_id)) == 1  # nothing written
    with pytest.raises(ig.DuplicateWorkflowError):
        Parcel.start(parcel_id="p-1", store=store, now=NOW)  # what the notebook would hit without it


def test_a_finished_workflow_is_not_restored(tmp_path):
    store = SQLStore(f"sqlite:///{tmp_path / 'w.db'}")
    first = ig.nb.start_or_restore(Parcel, parcel_id="p-1", store=store, now=NOW)
    Parcel.deliver_event("parcel_delivered", correlation={"parcel_id": "p-1"}, payload={"by": "Ann"}, store=store,
                         now=NOW)
    second = ig.nb.start_or_restore(Parcel, parcel_id="p-1", store=store, now=NOW)
    assert second.execution_id != first.execution_id and second.workflow_status == "waiting"


def test_bad_correlation_values_and_arguments_are_refused():
    with pytest.raises(ig.InputError, match="parcel_id"):
        ig.nb.start_or_restore(Parcel, parcel_id="  ", store=MemoryStore())
    with pytest.raises(TypeError, match="contract class"):
        ig.nb.start_or_restore("Parcel", parcel_id="p-1", store=MemoryStore())


def test_a_contract_without_correlation_is_always_started():
    store = MemoryStore()
    a = ig.nb.start_or_restore(Plain, x=1, store=store, now=NOW)
    b = ig.nb.start_or_restore(Plain, x=1, store=store, now=NOW)
    assert a.execution_id != b.execution_id


class _LateStore(MemoryStore):
    """A real store whose first correlation lookup answers as if another process had not saved yet."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden_once = True

    def find_by_correlation(self, graph, correlation):
        if self.hidden_once:
            self.hidden_once = False
            return None
        return super().find_by_correlation(graph, correlation)


def test_a_workflow_started_elsewhere_meanwhile_is_restored():
    store = _LateStore()
    store.hidden_once = False
    other = Parcel.start(parcel_id="p-9", store=store, now=NOW)  # "another process"
    store.hidden_once = True
    mine = ig.nb.start_or_restore(Parcel, parcel_id="p-9", store=store, now=NOW)
    assert mine.execution_id == other.execution_id and len(store.list(graph="Parcel")) == 1
