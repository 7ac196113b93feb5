"""Builder keywords given values of the wrong type: a CompileError at the declaration's line, not a raw
TypeError from inside the builder, nor a setting that quietly means something else."""

from __future__ import annotations

import pytest

import igniter_nb as ig


def _compile(body):
    @ig.contract
    def Shop(c):
        c.input("a")
        body(c)
        c.output("a")

    return Shop


@pytest.mark.parametrize(("body", "words"), [
    (lambda c: c.compute("b", depends_on=5, call=lambda a: a), "depends_on"),
    (lambda c: c.map("b", source=5, call=lambda a: a), "source"),
    (lambda c: c.output("b", source=5), "source"),
    (lambda c: c.input("q", required="no", default=1), "required"),
    (lambda c: c.await_event("w", event="e", timeout=float("nan")), "timeout"),
    (lambda c: c.await_event("w", event="e", timeout=float("inf")), "timeout"),
    (lambda c: c.remote("r", contract="X", node="http://h", inputs={"a": "a"}, timeout=float("nan")), "timeout"),
    (lambda c: c.remote("r", contract="X", node="http://h:99999", inputs={"a": "a"}), "port"),
])
def test_a_wrong_keyword_value_is_a_compile_error_at_its_line(body, words):
    with pytest.raises(ig.CompileError) as info:
        _compile(body)
    assert words in info.value.message
    assert info.value.context["graph"] == "Shop"
    assert info.value.context["source_location"].startswith(__file__)


@pytest.mark.parametrize("deps", ["a", ["a"], ("a",)])
def test_depends_on_keeps_working_with_a_name_a_list_or_a_tuple(deps):
    @ig.contract
    def Fine(c):
        c.input("a")
        c.compute("b", depends_on=deps, call=lambda a: a + 1)
        c.output("b")

    assert Fine(a=1).result.b == 2
