"""Deferred results: pending propagation, `resume`, `resume_by_token`, also through compositions."""

from __future__ import annotations

import pytest

import igniter_nb as ig


class AskHuman(ig.Executor):
    def call(self, amount):
        return self.defer(token=f"ask-{amount}", payload={"amount": amount})


class Approval(ig.Contract):
    def define(c):
        c.input("amount", type="integer")
        c.compute("decision", call=AskHuman)

        @c.compute
        def message(decision, amount):
            return f"{decision}:{amount}"

        c.output("message")
        c.output("decision")


def test_pending_propagates_with_the_same_token():
    contract = Approval(amount=5)
    value = contract.result.message
    assert isinstance(value, ig.DeferredResult)
    assert value.token == "ask-5"
    assert value.source_node == "decision"
    states = contract.execution.states
    assert states["decision"].status == "pending"
    assert states["message"].status == "pending"
    assert states["message"].value.token == "ask-5"
    assert states["message"].waiting_for == ("decision",)
    assert contract.status == "pending"


def test_pending_node_is_not_rerun_by_reads():
    calls = []

    class Counted(ig.Executor):
        def call(self, x):
            calls.append(x)
            return self.defer(token="t")

    @ig.contract
    def Once(c):
        c.input("x")
        c.compute("wait", call=Counted)
        c.output("wait")

    contract = Once(x=1)
    for _ in range(3):
        _ = contract.result.wait
    assert calls == [1]


def test_resume_by_node_name():
    contract = Approval(amount=5).resolve_all()
    assert contract.resume("decision", value="yes") is contract
    assert contract.result.message == "yes:5"
    assert contract.status == "succeeded"
    resumed = [e for e in contract.events if e.type == "node_resumed"]
    assert [(e.node, e.payload["resumed"]) for e in resumed] == [("decision", True)]


def test_resume_by_token():
    contract = Approval(amount=7).resolve_all()
    assert contract.resume_by_token("ask-7", value="no") is contract
    assert contract.result.message == "no:7"


def test_resume_invalidates_dependents_only():
    contract = Approval(amount=5).resolve_all()
    amount_version = contract.execution.states["amount"].version
    contract.resume("decision", value="ok")
    assert contract.execution.states["message"].status == "stale"
    assert contract.execution.states["amount"].version == amount_version


def test_resume_non_pending_node_raises():
    contract = Approval(amount=5).resolve_all()
    with pytest.raises(ig.ResolutionError, match="Node 'amount' is not pending") as info:
        contract.resume("amount", value=1)
    assert info.value.context["node"] == "amount"
    with pytest.raises(ig.ResolutionError, match="not pending"):
        Approval(amount=5).resume("message", value=1)  # never resolved


def test_resume_unknown_token_raises_listing_pending_tokens():
    contract = Approval(amount=5).resolve_all()
    with pytest.raises(ig.ResolutionError, match=r"No pending node found for token 'zzz'.*ask-5"):
        contract.resume_by_token("zzz", value=1)


def test_resume_by_token_through_a_composition():
    @ig.contract
    def Order(c):
        c.input("amount", type="integer")
        c.compose("approval", contract=Approval, inputs={"amount": "amount"})
        c.export("message", source="approval")

    contract = Order(amount=3)
    assert contract.status == "pending"
    assert isinstance(contract.result.message, ig.DeferredResult)
    contract.resume_by_token("ask-3", value="fine")
    assert contract.status == "succeeded"
    assert contract.result.message == "fine:3"


def test_deferred_to_dict_round_trip():
    d = ig.DeferredResult(token="t", payload={"a": 1}, source_node="n")
    assert d.to_dict() == {"token": "t", "payload": {"a": 1}, "source_node": "n"}
    assert ig.DeferredResult.from_dict(d.to_dict()) == d


def test_random_token_when_none_given():
    class Anon(ig.Executor):
        def call(self, x):
            return self.defer()

    @ig.contract
    def Two(c):
        c.input("x")
        c.compute("w", call=Anon)
        c.output("w")

    a, b = Two(x=1).result.w, Two(x=1).result.w
    assert a.token and b.token and a.token != b.token
