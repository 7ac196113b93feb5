"""Contract structure: outputs, export/expose, compose, scope/namespace, run_with, `@ig.contract`,
`ig.compile`, and inheritance."""

from __future__ import annotations

import pytest

import igniter_nb as ig


class StructurePricing(ig.Contract):
    def define(c):
        c.input("order_total", type="numeric")

        @c.compute
        def gross_total(order_total):
            return order_total * 1.2

        @c.compute
        def net_total(order_total):
            return order_total

        c.output("gross_total")
        c.output("net_total")


# ---------------------------------------------------------------------------- outputs
def test_output_defaults_to_same_named_node_and_source_renames():
    @ig.contract
    def Outs(c):
        c.input("a")
        c.compute("b", call=lambda a: a + 1)
        c.output("b")
        c.output("renamed", source="b")

    assert [o.name for o in Outs.graph.outputs] == ["b", "renamed"]
    assert Outs.graph.output("renamed").path == "output.renamed"
    r = Outs(a=1).result
    assert (r.b, r.renamed, r["renamed"]) == (2, 2, 2)


def test_output_of_an_input():
    @ig.contract
    def Echo(c):
        c.input("a")
        c.output("a")

    assert Echo(a=5).result.a == 5


def test_result_unknown_output_is_attribute_error_listing_outputs():
    @ig.contract
    def One(c):
        c.input("a")
        c.output("a")

    with pytest.raises(AttributeError, match="outputs: a"):
        _ = One(a=1).result.nope
    with pytest.raises(KeyError):
        _ = One(a=1).result["nope"]


def test_export_and_expose_nested_outputs():
    @ig.contract
    def Checkout(c):
        c.input("order_total", type="numeric")
        c.compose("pricing", contract=StructurePricing, inputs={"order_total": "order_total"})
        c.export("gross_total", "net_total", source="pricing")
        c.expose("order_total")
        c.expose("pricing.gross_total", name="gross")
        c.output("net", source="pricing.net_total")

    assert [o.name for o in Checkout.graph.outputs] == ["gross_total", "net_total", "order_total", "gross", "net"]
    r = Checkout(order_total=100).result
    assert r.gross_total == 120.0
    assert r.net_total == 100
    assert r.order_total == 100
    assert r.gross == 120.0
    assert r.net == 100


def test_expose_name_with_several_sources_is_a_compile_error():
    with pytest.raises(ig.CompileError, match="exactly one source"):

        @ig.contract
        def Bad(c):
            c.input("a")
            c.input("b")
            c.expose("a", "b", name="x")


# ---------------------------------------------------------------------------- compose
def test_compose_runs_child_and_value_is_child_result():
    @ig.contract
    def Parent(c):
        c.input("total", type="numeric")
        c.compose("pricing", contract=StructurePricing, inputs={"order_total": "total"})
        c.output("pricing")

    node = Parent.graph.node("pricing")
    assert node.dependencies == ("total",)
    child = Parent(total=10).result.pricing
    assert isinstance(child, ig.Result)
    assert child.gross_total == 12.0
    assert Parent(total=10).result.to_dict() == {"pricing": {"gross_total": 12.0, "net_total": 10}}


def test_compose_by_registered_name():
    @ig.contract
    def ByName(c):
        c.input("total", type="numeric")
        c.compose("pricing", contract="StructurePricing", inputs={"order_total": "total"})
        c.export("gross_total", source="pricing")

    assert ByName.graph.node("pricing").contract is StructurePricing
    assert ByName(total=10).result.gross_total == 12.0


def test_compose_inputs_must_be_a_dict():
    with pytest.raises(ig.CompileError, match="inputs="):

        @ig.contract
        def Bad(c):
            c.input("total")
            c.compose("pricing", contract=StructurePricing, inputs=["total"])
            c.output("pricing")


# ---------------------------------------------------------------------------- scope / namespace
def test_scope_and_namespace_prefix_paths_only():
    @ig.contract
    def Scoped(c):
        c.input("a")
        with c.scope("pricing"):
            c.compute("b", call=lambda a: a + 1)
            with c.namespace("inner"):
                c.compute("d", call=lambda b: b * 2)
                c.output("d")
        c.output("b")

    g = Scoped.graph
    assert g.node("b").path == "pricing.b"
    assert g.node("d").path == "pricing.inner.d"
    assert g.output("d").path == "pricing.inner.output.d"
    assert g.output("b").path == "output.b"
    assert g.node("d").dependencies == ("b",)  # dependencies are names, never paths
    assert g.fetch("pricing.inner.d") is g.node("d")
    assert Scoped(a=1).result.d == 4


