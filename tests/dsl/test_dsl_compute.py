"""`c.compute` in all its forms, `ig.Executor`, the executor registry, and the compute helpers
(`const`, `lookup`, `aggregate`, `map`, `project`, `guard`)."""

from __future__ import annotations

import re
import sys

import pytest

import igniter_nb as ig


def next_line() -> str:
    frame = sys._getframe(1)
    return f"{__file__}:{frame.f_lineno + 1}"


# ---------------------------------------------------------------------------- compute forms
def test_compute_bare_decorator_infers_dependencies_from_parameter_names():
    @ig.contract
    def Bare(c):
        c.input("a")
        c.input("b")

        @c.compute
        def total(a, b):
            return a + b

        c.output("total")

    assert Bare.graph.node("total").dependencies == ("a", "b")
    assert Bare(a=1, b=2).result.total == 3


def test_compute_decorator_with_explicit_depends_on_and_name():
    @ig.contract
    def WithArgs(c):
        c.input("country")
        c.input("rate")

        @c.compute(depends_on=["country", "rate"])
        def effective(country, rate):
            return rate if country == "UA" else 0.0

        @c.compute("renamed", depends_on="rate")
        def whatever(rate):
            return rate * 2

        c.output("effective")
        c.output("renamed")

    assert WithArgs.graph.node("renamed").dependencies == ("rate",)
    c = WithArgs(country="UA", rate=0.2)
    assert c.result.effective == 0.2
    assert c.result.renamed == 0.4


def test_compute_decorator_returns_the_function_unchanged():
    kept = {}

    @ig.contract
    def Keep(c):
        c.input("a")

        @c.compute
        def f(a):
            return a

        kept["f"] = f
        c.output("f")

    assert kept["f"](a=5) == 5


def test_compute_call_form_with_lambda_and_metadata():
    @ig.contract
    def CallForm(c):
        c.input("a")
        c.compute("double", call=lambda a: a * 2, label="Double it", tags=["x"])
        c.output("double")

    node = CallForm.graph.node("double")
    assert node.dependencies == ("a",)
    assert node.metadata["label"] == "Double it"
    assert CallForm(a=4).result.double == 8


def test_optional_parameters_are_not_inferred_as_dependencies():
    @ig.contract
    def Opt(c):
        c.input("a")

        @c.compute
        def f(a, factor=10):
            return a * factor

        c.output("f")

    assert Opt.graph.node("f").dependencies == ("a",)
    assert Opt(a=2).result.f == 20


def test_kwargs_callable_receives_declared_dependencies():
    @ig.contract
    def Kw(c):
        c.input("a")
        c.input("b")
        c.compute("names", depends_on=["a", "b"], call=lambda **deps: sorted(deps.items()))

        @c.compute
        def nothing(**deps):
            return deps

        c.output("names")
        c.output("nothing")

    assert Kw(a=1, b=2).result.names == [("a", 1), ("b", 2)]
    assert Kw(a=1, b=2).result.nothing == {}


def _positional_only(a, /):
    return a


def _var_positional(*args):
    return args


@pytest.mark.parametrize(
    ("fn", "words"),
    [(_positional_only, "positional-only"), (_var_positional, "*args")],
    ids=["positional-only", "var-positional"],
)
def test_positional_only_and_star_args_are_validation_errors_with_location(fn, words):
    where = {}
    with pytest.raises(ig.ValidationError) as info:

        @ig.contract
        def Bad(c):
            c.input("a")
            where["loc"] = next_line()
            c.compute("f", depends_on=["a"], call=fn)
            c.output("f")

    err = info.value
    assert words in str(err)
    assert err.context["graph"] == "Bad"
    assert err.context["node"] == "f"
    assert err.context["source_location"] == where["loc"]
    assert where["loc"] in str(err)


class _StarExecutor(ig.Executor):
    def call(self, *parts):
        return parts


def test_executor_and_method_with_star_args_are_validation_errors():
    with pytest.raises(ig.ValidationError, match=r"remove \*parts"):

        @ig.contract
        def BadExecutor(c):
            c.input("a")
            c.compute("f", depends_on=["a"], call=_StarExecutor)
            c.output("f")

    with pytest.raises(ig.ValidationError, match="positional-only") as info:

        class BadMethod(ig.Contract):
            def define(c):
                c.input("a")
                c.compute("f", depends_on=["a"], call="shape")
                c.output("f")

            def shape(self, a, /):
                return a

    assert info.value.context["node"] == "f"


def test_call_must_be_callable():
    with pytest.raises(ig.CompileError, match="callable"):

        @ig.contract
        def Bad(c):
            c.input("a")
            c.compute("f", depends_on=["a"], call=42)
            c.output("f")


