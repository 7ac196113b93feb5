"""Inputs at run time: unknown names, missing required inputs (lazy), required/None, defaults per execution."""

from __future__ import annotations

import pytest

import igniter_nb as ig


@ig.contract
def Order(c):
    c.input("order_total", type="numeric")
    c.input("country", type=str)
    c.input("vat_rate", type=float, default=0.2)
    c.input("coupon", required=False)

    @c.compute
    def gross(order_total, vat_rate):
        return order_total * (1 + vat_rate)

    @c.compute
    def where(country):
        return country

    c.output("gross")
    c.output("where")


def test_unknown_inputs_are_rejected_at_construction_with_suggestions():
    with pytest.raises(ig.InputError) as info:
        Order(order_total=1, countri="UA", zzz=1)
    err = info.value
    assert "Unknown inputs: countri, zzz" in str(err)
    assert "did you mean 'country'" in str(err)
    assert err.context["graph"] == "Order"
    assert err.context["unknown"] == ["countri", "zzz"]


def test_missing_required_input_fails_lazily_only_where_needed():
    contract = Order(order_total=100)  # no country: fine until `where` is read
    assert contract.result.gross == pytest.approx(120.0)
    with pytest.raises(ig.InputError, match="Missing required input: country") as info:
        _ = contract.result.where
    err = info.value
    assert err.context["node"] == "country"
    assert err.context["path"] == "country"
    assert err.context["execution_id"] == contract.execution_id
    assert contract.status == "failed"


def test_optional_input_without_default_is_none():
    @ig.contract
    def Opt(c):
        c.input("coupon", required=False)
        c.output("coupon")

    assert Opt().result.coupon is None


def test_wrong_type_is_rejected_at_construction_with_context():
    with pytest.raises(ig.InputError) as info:
        Order(order_total="100", country="UA")
    err = info.value
    assert "Input 'order_total' must be of type numeric, got str" in str(err)
    assert err.context["expected"] == "numeric"
    assert err.context["got"] == "str"
    assert err.context["node"] == "order_total"


def test_wrong_type_on_update():
    contract = Order(order_total=1, country="UA")
    with pytest.raises(ig.InputError, match="must be of type str, got int"):
        contract.update_inputs(country=1)


def test_inputs_property_is_a_copy():
    contract = Order(order_total=1, country="UA")
    contract.inputs["country"] = "XX"
    assert contract.result.where == "UA"
