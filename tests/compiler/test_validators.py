"""Every compile-time validator. Each error must say graph, node, path and the user's source line, both in
``err.context`` and in the message (L-20)."""

from __future__ import annotations

import sys

import pytest

import igniter_nb as ig
from igniter_nb.dsl.contract import build_graph


def next_line() -> str:
    frame = sys._getframe(1)
    return f"{__file__}:{frame.f_lineno + 1}"


def assert_located(err: ig.IgniterError, *, graph: str, node: str | None, path: str | None, loc: str) -> None:
    ctx = err.context
    assert ctx["graph"] == graph
    assert ctx.get("node") == node
    assert ctx.get("path") == path
    assert ctx["source_location"] == loc
    text = str(err)
    assert f"graph={graph}" in text
    if node is not None:
        assert f"node={node}" in text
    if path is not None:
        assert f"path={path}" in text
    assert f"location={loc}" in text


class Child(ig.Contract):
    def define(c):
        c.input("amount", type="numeric")
        c.input("note", type="string", default="")
        c.compute("doubled", call=lambda amount: amount * 2)
        c.output("doubled")


# ---------------------------------------------------------------------------- uniqueness
def test_duplicate_node_name():
    w = {}
    with pytest.raises(ig.ValidationError, match="Duplicate node name: a") as info:

        @ig.contract
        def DupName(c):
            c.input("a")
            w["loc"] = next_line()
            c.compute("a", depends_on=[], call=lambda: 1)
            c.output("a")

    assert_located(info.value, graph="DupName", node="a", path="a", loc=w["loc"])


def test_duplicate_output_name():
    w = {}
    with pytest.raises(ig.ValidationError, match="Duplicate output name: a") as info:

        @ig.contract
        def DupOut(c):
            c.input("a")
            c.output("a")
            w["loc"] = next_line()
            c.output("a")

    assert_located(info.value, graph="DupOut", node="a", path="output.a", loc=w["loc"])


def test_duplicate_path_through_a_scope_named_output():
    w = {}
    with pytest.raises(ig.ValidationError, match=r"Duplicate node path: output\.a") as info:

        @ig.contract
        def DupPath(c):
            with c.scope("output"):
                c.input("a")
            w["loc"] = next_line()
            c.output("a")

    assert_located(info.value, graph="DupPath", node="a", path="output.a", loc=w["loc"])


# ---------------------------------------------------------------------------- dependencies and outputs
def test_unknown_dependency_with_did_you_mean():
    w = {}
    with pytest.raises(ig.ValidationError) as info:

        @ig.contract
        def Typo(c):
            c.input("order_total")
            w["loc"] = next_line()
            c.compute("gross", depends_on=["order_totl"], call=lambda order_totl: 1)
            c.output("gross")

    err = info.value
    assert "Unknown dependency 'order_totl' for node 'gross'" in str(err)
    assert "did you mean 'order_total'" in str(err)
    assert_located(err, graph="Typo", node="gross", path="gross", loc=w["loc"])


def test_unknown_dependency_inferred_from_parameter_name():
    w = {}
    with pytest.raises(ig.ValidationError, match="Unknown dependency 'countr'") as info:

        @ig.contract
        def Inferred(c):
            c.input("country")
            w["loc"] = next_line()
            @c.compute
            def vat(countr):
                return countr

            c.output("vat")

    assert_located(info.value, graph="Inferred", node="vat", path="vat", loc=w["loc"])


def test_dependency_on_an_output_name_is_allowed():
    @ig.contract
    def ViaOutput(c):
        c.input("a")
        c.compute("b", call=lambda a: a + 1)
        c.output("bee", source="b")
        c.compute("d", depends_on=["bee"], call=lambda bee: bee * 10)
        c.output("d")

    assert ViaOutput(a=1).result.d == 20


def test_no_outputs():
    with pytest.raises(ig.ValidationError, match="at least one output") as info:

        @ig.contract
        def NoOutputs(c):
            c.input("a")

    assert info.value.context["graph"] == "NoOutputs"
    assert info.value.context["source_location"].startswith(__file__)


def test_unknown_output_source():
    w = {}
    with pytest.raises(ig.ValidationError) as info:

        @ig.contract
        def BadOut(c):
            c.input("total")
            w["loc"] = next_line()
            c.output("gross", source="totl")

    assert "Unknown output source 'totl' for output 'gross'" in str(info.value)
    assert "did you mean 'total'" in str(info.value)
    assert_located(info.value, graph="BadOut", node="gross", path="output.gross", loc=w["loc"])


