"""`explain_output` (reference §7.3): a dependency tree read from states, deterministic, resolving nothing."""

from __future__ import annotations

import json
import sys

import pytest
from diagnostics_contracts import Approval, PriceContract

import igniter_nb as ig
from igniter_nb.diagnostics.explain import explain_output, explain_text


def _shape(tree):
    return (tree["name"], tree["status"], [_shape(d) for d in tree["dependencies"]])


def test_explanation_of_a_resolved_output():
    contract = PriceContract(order_total=100, country="UA")
    data = contract.result.explain("gross_total")
    json.dumps(data)
    graph = contract.execution.graph
    assert data["output"] == "gross_total" and data["path"] == "output.gross_total"
    assert data["output_id"] == graph.output("gross_total").id
    assert data["source"] == "gross_total" and data["source_id"] == graph.node("gross_total").id
    assert data["source_path"] == "gross_total"
    assert data["status"] == "succeeded" and data["value"] == 120.0
    assert "child_output" not in data
    tree = data["dependencies"]
    assert _shape(tree) == ("gross_total", "succeeded", [
        ("order_total", "succeeded", []),
        ("vat_rate", "succeeded", [("country", "succeeded", [])]),
    ])
    assert tree["kind"] == "compute" and tree["value"] == 120.0 and tree["error"] is None
    assert tree["source_location"].endswith("diagnostics_contracts.py:19")
    assert set(tree) >= {"id", "name", "path", "kind", "source_location", "status", "invalidated_by", "value",
                         "error", "dependencies"}


def test_explain_output_resolves_nothing():
    contract = PriceContract(order_total=100, country="UA")
    data = explain_output(contract.execution, "gross_total")
    assert contract.events == [] and contract.execution.states == {}
    assert data["status"] is None
    assert _shape(data["dependencies"]) == ("gross_total", None, [
        ("order_total", None, []), ("vat_rate", None, [("country", None, [])])])


def test_stale_and_invalidated_by_after_an_update():
    contract = PriceContract(order_total=100, country="UA")
    contract.resolve_all()
    contract.update_inputs(order_total=150)
    tree = explain_output(contract.execution, "gross_total")["dependencies"]
    assert tree["status"] == "stale" and tree["invalidated_by"] == "order_total"
    assert tree["dependencies"][0]["value"] == 150


def test_shared_dependencies_are_repeated():
    @ig.contract
    def Diamond(c):
        c.input("a")
        c.compute("b", depends_on="a", call=lambda a: a)
        c.compute("c", depends_on="a", call=lambda a: a)
        c.compute("d", depends_on=["b", "c"], call=lambda b, c: b)
        c.output("d")

    tree = Diamond(a=1).result.explain("d")["dependencies"]
    assert _shape(tree) == ("d", "succeeded", [("b", "succeeded", [("a", "succeeded", [])]),
                                               ("c", "succeeded", [("a", "succeeded", [])])])


class Pricing(ig.Contract):
    def define(c):
        c.input("amount", type="numeric")
        c.compute("total", depends_on="amount", call=lambda amount: amount * 2)
        c.output("total")


class Checkout(ig.Contract):
    def define(c):
        c.input("amount", type="numeric")
        c.compose("pricing", contract=Pricing, inputs={"amount": "amount"})
        c.output("total", source="pricing.total")
        c.compute("doubled", depends_on="total", call=lambda total: total * 2)
        c.output("doubled")


def test_nested_output_and_dependencies_read_through_outputs():
    contract = Checkout(amount=5)
    data = contract.result.explain("total")
    assert data["child_output"] == "total" and data["child_output_path"] == "pricing.total"
    assert data["source"] == "pricing" and data["value"] == 10
    assert data["dependencies"]["kind"] == "composition"
    assert data["dependencies"]["value"]["type"] == "result"

    doubled = contract.result.explain("doubled")["dependencies"]
    via = doubled["dependencies"][0]
    assert (via["kind"], via["name"], via["status"], via["value"]) == ("output", "total", "succeeded", 10)
    assert via["dependencies"][0]["name"] == "pricing"


def test_await_nodes_carry_their_event():
    contract = Approval(request_id="r-1")
    contract.resolve_all()
    data = explain_output(contract.execution, "decision")
    approval = data["dependencies"]["dependencies"][0]
    assert approval["event"] == "approval_received" and approval["status"] == "waiting"
    assert data["dependencies"]["waiting_for"] == ["approval"]
    assert "    - await approval waiting event=approval_received" in explain_text(data)