def test_compute_without_callable_is_a_compile_error():
    with pytest.raises(ig.CompileError, match="requires a callable"):

        @ig.contract
        def Bad(c):
            c.input("a")
            c.compute("f", depends_on=["a"])
            c.output("f")


def test_call_and_executor_together_is_a_compile_error():
    class E(ig.Executor):
        def call(self, a):
            return a

    ig.register_executor("test_dsl_both", E)
    with pytest.raises(ig.CompileError, match="both"):

        @ig.contract
        def Bad(c):
            c.input("a")
            c.compute("f", call=E, executor="test_dsl_both")
            c.output("f")


def test_call_as_method_name_string():
    class WithMethod(ig.Contract):
        def define(c):
            c.input("x")
            c.compute("y", call="double")
            c.output("y")

        def double(self, x):
            return (x * 2, type(self).__name__)

    assert WithMethod.graph.node("y").dependencies == ("x",)
    assert WithMethod(x=2).result.y == (4, "WithMethod")


def test_call_as_unknown_method_name_is_a_compile_error():
    with pytest.raises(ig.CompileError, match="does not define"):

        class NoMethod(ig.Contract):
            def define(c):
                c.input("x")
                c.compute("y", call="nope")
                c.output("y")


# ---------------------------------------------------------------------------- executors
class Quote(ig.Executor):
    inputs = {"total": {"type": "numeric"}}
    label = "Quote"
    category = "pricing"
    tags = ("money",)
    summary = "Doubles the total"

    def call(self, total):
        return {
            "value": total * 2,
            "contract": type(self.contract).__name__,
            "same_execution": self.execution is self.contract.execution,
        }


class Annotated(ig.Executor):
    def call(self, total: int, bonus: int = 1):
        return total + bonus


def test_executor_subclass_as_call_sees_contract_and_execution():
    @ig.contract
    def UsesQuote(c):
        c.input("total", type="integer")
        c.compute("quote", call=Quote)
        c.output("quote")

    node = UsesQuote.graph.node("quote")
    assert node.dependencies == ("total",)  # from the executor's declared inputs
    assert node.metadata["label"] == "Quote"
    assert node.metadata["category"] == "pricing"
    assert node.metadata["summary"] == "Doubles the total"
    assert UsesQuote(total=3).result.quote == {"value": 6, "contract": "UsesQuote", "same_execution": True}


def test_executor_inputs_from_call_annotations():
    assert Annotated.declared_inputs() == {"total": {"required": True, "type": int},
                                           "bonus": {"required": False, "type": int}}

    @ig.contract
    def UsesAnnotated(c):
        c.input("total", type="integer")
        c.compute("sum", call=Annotated)
        c.output("sum")

    assert UsesAnnotated.graph.node("sum").dependencies == ("total",)
    assert UsesAnnotated(total=1).result.sum == 2


def test_executor_typed_input_checked_against_dependency_type():
    with pytest.raises(ig.ValidationError, match="Type mismatch for executor input 'total'"):

        @ig.contract
        def Mismatch(c):
            c.input("total", type="string")
            c.compute("quote", call=Quote, depends_on=["total"])
            c.output("quote")


def test_executor_integer_into_numeric_is_compatible():
    @ig.contract
    def IntoNumeric(c):
        c.input("total", type=int)
        c.compute("quote", call=Quote, depends_on=["total"])
        c.output("quote")

    assert IntoNumeric(total=2).result.quote["value"] == 4


def test_executor_required_input_must_be_a_dependency():
    with pytest.raises(ig.ValidationError, match="requires undeclared dependencies: total"):

        @ig.contract
        def Missing(c):
            c.input("x")
            c.compute("quote", call=Quote, depends_on=["x"])
            c.output("quote")


def test_register_executor_and_executor_key():
    ig.register_executor("test_dsl_quote", Quote, label="Registered quote")

    @ig.contract
    def ByKey(c):
        c.input("total", type="numeric")
        c.compute("quote", executor="test_dsl_quote")
        c.output("quote")

    node = ByKey.graph.node("quote")
    assert node.executor_key == "test_dsl_quote"
    assert node.metadata["label"] == "Registered quote"  # registration metadata overrides the class's
    assert ByKey(total=1.5).result.quote["value"] == 3.0
    assert ig.executor_registry.fetch("test_dsl_quote").executor_class is Quote


def test_register_executor_rejects_non_executors_and_empty_keys():
    with pytest.raises(ig.CompileError, match="Executor subclass"):
        ig.register_executor("test_dsl_bad", object)
    with pytest.raises(ig.CompileError, match="empty"):
        ig.register_executor("  ", Quote)


def test_unknown_executor_key_is_a_compile_error_at_user_line():
    where = {}
    with pytest.raises(ig.CompileError) as info:

        @ig.contract
        def Unknown(c):
            c.input("total")
            where["loc"] = next_line()
            c.compute("quote", executor="test_dsl_never_registered", depends_on=["total"])
            c.output("quote")

    assert "test_dsl_never_registered" in str(info.value)
    assert info.value.context["source_location"] == where["loc"]