def test_nested_output_on_a_compute_node():
    w = {}
    with pytest.raises(ig.ValidationError, match="only compose and branch") as info:

        @ig.contract
        def NestedCompute(c):
            c.input("a")
            c.compute("b", call=lambda a: a)
            w["loc"] = next_line()
            c.output("x", source="b.y")

    assert_located(info.value, graph="NestedCompute", node="x", path="output.x", loc=w["loc"])


def test_nested_output_unknown_child_output():
    w = {}
    with pytest.raises(ig.ValidationError, match="unknown child output 'tripled'") as info:

        @ig.contract
        def NestedUnknown(c):
            c.input("amount")
            c.compose("child", contract=Child, inputs={"amount": "amount"})
            w["loc"] = next_line()
            c.export("tripled", source="child")

    assert_located(info.value, graph="NestedUnknown", node="tripled", path="output.tripled", loc=w["loc"])


def test_dotted_output_pointing_at_a_non_contract_L26():
    w = {}
    with pytest.raises(ig.ValidationError, match=r"ig\.Contract subclass") as info:

        @ig.contract
        def NotAContract(c):
            c.input("amount")
            w["loc"] = next_line()
            c.compose("child", contract=dict, inputs={"amount": "amount"})
            c.output("x", source="child.doubled")

    assert_located(info.value, graph="NotAContract", node="child", path="child", loc=w["loc"])


def test_output_sharing_a_node_name_must_share_its_source_L04():
    w = {}
    with pytest.raises(ig.ValidationError, match="an output and a node sharing a name") as info:

        @ig.contract
        def Shadow(c):
            c.input("a")
            c.input("b")
            c.compute("total", call=lambda a: a)
            w["loc"] = next_line()
            c.output("total", source="b")

    assert_located(info.value, graph="Shadow", node="total", path="output.total", loc=w["loc"])


# ---------------------------------------------------------------------------- composition mapping and types
def test_composition_maps_unknown_child_input():
    w = {}
    with pytest.raises(ig.ValidationError, match="maps unknown child inputs of Child: amout") as info:

        @ig.contract
        def UnknownChildInput(c):
            c.input("x")
            w["loc"] = next_line()
            c.compose("child", contract=Child, inputs={"amout": "x"})
            c.output("child")

    assert_located(info.value, graph="UnknownChildInput", node="child", path="child", loc=w["loc"])


def test_composition_missing_required_child_input():
    w = {}
    with pytest.raises(ig.ValidationError, match="missing mappings for required child inputs of Child: amount") as info:

        @ig.contract
        def MissingChildInput(c):
            c.input("x")
            w["loc"] = next_line()
            c.compose("child", contract=Child, inputs={"note": "x"})
            c.output("child")

    assert_located(info.value, graph="MissingChildInput", node="child", path="child", loc=w["loc"])


def test_composition_input_type_mismatch():
    w = {}
    with pytest.raises(ig.ValidationError, match="Type mismatch for composition input 'amount'") as info:

        @ig.contract
        def ChildTypes(c):
            c.input("x", type="string")
            w["loc"] = next_line()
            c.compose("child", contract=Child, inputs={"amount": "x"})
            c.output("child")

    assert "dependency 'x' is string, expected numeric" in str(info.value)
    assert_located(info.value, graph="ChildTypes", node="child", path="child", loc=w["loc"])


@pytest.mark.parametrize("source_type", ["integer", "float", "numeric", int, float, None])
def test_composition_compatible_types(source_type):
    @ig.contract
    def Compatible(c):
        c.input("x", type=source_type)
        c.compose("child", contract=Child, inputs={"amount": "x"})
        c.output("child")

    assert Compatible.graph.node("child").contract is Child


def test_numeric_into_integer_is_a_mismatch():
    class IntChild(ig.Contract):
        def define(c):
            c.input("n", type="integer")
            c.output("n")

    with pytest.raises(ig.ValidationError, match="Type mismatch"):

        @ig.contract
        def Narrowing(c):
            c.input("x", type="numeric")
            c.compose("child", contract=IntChild, inputs={"n": "x"})
            c.output("child")


def test_composition_result_feeds_a_result_input_L33():
    class Wrapper(ig.Contract):
        def define(c):
            c.input("inner", type="result")
            c.compute("unwrapped", call=lambda inner: inner.doubled)
            c.output("unwrapped")

    @ig.contract
    def Outer(c):
        c.input("amount", type="numeric")
        c.compose("child", contract=Child, inputs={"amount": "amount"})
        c.compose("wrap", contract=Wrapper, inputs={"inner": "child"})
        c.export("unwrapped", source="wrap")

    assert Outer(amount=2).result.unwrapped == 4