def test_text_form():
    contract = PriceContract(order_total=100, country="UA")
    assert explain_text(contract.result.explain("gross_total")) == "\n".join([
        "Output gross_total <- gross_total (succeeded)",
        "  - compute gross_total succeeded = 120.0",
        "    - input order_total succeeded = 100",
        "    - compute vat_rate succeeded = 0.2",
        "      - input country succeeded = 'UA'",
    ])


def test_unknown_output_raises_key_error():
    with pytest.raises(KeyError):
        explain_output(PriceContract(order_total=1, country="UA").execution, "nope")


def test_deep_chain_is_built_without_recursion():
    @ig.contract
    def Deep(c):
        c.input("n0")
        for i in range(1, sys.getrecursionlimit() + 500):
            c.compute(f"n{i}", depends_on=[f"n{i - 1}"], call=lambda **kw: 1)
        c.output("last", source=f"n{sys.getrecursionlimit() + 499}")

    data = explain_output(Deep(n0=1).execution, "last")
    assert data["dependencies"]["dependencies"][0]["name"] == f"n{sys.getrecursionlimit() + 498}"


def test_updated_input_state_has_resolved_at():
    contract = PriceContract(order_total=100, country="UA")
    contract.resolve_all()
    contract.update_inputs(order_total=150)
    assert contract.execution.states["order_total"].resolved_at is not None
    assert contract.states["order_total"]["resolved_at"] is not None


# ------------------------------------------------------------------ a bounded depth


def _chain(length):
    @ig.contract
    def Chain(c):
        c.input("n0")
        for i in range(1, length):
            c.compute(f"n{i}", depends_on=[f"n{i - 1}"], call=lambda **kw: next(iter(kw.values())) + 1)
        c.output("last", source=f"n{length - 1}")

    return Chain(n0=0)


def _levels(tree):
    depth = 0
    while tree is not None:
        depth += 1
        tree = tree["dependencies"][0] if tree["dependencies"] else None
    return depth


def test_a_deep_chain_is_explained_to_a_bounded_depth_with_the_cut_shown():
    from igniter_nb.diagnostics.explain import MAX_DEPTH

    contract = _chain(5_000)
    data = contract.result.explain("last")  # existing callers get the default
    assert data["value"] == 4_999 and data["max_depth"] == MAX_DEPTH == 50
    assert _levels(data["dependencies"]) == MAX_DEPTH  # it was 5,000 levels
    last = data["dependencies"]
    for _ in range(MAX_DEPTH - 1):
        last = last["dependencies"][0]
    assert last["name"] == "n4950" and last["dependencies"] == [] and last["cut_levels"] == 4_950
    json.dumps(data)  # printable: 5,000 levels passed Python's recursion limit
    assert explain_text(data).splitlines()[-1].strip() == \
        "- … 4950 more levels (explain_output(..., max_depth=None) shows them)"
    whole = explain_output(contract.execution, "last", max_depth=None)
    assert "max_depth" not in whole and _levels(whole["dependencies"]) == 5_000
    assert _levels(explain_output(contract.execution, "last", max_depth=3)["dependencies"]) == 3


def test_a_tree_within_the_depth_is_unchanged():
    contract = _chain(50)
    data = explain_output(contract.execution, "last")
    assert "max_depth" not in data and _levels(data["dependencies"]) == 50
    assert "more levels" not in explain_text(data)
    for bad in (0, -1, True, 2.5, "3"):
        with pytest.raises(ValueError, match="max_depth must be an int >= 1 or None"):
            explain_output(contract.execution, "last", max_depth=bad)


def test_shared_subtrees_are_cut_once_per_depth():
    @ig.contract
    def Lattice(c):
        c.input("a0")
        c.input("b0")
        for i in range(1, 80):  # each level uses both nodes of the level below: 2^80 paths
            c.compute(f"a{i}", depends_on=[f"a{i - 1}", f"b{i - 1}"], call=lambda **kw: 1)
            c.compute(f"b{i}", depends_on=[f"a{i - 1}", f"b{i - 1}"], call=lambda **kw: 1)
        c.output("top", source="a79")

    data = explain_output(Lattice(a0=1, b0=1).execution, "top", max_depth=60)
    assert _levels(data["dependencies"]) == 60 and data["max_depth"] == 60
