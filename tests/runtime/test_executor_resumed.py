"""``Executor.resumed``: a resumed executor node can keep working with the value instead of taking it."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore


class Doubling(ig.Executor):
    """Defers once; on resume returns twice the value, defers again for a negative one, refuses a string."""

    def call(self, base):
        return self.defer(token=f"double-{base}", payload={"base": base})

    def resumed(self, value, deferred, base):
        if isinstance(value, str):
            raise ig.PayloadValidationError(f"expected a number, got {value!r}")
        if value < 0:
            return self.defer(token=f"again-{base}", payload={"previous": value})
        if value == 0:
            raise ValueError("zero is not allowed")
        return (value + base) * 2 + len(deferred.payload)


class Doubled(ig.Contract):
    def define(c):
        c.input("base", type="integer")
        c.compute("doubled", call=Doubling)

        @c.compute
        def shown(doubled):
            return f"= {doubled}"

        c.output("shown")


def test_resumed_executor_computes_the_value_from_the_resume_value():
    contract = Doubled(base=1)
    assert contract.status == "pending"
    contract.resume_by_token("double-1", value=3)
    assert contract.result.shown == "= 9"  # (3 + 1) * 2 + 1 payload key
    types = [e.type for e in contract.events if e.node == "doubled"]
    assert types[-2:] == ["node_succeeded", "node_resumed"]


def test_resumed_executor_may_defer_again_and_be_resumed_twice():
    contract = Doubled(base=2)
    assert contract.status == "pending"
    contract.resume_by_token("double-2", value=-1)
    assert contract.status == "pending"
    assert contract.result.shown.token == "again-2"
    resumed = [e for e in contract.events if e.type == "node_resumed"]
    assert resumed[-1].status == "pending"
    contract.resume_by_token("again-2", value=5)
    assert contract.result.shown == "= 15"  # (5 + 2) * 2 + 1 payload key


def test_refused_resume_value_leaves_the_node_pending():
    contract = Doubled(base=1)
    assert contract.status == "pending"
    before = len(contract.events)
    with pytest.raises(ig.PayloadValidationError) as info:
        contract.resume_by_token("double-1", value="three")
    assert info.value.context["node"] == "doubled"
    assert contract.execution.states["doubled"].status == "pending"
    assert len(contract.events) == before
    contract.resume_by_token("double-1", value=1)
    assert contract.result.shown == "= 5"


def test_an_error_in_resumed_fails_the_node():
    contract = Doubled(base=1)
    assert contract.status == "pending"
    contract.resume_by_token("double-1", value=0)
    assert contract.status == "failed"
    err = contract.execution.states["doubled"].error
    assert isinstance(err, ig.ResolutionError) and "zero is not allowed" in str(err)


def test_plain_executors_still_take_the_resume_value():
    class Plain(ig.Executor):
        def call(self, base):
            return self.defer(token="plain")

    @ig.contract
    def Waiting(c):
        c.input("base")
        c.compute("answer", call=Plain)
        c.output("answer")

    contract = Waiting(base=1)
    assert contract.status == "pending"
    contract.resume_by_token("plain", value="as given")
    assert contract.result.answer == "as given"


class StoredDoubled(ig.Contract):
    def define(c):
        c.run_with("store")
        c.input("base", type="integer")
        c.compute("doubled", call=Doubling)
        c.output("doubled")


def test_resumed_runs_after_a_restore_from_a_store():
    store = MemoryStore()
    contract = StoredDoubled(base=4, store=store)
    assert contract.status == "pending"
    resumed = StoredDoubled.resume_from_store(contract.execution_id, token="double-4", value=1, store=store)
    assert resumed.result.doubled == 11
    assert store.record(contract.execution_id).status == "succeeded"