def test_executor_defer_makes_node_pending():
    class Later(ig.Executor):
        def call(self, x):
            return self.defer(token="later-1", payload={"x": x})

    @ig.contract
    def Deferring(c):
        c.input("x")
        c.compute("later", call=Later)
        c.output("later")

    contract = Deferring(x=1)
    deferred = contract.result.later
    assert isinstance(deferred, ig.DeferredResult)
    assert deferred.token == "later-1"
    assert dict(deferred.payload) == {"x": 1}
    assert deferred.source_node == "later"
    assert contract.status == "pending"


# ---------------------------------------------------------------------------- const / lookup / aggregate / map
def test_const_value_and_factory():
    made = []

    @ig.contract
    def Consts(c):
        c.const("rate", 0.2)
        c.const("config", factory=lambda: made.append(1) or {"n": len(made)})
        c.output("rate")
        c.output("config")

    assert Consts().result.rate == 0.2
    assert made == []  # lazy: reading `rate` did not build `config`
    assert Consts().result.config == {"n": 1}
    assert Consts().result.config == {"n": 2}  # factory called once per execution
    node = Consts.graph.node("rate")
    assert node.dependencies == ()
    assert node.role == "const"


def test_const_mutable_value_is_not_shared_between_executions_L17():
    @ig.contract
    def Shared(c):
        c.const("bucket", {"items": []})

        @c.compute
        def fill(bucket):
            bucket["items"].append(1)
            return len(bucket["items"])

        c.output("fill")

    assert Shared().result.fill == 1
    assert Shared().result.fill == 1


def test_const_needs_exactly_one_of_value_or_factory():
    with pytest.raises(ig.CompileError, match="exactly one"):

        @ig.contract
        def Neither(c):
            c.const("x")
            c.output("x")

    with pytest.raises(ig.CompileError, match="exactly one"):

        @ig.contract
        def Both(c):
            c.const("x", 1, factory=lambda: 2)
            c.output("x")


def test_lookup_and_aggregate_are_computes_with_a_category():
    @ig.contract
    def Cats(c):
        c.input("id")

        @c.lookup
        def customer(id):
            return {"id": id, "name": "Ann"}

        @c.aggregate(depends_on=["customer", "id"])
        def summary(customer, id):
            return f"{id}:{customer['name']}"

        c.lookup("explicit", depends_on=["id"], call=lambda id: id, category="custom")
        c.output("summary")
        c.output("explicit")

    assert Cats.graph.node("customer").category == "lookup"
    assert Cats.graph.node("summary").category == "aggregate"
    assert Cats.graph.node("explicit").category == "custom"
    assert Cats(id=7).result.summary == "7:Ann"


def test_map_with_one_and_several_sources():
    @ig.contract
    def Maps(c):
        c.input("items")
        c.input("factor")
        c.map("doubled", source="items", call=lambda items: [i * 2 for i in items])

        @c.map("scaled", source=["items", "factor"])
        def scale(items, factor):
            return [i * factor for i in items]

        c.output("doubled")
        c.output("scaled")

    assert Maps.graph.node("doubled").category == "map"
    assert Maps.graph.node("scaled").dependencies == ("items", "factor")
    m = Maps(items=[1, 2], factor=3)
    assert m.result.doubled == [2, 4]
    assert m.result.scaled == [3, 6]


def test_map_requires_source():
    with pytest.raises(ig.CompileError, match="source"):

        @ig.contract
        def NoSource(c):
            c.input("items")
            c.map("m", call=lambda items: items)
            c.output("m")


# ---------------------------------------------------------------------------- project
def _project(**kw):
    @ig.contract
    def Proj(c):
        c.input("payload")
        c.project("part", source="payload", **kw)
        c.output("part")

    return Proj


class Obj:
    def __init__(self):
        self.attr = {"inner": 5}


def test_project_key_and_dig_with_list_indices():
    payload = {"order": {"lines": [{"sku": "A"}, {"sku": "B"}]}, "n": 1}
    assert _project(key="n")(payload=payload).result.part == 1
    assert _project(dig=["order", "lines", 1, "sku"])(payload=payload).result.part == "B"
    assert _project(dig=["order", "lines", -1, "sku"])(payload=payload).result.part == "B"
    assert _project(dig="n")(payload=payload).result.part == 1


def test_project_dig_reads_attributes():
    assert _project(dig=["attr", "inner"])(payload=Obj()).result.part == 5


def test_project_missing_step_without_default_fails():
    contract = _project(dig=["order", "missing"])(payload={"order": {}})
    assert contract.status == "failed"
    with pytest.raises(ig.ResolutionError, match="could not extract 'missing'") as info:
        _ = contract.result.part
    assert info.value.context["node"] == "part"


