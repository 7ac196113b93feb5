"""Composition: child results, nested outputs, failures and pending children propagating to the parent."""

from __future__ import annotations

import pytest

import igniter_nb as ig


class Pricing(ig.Contract):
    def define(c):
        c.input("order_total", type="numeric")

        @c.compute
        def gross_total(order_total):
            if order_total < 0:
                raise ValueError("negative total")
            return order_total * 1.2

        c.output("gross_total")


class Checkout(ig.Contract):
    def define(c):
        c.input("order_total", type="numeric")
        c.compose("pricing", contract=Pricing, inputs={"order_total": "order_total"})
        c.output("pricing")
        c.export("gross_total", source="pricing")

        @c.compute
        def label(gross_total):
            return f"total={gross_total}"

        c.output("label")


def test_child_result_and_nested_outputs():
    contract = Checkout(order_total=100)
    child = contract.result.pricing
    assert isinstance(child, ig.Result)
    assert child.gross_total == 120.0
    assert contract.result.gross_total == 120.0
    assert contract.result.label == "total=120.0"
    assert contract.result.to_dict() == {"pricing": {"gross_total": 120.0}, "gross_total": 120.0,
                                         "label": "total=120.0"}


def test_succeeded_event_names_the_child_execution():
    contract = Checkout(order_total=100)
    child = contract.result.pricing
    [event] = [e for e in contract.events if e.type == "node_succeeded" and e.node == "pricing"]
    assert event.payload["child_execution_id"] == child.execution_id
    assert event.payload["child_graph"] == "Pricing"
    assert child.execution_id != contract.execution_id


def test_child_events_stay_in_the_child():
    contract = Checkout(order_total=100)
    child = contract.result.pricing
    assert not any(e.node == "gross_total" and e.execution_id == child.execution_id for e in contract.events)
    assert any(e.node == "gross_total" for e in child.contract.events)


def test_child_failure_propagates_with_child_context():
    contract = Checkout(order_total=-1)
    assert contract.status == "failed"
    with pytest.raises(ig.ResolutionError) as info:
        _ = contract.result.gross_total
    err = info.value
    assert err.context["graph"] == "Pricing"
    assert err.context["node"] == "gross_total"
    assert isinstance(err.__cause__, ValueError)
    assert set(contract.result.errors) == {"pricing", "label"}
    with pytest.raises(ig.ResolutionError):
        _ = contract.result.label


def test_child_input_type_error_fails_the_node_not_the_read():
    class Strict(ig.Contract):
        def define(c):
            c.input("n", type="integer")
            c.output("n")

    @ig.contract
    def Loose(c):
        c.input("n")  # untyped, so the compiler cannot check the edge
        c.compose("child", contract=Strict, inputs={"n": "n"})
        c.output("child_n", source="child.n")

    contract = Loose(n="not a number")
    assert contract.status == "failed"
    with pytest.raises(ig.InputError, match="must be of type integer"):
        _ = contract.result.child_n


def test_nested_composition_two_levels():
    @ig.contract
    def Outer(c):
        c.input("order_total", type="numeric")
        c.compose("checkout", contract=Checkout, inputs={"order_total": "order_total"})
        c.output("label", source="checkout.label")
        c.output("checkout")

    contract = Outer(order_total=10)
    assert contract.result.label == "total=12.0"
    assert contract.result.to_dict()["checkout"]["pricing"] == {"gross_total": 12.0}


def test_pending_child_makes_parent_pending_and_resume_reaches_it():
    class Approve(ig.Executor):
        def call(self, amount):
            return self.defer(token="approve-1", payload={"amount": amount})

    class Approval(ig.Contract):
        def define(c):
            c.input("amount")
            c.compute("approved", call=Approve)
            c.output("approved")

    @ig.contract
    def Order(c):
        c.input("amount")
        c.compose("approval", contract=Approval, inputs={"amount": "amount"})
        c.export("approved", source="approval")

        @c.compute
        def summary(approved):
            return f"approved={approved}"

        c.output("summary")

    contract = Order(amount=5)
    assert contract.status == "pending"
    assert contract.execution.states["approval"].status == "pending"
    assert contract.first_deferred().token == "approve-1"
    contract.resume_by_token("approve-1", value=True)
    assert contract.result.summary == "approved=True"
    assert contract.status == "succeeded"
