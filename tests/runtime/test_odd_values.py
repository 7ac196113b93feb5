"""Node values that contain themselves or nest thousands of levels deep: ``result.to_dict()``, ``states``,
``explain``, ``execution.to_dict()`` and the diagnostics report them and never raise (L-05's promise). Before,
each raised ``RecursionError`` (and the diagnostics showed ``Outputs: none``)."""

from __future__ import annotations

import igniter_nb as ig
from igniter_nb.runtime.nested_values import KEEP, MAX_DEPTH, convert


def _contract(kind: str):
    @ig.contract
    def Odd(c):
        c.input("x")

        @c.compute
        def v(x):
            if kind == "list":
                value = [x]
                value.append(value)
            elif kind == "dict":
                value = {"x": x}
                value["self"] = value
            else:
                value = x
                for _ in range(5_000):
                    value = [value]
            return value

        c.output("v")

    return Odd(x=1)


def test_a_list_that_contains_itself_is_reported_with_its_shape():
    contract = _contract("list")
    assert contract.status == "succeeded"
    data = contract.result.to_dict()["v"]
    assert data[0] == 1 and data[1] is data  # the converted list contains itself, as the value does
    shown = contract.states["v"]["value"]
    assert shown[1] is shown
    assert contract.result.explain("v")["value"][0] == 1
    assert contract.execution.to_dict()["states"]["v"]["status"] == "succeeded"
    text = contract.diagnostics.to_text()
    assert "Outputs: v=[1, [...]]" in text


def test_a_dict_that_contains_itself_is_reported():
    contract = _contract("dict")
    data = contract.result.to_dict()["v"]
    assert data["self"] is data
    assert "Outputs: v={'x': 1, 'self': {...}}" in contract.diagnostics.to_text()


def test_a_value_nested_5000_levels_deep_is_reported_without_recursion_error():
    contract = _contract("deep")
    data = contract.result.to_dict()["v"]
    for _ in range(MAX_DEPTH):  # converted down to MAX_DEPTH levels, then kept as it is
        data = data[0]
    assert isinstance(data, list)
    assert contract.states["v"]["status"] == "succeeded"
    contract.result.explain("v")
    contract.execution.to_dict()
    assert "Outputs: v=[[[" in contract.diagnostics.to_text()
    assert "..." in contract.diagnostics.to_markdown()


def test_convert_rebuilds_shared_parts_once_and_converts_leaves():
    shared = [1]
    value = {"a": shared, "b": shared, "t": (shared, 2)}
    out = convert(value, lambda v: "one" if v == 1 and type(v) is int else KEEP)
    assert out == {"a": ["one"], "b": ["one"], "t": (["one"], 2)}
    assert out["a"] is out["b"] is out["t"][0]  # shared stays shared, like copy.deepcopy