def test_scope_does_not_allow_duplicate_names_across_scopes():
    with pytest.raises(ig.ValidationError, match="Duplicate node name: b"):

        @ig.contract
        def Dup(c):
            c.input("a")
            with c.scope("one"):
                c.compute("b", call=lambda a: a)
            with c.scope("two"):
                c.compute("b", call=lambda a: a)
            c.output("b")


# ---------------------------------------------------------------------------- run_with
def test_run_with_sets_default_runner_and_constructor_overrides():
    @ig.contract
    def Threaded(c):
        c.run_with("threads", max_workers=3)
        c.input("a")
        c.output("a")

    assert Threaded(a=1).execution.runner.name == "threads"
    assert Threaded(a=1).execution.runner.max_workers == 3
    assert Threaded(a=1, runner="inline").execution.runner.name == "inline"


def test_unknown_runner_is_a_compile_error():
    @ig.contract
    def Plain(c):
        c.input("a")
        c.output("a")

    with pytest.raises(ig.CompileError, match="Unknown execution runner strategy"):
        Plain(a=1, runner="warp")


# ---------------------------------------------------------------------------- @ig.contract / ig.compile
def test_contract_decorator_makes_a_contract_class():
    @ig.contract
    def PriceContract(c):
        """Doc of the contract."""
        c.input("x")
        c.output("x")

    assert isinstance(PriceContract, type)
    assert issubclass(PriceContract, ig.Contract)
    assert PriceContract.__name__ == "PriceContract"
    assert PriceContract.__doc__ == "Doc of the contract."
    assert PriceContract.graph.name == "PriceContract"
    assert PriceContract(x=1).result.x == 1


def test_contract_decorator_with_name():
    @ig.contract(name="Renamed")
    def whatever(c):
        c.input("x")
        c.output("x")

    assert whatever.graph.name == "Renamed"


def test_compile_returns_a_compiled_graph_without_a_class():
    def pricing(c):
        c.input("a")
        c.compute("b", call=lambda a: a)
        c.output("b")

    graph = ig.compile(pricing)
    assert isinstance(graph, ig.CompiledGraph)
    assert graph.name == "pricing"
    assert [n.name for n in graph.nodes] == ["a", "b"]
    assert graph.resolution_order == ("a", "b")
    assert dict(graph.dependents) == {"a": ("b",)}
    assert ig.compile(pricing, name="Other").name == "Other"


def test_compiled_graph_is_read_only():
    @ig.contract
    def RO(c):
        c.input("a")
        c.output("a")

    with pytest.raises(AttributeError):
        RO.graph.name = "x"


def test_resolution_order_is_dependencies_first_in_declaration_order():
    # Reference example: c(with: [b, a]), b(with: a), z, a -> a, b, c, z
    def g(c):
        c.compute("c", depends_on=["b", "a"], call=lambda b, a: 1)
        c.compute("b", depends_on=["a"], call=lambda a: 1)
        c.input("z")
        c.input("a")
        c.output("c")

    assert ig.compile(g).resolution_order == ("a", "b", "c", "z")


# ---------------------------------------------------------------------------- inheritance
def test_subclass_without_define_inherits_graph_reactions_correlation_and_runner_L35():
    fired = []

    class Base(ig.Contract):
        def define(c):
            c.correlate_by("request_id")
            c.run_with("threads", max_workers=2)
            c.input("request_id")
            c.compute("upper", call=lambda request_id: request_id.upper())
            c.output("upper")

            @c.on_success("upper")
            def done(value):
                fired.append(value)

    class Child(Base):
        pass

    assert Child.graph is Base.graph
    assert Child.correlation_keys() == ("request_id",)
    assert Child(request_id="a").execution.runner.name == "threads"
    assert Child(request_id="abc").result.upper == "ABC"
    assert fired == ["ABC"]


def test_subclass_with_define_keeps_parent_reactions_and_correlation_L35():
    fired = []

    class Base(ig.Contract):
        def define(c):
            c.correlate_by("key")
            c.input("key")
            c.output("key")

            @c.on_exit
            def bye(status):
                fired.append(str(status))

    class Child(Base):
        def define(c):
            c.input("key")
            c.compute("twice", call=lambda key: key * 2)
            c.output("twice")

    assert Child.correlation_keys() == ("key",)
    assert Child(key="a").result.twice == "aa"
    assert fired == ["succeeded"]
