"""``to_schema()`` emits pure data that ``c.schema`` / ``ig.compile_schema`` turn back into the same graph (L-51)."""

from __future__ import annotations

import json

import pytest

import igniter_nb as ig
from tests.schema_contracts import Every


def _strip_name(schema: dict) -> dict:
    return {k: v for k, v in schema.items() if k != "name"}


def test_schema_is_json_data_and_round_trips_every_keyword_L51() -> None:
    schema = Every.graph.to_schema()
    data = json.loads(json.dumps(schema))  # pure data: survives JSON

    class Again(ig.Contract):
        def define(c):
            c.schema(data)

        def twice(self, n: int) -> int:
            return n * 2

    assert _strip_name(Again.graph.to_schema()) == _strip_name(schema)
    kinds = {n["kind"] for n in schema["nodes"]}
    assert kinds == {"input", "compute", "composition", "branch", "await"}
    assert schema["correlation_keys"] == ["k"]


def test_compiled_schema_runs_like_the_original() -> None:
    data = json.loads(json.dumps(Every.graph.to_schema()))

    class Again(ig.Contract):
        def define(c):
            c.schema(data)

        def twice(self, n: int) -> int:
            return n * 2

    a, b = Every(k="a", n=3, x=[7]), Again(k="a", n=3, x=[7])
    for out in ("d", "p", "v"):
        assert a.result[out] == b.result[out]
    assert b.result.p == 7


def test_compile_schema_keeps_the_schema_name() -> None:
    schema = ig.compile(lambda c: (c.input("a"), c.output("a")), name="Tiny").to_schema()
    assert ig.compile_schema(schema).name == "Tiny"
    assert ig.compile_schema(schema, name="Other").name == "Other"


def test_unnamed_callable_is_reported_when_compiling_a_schema() -> None:
    schema = ig.compile(lambda c: (c.input("a"), c.compute("b", depends_on=["a"], call=lambda a: a),
                                   c.output("b")), name="Lam").to_schema()
    with pytest.raises(ig.CompileError, match="unnamed callable"):
        ig.compile_schema(schema)


def test_type_hints_are_parsed_not_evaluated() -> None:
    schema = ig.compile(lambda c: (c.input("a", type=list[int]), c.output("a")), name="H").to_schema()
    schema["nodes"][0]["type"] = {"hint": "__import__('os').system('true')"}
    with pytest.raises(ig.CompileError, match=r"unsupported part|unknown name"):
        ig.compile_schema(schema)


def test_unknown_contract_name_in_schema_is_a_compile_error() -> None:
    from tests.schema_contracts import Child

    schema = ig.compile(lambda c: (c.input("a", type="integer"), c.compose("child", contract=Child, inputs={"v": "a"}),
                                   c.export("v", source="child")), name="Comp").to_schema()
    for node in schema["nodes"]:
        if node["kind"] == "composition":
            node["contract"] = "NoSuchContract"
    with pytest.raises(ig.CompileError, match="NoSuchContract"):
        ig.compile_schema(schema)
