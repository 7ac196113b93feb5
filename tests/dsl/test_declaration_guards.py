"""Declarations that were read as something else: a scope name holding the path separator, an output source with
an empty segment, a non-bool ``once_per_execution=``, an unknown runner name. Each is refused where it is written,
naming the graph, what was wrong and the source line."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import igniter_nb as ig


def next_line() -> str:
    frame = sys._getframe(1)
    return f"{__file__}:{frame.f_lineno + 1}"


# ---------------------------------------------------------------------------- scope names
@pytest.mark.parametrize("name", ["a.b", ".a", "a.", "", "   "])
def test_a_scope_name_that_is_no_single_path_segment_is_refused_at_its_line(name):
    where = {}
    with pytest.raises(ig.CompileError) as info:

        @ig.contract
        def Scoped(c):
            c.input("x")
            where["loc"] = next_line()
            with c.scope(name):
                c.compute("y", call=lambda x: x)
            c.output("y")

    err = info.value
    assert err.context["graph"] == "Scoped"
    assert err.context["source_location"] == where["loc"]
    assert repr(name) in err.message and "scope" in err.message


def test_a_dotted_scope_is_refused_so_it_cannot_pass_for_two_nested_scopes():
    # was: both nodes got the path 'a.b.y'/'a.b.z', the dotted scope indistinguishable from scope 'a' then 'b'
    with pytest.raises(ig.ValidationError, match=r"scope name 'a\.b' contains '\.'"):

        @ig.contract
        def Nested(c):
            c.input("x")
            with c.scope("a.b"):
                c.compute("y", call=lambda x: x)
            c.output("y")


def test_a_scope_name_that_is_not_text_is_a_compile_error_even_before_with():
    with pytest.raises(ig.CompileError, match="scope needs a non-empty text name") as info:

        @ig.contract
        def NotText(c):
            c.input("x")
            c.namespace(5)  # refused at the call, not only when the `with` enters it
            c.output("x")

    assert info.value.context["graph"] == "NotText"
    assert info.value.context["source_location"].startswith(__file__)


@pytest.mark.parametrize("name", ["pricing", "été", "with space", "<b>x</b>", "line1\nline2"])
def test_scope_names_that_are_one_segment_keep_working(name):
    @ig.contract
    def Fine(c):
        c.input("x")
        with c.scope(name):
            c.compute("y", call=lambda x: x + 1)
        c.output("y")

    assert Fine.graph.node("y").path == f"{name}.y"
    assert Fine(x=1).result.y == 2


# ---------------------------------------------------------------------------- output sources
@pytest.mark.parametrize("source", ["a.", ".a", "a..b", "", ".", "pricing.total."])
def test_an_output_source_with_an_empty_segment_is_refused_at_its_line(source):
    where = {}
    with pytest.raises(ig.ValidationError) as info:

        @ig.contract
        def Outs(c):
            c.input("a")
            where["loc"] = next_line()
            c.output("x", source=source)

    err = info.value
    assert err.context["graph"] == "Outs"
    assert err.context["node"] == "x"
    assert err.context["source_location"] == where["loc"]
    assert f"output 'x': `source=` {source!r}" in err.message
    assert "empty" in err.message


def test_export_and_expose_refuse_an_empty_segment_too():
    with pytest.raises(ig.ValidationError, match=r"output 'total': `source=` 'pricing\.\.total'"):

        @ig.contract
        def Exported(c):
            c.input("a")
            c.export("total", source="pricing.")

    with pytest.raises(ig.ValidationError, match=r"`source=` 'a\.'"):

        @ig.contract
        def Exposed(c):
            c.input("a")
            c.expose("a.")


def test_well_formed_output_sources_keep_working():
    class Child(ig.Contract):
        def define(c):
            c.input("n")
            c.compute("double", call=lambda n: n * 2)
            c.output("double")

    @ig.contract
    def Parent(c):
        c.input("n")
        c.compose("child", contract=Child, inputs={"n": "n"})
        c.output("n")
        c.output("m", source="n")
        c.output("d", source="child.double")
        c.export("double", source="child")

    r = Parent(n=2).result
    assert (r.n, r.m, r.d, r.double) == (2, 2, 4, 4)


# ---------------------------------------------------------------------------- once_per_execution
@pytest.mark.parametrize("value", ["yes", "no", 1, 0, None, np.bool_(True)])
def test_once_per_execution_must_be_a_bool(value):
    where = {}
    with pytest.raises(ig.CompileError) as info:

        @ig.contract
        def Reacting(c):
            c.input("a")
            c.output("a")
            where["loc"] = next_line()
            @c.react_to("node_succeeded", once_per_execution=value)
            def seen(event):
                pass

    err = info.value
    assert err.context["graph"] == "Reacting"
    assert err.context["source_location"] == where["loc"]
    assert f"`once_per_execution=` must be True or False, got {value!r}" in err.message


def test_once_per_execution_true_and_false_keep_working():
    seen: list[str] = []

    @ig.contract
    def Counting(c):
        c.input("a")
        c.compute("b", call=lambda a: a)
        c.output("b")

        @c.react_to("node_succeeded", once_per_execution=True)
        def once(event):
            seen.append("once")

        @c.react_to("node_succeeded", once_per_execution=False)
        def each(event):
            seen.append("each")

    assert Counting(a=1).result.b == 1
    assert seen.count("once") == 1 and seen.count("each") >= 2


# ---------------------------------------------------------------------------- runner names
def test_an_unknown_runner_name_is_refused_when_the_class_is_defined():
    where = {}
    with pytest.raises(ig.CompileError) as info:

        class Typo(ig.Contract):
            def define(c):
                where["loc"] = next_line()
                c.run_with(runner="threadz")
                c.input("a")
                c.output("a")

    err = info.value
    assert err.context["graph"] == "Typo"
    assert err.context["source_location"] == where["loc"]
    assert "run_with: unknown runner 'threadz'" in err.message
    assert "known runners: executor, inline, store, thread_pool, threads" in err.message
    assert "did you mean 'threads'?" in err.message


@pytest.mark.parametrize("runner", [5, ""])
def test_a_runner_that_is_not_a_name_is_refused_when_the_class_is_defined(runner):
    with pytest.raises(ig.CompileError, match="run_with: "):

        @ig.contract
        def Odd(c):
            c.run_with(runner)
            c.input("a")
            c.output("a")


@pytest.mark.parametrize("runner", ["inline", "threads", "thread_pool", "store", None])
def test_known_runner_names_keep_working(runner):
    @ig.contract
    def Known(c):
        c.run_with(runner)
        c.input("a")
        c.output("a")

    assert Known.graph.run_options["runner"] == runner


def test_a_runner_instance_is_accepted_by_run_with():
    from igniter_nb.runtime.runners import InlineRunner

    @ig.contract
    def Instance(c):
        c.run_with(InlineRunner())
        c.input("a")
        c.output("a")

    assert Instance(a=1).result.a == 1
