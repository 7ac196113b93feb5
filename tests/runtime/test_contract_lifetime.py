"""A contract and its execution form no reference cycle: dropping the contract frees it at once (reference
counting), which keeps the garbage collector out of busy workflow services."""

from __future__ import annotations

import gc
import weakref

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore


class Shipping(ig.Contract):
    def define(c):
        c.input("weight", type=float)
        c.compute("price", depends_on=["weight"], call=lambda weight: weight * 2)
        c.output("price")


class Parcel(ig.Contract):
    def define(c):
        c.correlate_by("parcel_id")
        c.input("parcel_id", type=str)
        c.await_event("scan", event="scanned", schema=dict)

        @c.compute
        def location(scan):
            return scan["at"]

        c.output("location")


@pytest.fixture
def no_gc():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_a_dropped_contract_is_freed_without_the_garbage_collector(no_gc) -> None:
    contract = Shipping(weight=2.0)
    assert contract.result.price == 4.0
    ref = weakref.ref(contract)
    execution_ref = weakref.ref(contract.execution)
    del contract
    assert ref() is None and execution_ref() is None


def test_a_delivered_workflow_is_freed_without_the_garbage_collector(no_gc) -> None:
    store = MemoryStore()
    Parcel.start(parcel_id="p-1", store=store)
    done = Parcel.deliver_event("scanned", correlation={"parcel_id": "p-1"}, payload={"at": "Kyiv"}, store=store)
    assert done.result.location == "Kyiv"
    ref = weakref.ref(done)
    del done
    assert ref() is None


def test_a_result_keeps_its_contract_alive() -> None:
    result = Shipping(weight=1.5).result
    gc.collect()
    assert result.price == 3.0 and result.contract.execution is result.execution


def test_an_execution_whose_contract_is_gone_says_so() -> None:
    execution = Shipping(weight=1.0).execution
    gc.collect()
    with pytest.raises(ReferenceError, match="keep a reference to the contract"):
        execution.contract  # noqa: B018


def test_a_report_of_an_execution_without_its_contract_still_works() -> None:
    from igniter_nb.diagnostics.report import Report

    contract = Shipping(weight=3.0)
    contract.resolve_all()
    execution = contract.execution
    del contract
    gc.collect()
    report = Report(execution)
    assert report.to_dict()["outputs"]["price"] == 6.0