def test_project_index_out_of_range_uses_default():
    assert _project(dig=["xs", 5], default="none")(payload={"xs": [1]}).result.part == "none"


def test_project_default_stops_the_walk_L32():
    # The missing step returns the default itself; the walk does not continue into the default.
    contract = _project(dig=["missing", "y"], default={"y": "from default"})(payload={})
    assert contract.result.part == {"y": "from default"}


def test_project_key_and_dig_are_exclusive_and_one_is_required():
    with pytest.raises(ig.CompileError, match="both"):
        _project(key="a", dig=["a"])
    with pytest.raises(ig.CompileError, match="requires either"):
        _project()


def test_project_location_is_user_code_L20():
    where = {}

    @ig.contract
    def Loc(c):
        c.input("payload")
        where["loc"] = next_line()
        c.project("part", source="payload", key="a")
        c.output("part")

    assert Loc.graph.node("part").source_location == where["loc"]


# ---------------------------------------------------------------------------- guard
def _guard(**kw):
    @ig.contract
    def Guarded(c):
        c.input("value", required=False)
        c.guard("check", depends_on="value", **kw)
        c.output("check")

    return Guarded


@pytest.mark.parametrize(
    ("kw", "good", "bad"),
    [
        ({"eq": "ok"}, "ok", "nope"),
        ({"eq": 1}, 1, 2),
        ({"one_of": ["a", "b"]}, "b", "c"),
        ({"one_of": "a"}, "a", "b"),  # a scalar is a one-element list
        ({"matches": r"^\d{5}$"}, "60601", "6060"),
        ({"matches": re.compile(r"^A")}, "Abc", "bAc"),
        ({"matches": r"^\d+$"}, 123, "12a"),  # the value is tested as str(value)
    ],
)
def test_guard_matchers(kw, good, bad):
    cls = _guard(**kw)
    assert cls(value=good).result.check is True
    failed = cls(value=bad)
    assert failed.status == "failed"
    with pytest.raises(ig.ResolutionError, match="Guard 'check' failed"):
        _ = failed.result.check


def test_guard_matches_none_fails():
    assert _guard(matches=r".*")(value=None).status == "failed"


def test_guard_with_callable_uses_python_truthiness():
    cls = _guard(call=lambda value: value, message="value must be truthy")
    assert cls(value=1).result.check is True  # any truthy value becomes True
    assert cls(value="x").result.check is True
    for falsy in (0, "", [], {}, None, False, 0.0):
        contract = cls(value=falsy)
        assert contract.status == "failed", falsy
        with pytest.raises(ig.ResolutionError, match="value must be truthy"):
            _ = contract.result.check


def test_guard_decorator_forms():
    @ig.contract
    def Deco(c):
        c.input("age")

        @c.guard
        def adult(age):
            return age >= 18

        @c.guard(message="too old")
        def young(age):
            return age < 100

        c.output("adult")
        c.output("young")

    assert Deco(age=30).result.adult is True
    with pytest.raises(ig.ResolutionError, match="Guard 'adult' failed"):
        _ = Deco(age=3).result.adult
    with pytest.raises(ig.ResolutionError, match="too old"):
        _ = Deco(age=300).result.young


def test_guard_failure_message_and_context_point_at_user_code_L20():
    where = {}

    @ig.contract
    def Located(c):
        c.input("value")
        where["loc"] = next_line()
        c.guard("check", depends_on="value", eq=1, message="value must be 1")
        c.output("check")

    contract = Located(value=2)
    with pytest.raises(ig.ResolutionError) as info:
        _ = contract.result.check
    err = info.value
    assert err.message == "value must be 1"
    assert err.context["graph"] == "Located"
    assert err.context["node"] == "check"
    assert err.context["path"] == "check"
    assert err.context["execution_id"] == contract.execution_id
    assert err.context["source_location"] == where["loc"]
    assert f"location={where['loc']}" in str(err)


def test_guard_matcher_with_string_dependency_L25():
    # depends_on given as a plain string (not a list) must work for matchers.
    cls = _guard(eq=5)
    assert cls(value=5).result.check is True


@pytest.mark.parametrize(
    "kw",
    [
        {"eq": 1, "one_of": [1]},
        {"eq": 1, "call": lambda value: True},
        {"matches": 5},
        {"matches": "("},
    ],
)
def test_guard_bad_declarations(kw):
    with pytest.raises(ig.CompileError):
        _guard(**kw)


def test_guard_matcher_needs_exactly_one_dependency():
    with pytest.raises(ig.CompileError, match="exactly one dependency"):

        @ig.contract
        def Two(c):
            c.input("a")
            c.input("b")
            c.guard("g", depends_on=["a", "b"], eq=1)
            c.output("g")