# ---------------------------------------------------------------------------- callables
def test_callable_requires_undeclared_dependency():
    w = {}
    with pytest.raises(ig.ValidationError, match="requires undeclared dependencies: b") as info:

        @ig.contract
        def Undeclared(c):
            c.input("a")
            c.input("b")
            w["loc"] = next_line()
            c.compute("f", depends_on=["a"], call=lambda a, b: a + b)
            c.output("f")

    assert_located(info.value, graph="Undeclared", node="f", path="f", loc=w["loc"])


def test_callable_does_not_accept_declared_dependency():
    w = {}
    with pytest.raises(ig.ValidationError, match="does not accept: b") as info:

        @ig.contract
        def Unaccepted(c):
            c.input("a")
            c.input("b")
            w["loc"] = next_line()
            c.compute("f", depends_on=["a", "b"], call=lambda a: a)
            c.output("f")

    assert_located(info.value, graph="Unaccepted", node="f", path="f", loc=w["loc"])


def test_method_callable_signature_is_checked():
    with pytest.raises(ig.ValidationError, match="does not accept: b"):

        class MethodSig(ig.Contract):
            def define(c):
                c.input("a")
                c.input("b")
                c.compute("f", depends_on=["a", "b"], call="only_a")
                c.output("f")

            def only_a(self, a):
                return a


# ---------------------------------------------------------------------------- workflows and remotes
def test_correlation_keys_must_be_inputs_even_without_awaits_L28():
    with pytest.raises(ig.ValidationError, match=r"Correlation keys \['request_id'\] must be declared as inputs") as info:

        @ig.contract
        def NoAwaits(c):
            c.correlate_by("request_id")
            c.input("x")
            c.output("x")

    assert info.value.context["graph"] == "NoAwaits"
    assert info.value.context["source_location"].startswith(__file__)


def test_correlation_key_error_points_at_correlate_by_line():
    w = {}
    with pytest.raises(ig.ValidationError) as info:

        @ig.contract
        def NoAwaitsLine(c):
            w["loc"] = next_line()
            c.correlate_by("request_id")
            c.input("x")
            c.output("x")

    assert info.value.context["source_location"] == w["loc"]


def test_correlation_keys_that_are_inputs_compile():
    @ig.contract
    def Correlated(c):
        c.correlate_by("request_id")
        c.input("request_id")
        c.output("request_id")

    assert Correlated.graph.correlation_keys == ("request_id",)


def test_duplicate_await_events():
    w = {}
    with pytest.raises(ig.ValidationError, match="Duplicate await event name 'paid'") as info:

        @ig.contract
        def TwoAwaits(c):
            c.await_event("first", event="paid")
            w["loc"] = next_line()
            c.await_event("second", event="paid")
            c.output("first")

    assert_located(info.value, graph="TwoAwaits", node="second", path="second", loc=w["loc"])


@pytest.mark.parametrize("url", ["ftp://host", "localhost:4567", "http://", "host"])
def test_remote_url_validation(url):
    w = {}
    with pytest.raises(ig.ValidationError, match="invalid node URL") as info:

        @ig.contract
        def Remote(c):
            c.input("x")
            w["loc"] = next_line()
            c.remote("r", contract="Other", node=url, inputs={"x": "x"})
            c.output("r")

    assert_located(info.value, graph="Remote", node="r", path="r", loc=w["loc"])


def test_remote_valid_url_compiles():
    @ig.contract
    def RemoteOk(c):
        c.input("x")
        c.remote("r", contract="Other", node="https://example.test:8443/base", inputs={"x": "x"})
        c.output("r")

    assert RemoteOk.graph.node("r").url == "https://example.test:8443/base"


# ---------------------------------------------------------------------------- cycles
def test_self_dependency_is_a_cycle_L03():
    w = {}
    with pytest.raises(ig.CycleError) as info:

        @ig.contract
        def SelfLoop(c):
            c.input("x")
            w["loc"] = next_line()
            c.compute("y", depends_on=["x", "y"], call=lambda x, y: x)
            c.output("y")

    assert info.value.cycle == ["y", "y"]
    assert "y -> y" in str(info.value)
    assert_located(info.value, graph="SelfLoop", node="y", path="y", loc=w["loc"])


