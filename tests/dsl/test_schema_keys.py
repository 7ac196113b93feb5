"""A schema with keys the schema form does not know is rejected, naming the key and where it is — never
compiled into a smaller graph that fails later with a misleading message (issue 11, point 16)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

import igniter_nb as ig
from tests.schema_contracts import Every

SCHEMA: dict[str, Any] = json.loads(json.dumps(Every.graph.to_schema()))


def _node(schema: dict[str, Any], name: str) -> tuple[int, dict[str, Any]]:
    return next((i, n) for i, n in enumerate(schema["nodes"]) if n["name"] == name)


def _compile(schema: dict[str, Any]) -> Any:
    class FromData(ig.Contract):
        def define(c):
            c.schema(schema)

        def twice(self, n: int) -> int:
            return n * 2

    return FromData


def test_schema_in_another_layout_is_rejected_naming_its_keys():
    other = {"name": "Price", "inputs": [{"name": "total"}], "computes": [{"name": "gross", "deps": ["total"]}],
             "outputs": [{"name": "gross"}]}
    with pytest.raises(ig.ValidationError) as info:
        ig.compile_schema(other)
    err = info.value
    assert "unknown keys 'inputs', 'computes'" in err.message
    assert err.context["schema_path"] == "(top level)"
    assert err.context["unknown"] == ["inputs", "computes"]
    assert err.context["graph"] == "Price"


def test_unknown_node_key_names_the_node_path_and_the_closest_key():
    schema = copy.deepcopy(SCHEMA)
    i, node = _node(schema, "d")
    node["dependson"] = node.pop("depends_on")
    with pytest.raises(ig.ValidationError) as info:
        ig.compile_schema(schema)
    err = info.value
    assert err.context["schema_path"] == f"nodes[{i}] ('d')"
    assert err.context["node"] == "d"
    assert "'dependson' -> did you mean 'depends_on'?" in str(err)


@pytest.mark.parametrize(
    ("node_name", "key", "bad", "where", "hint"),
    [
        ("p", "project", "sorce", ".project", "source"),
        ("g", "guard", "oneof", ".guard", "one_of"),
        ("items", "const", "factori", ".const", "factory"),
        ("m", "call", "methd", ".call", "method"),
        ("x", "type", "hints", ".type", "hint"),
        ("signup", "schema", "klass", ".schema", "class"),
    ],
)
def test_unknown_nested_keys_are_rejected_with_their_path(node_name, key, bad, where, hint):
    schema = copy.deepcopy(SCHEMA)
    i, node = _node(schema, node_name)
    inner = node[key]
    first = next(iter(inner))
    inner[bad] = inner.pop(first)
    with pytest.raises(ig.ValidationError) as info:
        _compile(schema)
    assert info.value.context["schema_path"] == f"nodes[{i}] ({node_name!r}){where}"
    assert f"did you mean '{hint}'" in str(info.value)


def test_unknown_keys_in_branch_cases_outputs_and_run_with_are_rejected():
    schema = copy.deepcopy(SCHEMA)
    i, route = _node(schema, "route")
    route["cases"][1]["contrakt"] = route["cases"][1].pop("contract")
    with pytest.raises(ig.ValidationError, match=r"did you mean 'contract'") as info:
        _compile(schema)
    assert info.value.context["schema_path"] == f"nodes[{i}] ('route').cases[1]"

    schema = copy.deepcopy(SCHEMA)
    schema["outputs"][0]["soruce"] = schema["outputs"][0].pop("source")
    with pytest.raises(ig.ValidationError, match=r"did you mean 'source'") as info:
        _compile(schema)
    assert info.value.context["schema_path"] == "outputs[0]"

    schema = copy.deepcopy(SCHEMA)
    schema["run_with"] = {"runner": "threads", "max_worker": 4}
    with pytest.raises(ig.ValidationError, match=r"did you mean 'max_workers'") as info:
        _compile(schema)
    assert info.value.context["schema_path"] == "run_with"


def test_missing_and_mistyped_schema_parts_are_clear_errors_not_key_errors():
    schema = copy.deepcopy(SCHEMA)
    i, _ = _node(schema, "child")
    del schema["nodes"][i]["contract"]
    with pytest.raises(ig.ValidationError, match=r"missing 'contract'"):
        _compile(schema)

    schema = copy.deepcopy(SCHEMA)
    del schema["nodes"][0]["name"]
    with pytest.raises(ig.ValidationError, match=r"nodes\[0\]: missing 'name'"):
        _compile(schema)

    with pytest.raises(ig.ValidationError, match=r"nodes: must be a list, got dict"):
        ig.compile_schema({"name": "X", "nodes": {"a": {"kind": "input"}}})
    with pytest.raises(ig.ValidationError, match=r"unknown kind 'inputs'"):
        ig.compile_schema({"name": "X", "nodes": [{"kind": "inputs", "name": "a"}]})
    with pytest.raises(ig.ValidationError, match=r"unknown role 'guardian'"):
        ig.compile_schema({"name": "X", "nodes": [{"kind": "compute", "name": "a", "role": "guardian"}]})


def test_every_key_to_schema_emits_is_still_accepted():
    again = _compile(copy.deepcopy(SCHEMA))
    assert {k: v for k, v in again.graph.to_schema().items() if k != "name"} == \
        {k: v for k, v in SCHEMA.items() if k != "name"}
