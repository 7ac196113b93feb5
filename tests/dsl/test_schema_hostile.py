"""Schemas written by hand, wrong: each mistake is a CompileError/ValidationError saying where, never a raw
TypeError from deep inside, and never a quietly different graph."""

from __future__ import annotations

import pytest

import igniter_nb as ig


def _schema(*nodes, outputs=("a",)):
    return {"nodes": [{"kind": "input", "name": "a"}, *nodes], "outputs": [{"name": o} for o in outputs]}


@pytest.mark.parametrize(("schema", "words"), [
    ([1, 2], "must be a dict"),
    (_schema({"kind": "compute", "name": "b", "depends_on": 5, "call": "builtins:str"}), "depends_on"),
    (_schema({"kind": "compute", "name": "b", "depends_on": ["a", 7], "call": "builtins:str"}), "depends_on"),
    (_schema({"kind": "remote", "name": "r", "contract": "X", "node": "http://h", "inputs": ["a"]}), "inputs"),
    (_schema({"kind": "composition", "name": "k", "contract": "X", "inputs": "a"}), "inputs"),
    ({"nodes": [{"kind": "input", "name": "a", "metadata": {"type": "integer"}}], "outputs": [{"name": "a"}]},
     "metadata"),
    ({"nodes": [{"kind": "input", "name": "a", "metadata": {"name": "zz"}}], "outputs": [{"name": "a"}]},
     "metadata"),
    ({"nodes": [{"kind": "input", "name": "a", "required": "false"}], "outputs": [{"name": "a"}]}, "required"),
    ({"nodes": [{"kind": "input", "name": "a", "type": {"hint": "int[str]"}}], "outputs": [{"name": "a"}]},
     "int[str]"),
    ({"nodes": [{"kind": "input", "name": "a", "type": {"hint": "None | 3"}}], "outputs": [{"name": "a"}]},
     "None | 3"),
    (_schema({"kind": "compute", "name": "b", "depends_on": ["a"], "call": "..:f"}), "..:f"),
    (_schema({"kind": "compute", "name": "b", "depends_on": ["a"], "call": "os:sep"}, outputs=("b",)),
     "not callable"),
])
def test_a_bad_schema_is_a_compile_error_saying_what(schema, words):
    with pytest.raises(ig.CompileError) as info:
        ig.compile_schema(schema)
    assert words in str(info.value)


def test_required_false_as_text_does_not_make_an_input_required():
    # bool("false") is True: the input quietly became required.
    with pytest.raises(ig.ValidationError, match="'required' must be true, false or null"):
        ig.compile_schema({"nodes": [{"kind": "input", "name": "a", "required": "false", "default": 1}],
                           "outputs": [{"name": "a"}]})
    graph = ig.compile_schema({"nodes": [{"kind": "input", "name": "a", "required": False}],
                               "outputs": [{"name": "a"}]})
    assert graph.nodes[0].required is False


def double(a):
    return a * 2


def test_a_computes_declared_type_survives_the_schema_round_trip():
    # to_schema() dropped it, so the graph compiled back lost the type the composition checks read.
    @ig.contract
    def Typed(c):
        c.input("a", type="integer")
        c.compute("b", call=double, type="integer")
        c.output("b")

    schema = Typed.graph.to_schema()
    [entry] = [n for n in schema["nodes"] if n["name"] == "b"]
    assert entry["type"] == "integer"
    again = ig.compile_schema(schema)
    assert again.fetch("b").type_spec == "integer"
    assert again.to_schema() == schema


def test_a_schema_key_error_is_located_at_the_call_that_compiles_the_schema():
    import sys

    line = sys._getframe().f_lineno + 2
    with pytest.raises(ig.ValidationError, match="unknown key 'dependson'") as info:
        ig.compile_schema({"nodes": [{"kind": "input", "name": "a", "dependson": []}], "outputs": [{"name": "a"}]})
    assert info.value.context["source_location"] == f"{__file__}:{line}"

    with pytest.raises(ig.ValidationError, match="'required' must be") as info:
        @ig.contract
        def Mixed(c):
            c.input("b")
            c.schema({"nodes": [{"kind": "input", "name": "a", "required": "yes"}], "outputs": [{"name": "a"}]})
    assert info.value.context["source_location"] == f"{__file__}:{line + 7}"
    assert info.value.context["graph"] == "Mixed"
