"""Bad input (issue 2, item 13): every compile or input error names graph, node, path and the user's source line
in its message — unknown inputs, wrong types, missing required inputs, bad callables and cycles."""

from __future__ import annotations

import sys

import pytest

import igniter_nb as ig


def next_line() -> str:
    frame = sys._getframe(1)
    return f"{__file__}:{frame.f_lineno + 1}"


LINES: dict[str, str] = {}


class Invoice(ig.Contract):
    def define(c):
        LINES["amount"] = next_line()
        c.input("amount", type="numeric")
        LINES["currency"] = next_line()
        c.input("currency", type=str)
        with c.scope("totals"):
            LINES["gross"] = next_line()
            c.compute("gross", call=lambda amount: amount * 1.2)
            LINES["label"] = next_line()
            c.compute("label", call=lambda gross, currency: f"{gross} {currency}")
        c.output("label")


def assert_message(err: Exception, *, graph: str, node: str, path: str, loc: str) -> None:
    text = str(err)
    assert f"graph={graph}" in text, text
    assert f"node={node}" in text, text
    assert f"path={path}" in text, text
    assert f"location={loc}" in text, text
    ctx = err.context  # type: ignore[attr-defined]
    assert (ctx["graph"], ctx["node"], ctx["path"], ctx["source_location"]) == (graph, node, path, loc)


def test_wrong_type_message():
    with pytest.raises(ig.InputError) as info:
        Invoice(amount="12", currency="EUR")
    assert "Input 'amount' must be of type numeric, got str '12'" in str(info.value)
    assert_message(info.value, graph="Invoice", node="amount", path="amount", loc=LINES["amount"])


def test_bool_is_not_numeric_message():
    with pytest.raises(ig.InputError) as info:
        Invoice(amount=True, currency="EUR")
    assert "got bool True" in str(info.value)
    assert_message(info.value, graph="Invoice", node="amount", path="amount", loc=LINES["amount"])


def test_wrong_type_on_update_message():
    contract = Invoice(amount=1, currency="EUR")
    with pytest.raises(ig.InputError) as info:
        contract.update_inputs(currency=978)
    assert "Input 'currency' must be of type str, got int 978" in str(info.value)
    assert_message(info.value, graph="Invoice", node="currency", path="currency", loc=LINES["currency"])
    assert f"execution={contract.execution_id}" in str(info.value)


def test_missing_required_input_message():
    contract = Invoice(amount=10)
    with pytest.raises(ig.InputError) as info:
        _ = contract.result.label
    assert "Missing required input: currency" in str(info.value)
    assert_message(info.value, graph="Invoice", node="currency", path="currency", loc=LINES["currency"])


def test_required_input_given_none_message():
    with pytest.raises(ig.InputError) as info:
        Invoice(amount=None, currency="EUR")
    assert "Input 'amount' is required" in str(info.value)
    assert_message(info.value, graph="Invoice", node="amount", path="amount", loc=LINES["amount"])


def test_unknown_input_message_names_graph_and_inputs():
    with pytest.raises(ig.InputError) as info:
        Invoice(amount=1, currency="EUR", amuont=2)
    text = str(info.value)
    assert "Unknown input: amuont" in text
    assert "did you mean 'amount'" in text
    assert "graph=Invoice" in text


def test_unknown_input_message_names_node_path_and_user_line():
    with pytest.raises(ig.InputError) as info:
        Invoice(amount=1, currency="EUR", amuont=2)
    text = str(info.value)
    assert "node=amuont" in text
    assert "path=amuont" in text
    assert f"location={__file__}:" in text
    contract = Invoice(amount=1, currency="EUR")
    with pytest.raises(ig.InputError) as info:
        contract.update_inputs(curency="USD")
    assert "node=curency" in str(info.value)
    assert f"location={__file__}:" in str(info.value)


def test_user_exception_message_names_node_path_and_line():
    @ig.contract
    def Divide(c):
        c.input("a")
        with c.scope("math"):
            LINES["divide"] = next_line()
            c.compute("ratio", call=lambda a: 1 / a)
        c.output("ratio")

    contract = Divide(a=0)
    with pytest.raises(ig.ResolutionError) as info:
        _ = contract.result.ratio
    assert "ZeroDivisionError: division by zero" in str(info.value)
    assert_message(info.value, graph="Divide", node="ratio", path="math.ratio", loc=LINES["divide"])


def test_bad_callable_undeclared_dependency_message():
    where = {}
    with pytest.raises(ig.ValidationError) as info:

        @ig.contract
        def BadCallable(c):
            c.input("a")
            with c.scope("calc"):
                where["loc"] = next_line()
                c.compute("f", depends_on=["a"], call=lambda a, b: a)
            c.output("f")

    assert "Compute 'f' callable lambda requires undeclared dependencies: b" in str(info.value)
    assert_message(info.value, graph="BadCallable", node="f", path="calc.f", loc=where["loc"])


def test_bad_callable_not_callable_message():
    where = {}
    with pytest.raises(ig.CompileError) as info:

        @ig.contract
        def NotCallable(c):
            c.input("a")
            where["loc"] = next_line()
            c.compute("f", depends_on=["a"], call="not a method")
            c.output("f")

    assert_message(info.value, graph="NotCallable", node="f", path="f", loc=where["loc"])


def test_bad_callable_star_args_message():
    where = {}
    with pytest.raises(ig.CompileError) as info:

        @ig.contract
        def StarArgs(c):
            c.input("a")
            where["loc"] = next_line()
            c.compute("f", depends_on=["a"], call=lambda *values: values)
            c.output("f")

    assert "remove *values" in str(info.value)
    assert_message(info.value, graph="StarArgs", node="f", path="f", loc=where["loc"])


def test_bad_guard_matcher_message():
    where = {}
    with pytest.raises(ig.CompileError) as info:

        @ig.contract
        def BadGuard(c):
            c.input("a")
            where["loc"] = next_line()
            c.guard("g", depends_on="a", matches=123)
            c.output("g")

    assert "`matches=` expects a regular expression" in str(info.value)
    assert_message(info.value, graph="BadGuard", node="g", path="g", loc=where["loc"])


def test_cycle_message():
    where = {}
    with pytest.raises(ig.CycleError) as info:

        @ig.contract
        def Cyclic(c):
            with c.scope("loop"):
                where["loc"] = next_line()
                c.compute("first", depends_on=["second"], call=lambda second: second)
                c.compute("second", depends_on=["first"], call=lambda first: first)
            c.output("first")

    assert "Dependency cycle: first -> second -> first" in str(info.value)
    assert_message(info.value, graph="Cyclic", node="first", path="loop.first", loc=where["loc"])


def test_self_cycle_message():
    where = {}
    with pytest.raises(ig.CycleError) as info:

        @ig.contract
        def SelfCyclic(c):
            c.input("a")
            where["loc"] = next_line()
            c.compute("me", depends_on=["a", "me"], call=lambda a, me: a)
            c.output("me")

    assert "Dependency cycle: me -> me" in str(info.value)
    assert_message(info.value, graph="SelfCyclic", node="me", path="me", loc=where["loc"])