def test_cycle_lists_node_names_L29():
    w = {}
    with pytest.raises(ig.CycleError) as info:

        @ig.contract
        def Loop(c):
            c.input("x")
            w["loc"] = next_line()
            c.compute("a", depends_on=["x", "c"], call=lambda x, c: 1)
            c.compute("b", depends_on=["a"], call=lambda a: 1)
            c.compute("c", depends_on=["b"], call=lambda b: 1)
            c.output("a")

    err = info.value
    assert isinstance(err, ig.ValidationError)
    assert err.cycle == ["a", "c", "b", "a"]
    assert "Dependency cycle: a -> c -> b -> a" in str(err)
    assert "<" not in err.message  # names, not object dumps
    assert_located(err, graph="Loop", node="a", path="a", loc=w["loc"])


def test_cycle_through_an_output_name():
    with pytest.raises(ig.CycleError):

        @ig.contract
        def ViaOutputLoop(c):
            c.compute("a", depends_on=["out_b"], call=lambda out_b: 1)
            c.compute("b", depends_on=["a"], call=lambda a: 1)
            c.output("out_b", source="b")


def test_composition_self_reference_by_registered_name_L27():
    w = {}
    with pytest.raises(ig.CycleError, match="Composition cycle") as info:

        class SelfComposing(ig.Contract):
            def define(c):
                c.input("x")
                w["loc"] = next_line()
                c.compose("again", contract="SelfComposing", inputs={"x": "x"})
                c.output("again")

    assert_located(info.value, graph="SelfComposing", node="again", path="again", loc=w["loc"])


def _redefine(cls, define):
    """Compile ``define`` as a new definition of ``cls`` (what re-running a notebook cell does)."""
    return build_graph(cls.__name__, define, cls)


def test_composition_cycle_two_levels_deep_by_class_identity_L27():
    class Outer(ig.Contract):
        def define(c):
            c.input("x")
            c.output("x")

    class Middle(ig.Contract):
        def define(c):
            c.input("x")
            c.compose("outer", contract=Outer, inputs={"x": "x"})
            c.output("outer")

    class Inner(ig.Contract):
        def define(c):
            c.input("x")
            c.compose("middle", contract=Middle, inputs={"x": "x"})
            c.output("middle")

    def looping(c):
        c.input("x")
        c.compose("inner", contract=Inner, inputs={"x": "x"})
        c.output("inner")

    with pytest.raises(ig.CycleError) as info:
        _redefine(Outer, looping)
    assert info.value.cycle == ["Outer", "Inner", "Middle", "Outer"]
    assert info.value.context["node"] == "inner"


def test_composition_cycle_through_branch_and_collection_L27():
    class Target(ig.Contract):
        def define(c):
            c.input("id")
            c.output("id")

    class Holder(ig.Contract):
        def define(c):
            c.input("id")
            c.compose("t", contract=Target, inputs={"id": "id"})
            c.output("t")

    def via_branch(c):
        c.input("id")
        c.branch("b", selector="id", cases={1: Holder}, default=Holder, inputs={"id": "id"})
        c.output("b")

    def via_collection(c):
        c.input("items")
        c.collection("col", source="items", each=Holder, key="id")
        c.output("col")

    with pytest.raises(ig.CycleError):
        _redefine(Target, via_branch)
    with pytest.raises(ig.CycleError):
        _redefine(Target, via_collection)


def test_same_class_name_is_not_a_cycle_L27():
    # The reference compared graph *names*; two different classes sharing a name are not a cycle.
    def make_twin():
        class Twin(ig.Contract):
            def define(c):
                c.input("x")
                c.output("x")

        return Twin

    first = make_twin()

    class Twin(ig.Contract):  # a different class with the same name, composing the first
        def define(c):
            c.input("x")
            c.compose("inner", contract=first, inputs={"x": "x"})
            c.output("inner")

    assert Twin(x=1).result.inner.x == 1


def test_anonymous_compile_checks_composition_too_L27():
    # ig.compile has no class; composing a plain compiled contract is fine and still validated.
    def anon(c):
        c.input("x")
        c.compose("child", contract=Child, inputs={"amount": "x"})
        c.output("child")

    assert ig.compile(anon).node("child").contract is Child

    def anon_bad(c):
        c.input("x")
        c.compose("child", contract=Child, inputs={"nope": "x"})
        c.output("child")

    with pytest.raises(ig.ValidationError, match="unknown child inputs"):
        ig.compile(anon_bad)
