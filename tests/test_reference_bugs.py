"""One test per reference bug (igniter 0.4.0 §17) in the core engine's scope. Each asserts the fixed behaviour."""

from __future__ import annotations

import sys
from collections import Counter

import pytest

import igniter_nb as ig
from igniter_nb.dsl.contract import build_graph


def next_line() -> str:
    frame = sys._getframe(1)
    return f"{__file__}:{frame.f_lineno + 1}"


class Later(ig.Executor):
    def call(self, x):
        return self.defer(token="later")


def test_self_dependency_is_a_cycle_L03():
    with pytest.raises(ig.CycleError) as info:

        @ig.contract
        def SelfLoop(c):
            c.input("x")
            c.compute("y", depends_on=["x", "y"], call=lambda x, y: x)
            c.output("y")

    assert info.value.cycle == ["y", "y"]
    assert info.value.context["node"] == "y"


def test_output_and_node_sharing_a_name_must_share_the_source_L04():
    with pytest.raises(ig.ValidationError, match="sharing a name"):

        @ig.contract
        def Shadow(c):
            c.input("a")
            c.input("b")
            c.compute("total", call=lambda a: a)
            c.output("total", source="b")
            c.compute("uses_total", call=lambda total: total)
            c.output("uses_total")


def test_status_and_reports_never_raise_on_failure_L05():
    @ig.contract
    def Broken(c):
        c.input("x")
        c.compute("y", call=lambda x: 1 / 0)
        c.output("y")

    contract = Broken(x=1)
    assert contract.status == "failed"
    assert (contract.failed, contract.succeeded, contract.pending) == (True, False, False)
    assert list(contract.result.errors) == ["y"]
    assert contract.result.to_dict()["y"]["status"] == "failed"
    assert contract.result.states["y"]["status"] == "failed"
    with pytest.raises(ig.ResolutionError):
        _ = contract.result.y


def test_failed_output_keeps_cause_and_original_type_name_L12():
    class QuotaExceeded(Exception):
        pass

    def charge(x):
        raise QuotaExceeded("over quota")

    @ig.contract
    def Charges(c):
        c.input("x")
        c.compute("charge", call=charge)
        c.output("charge")

    with pytest.raises(ig.ResolutionError) as info:
        _ = Charges(x=1).result.charge
    err = info.value
    assert type(err.__cause__).__name__ == "QuotaExceeded"
    assert err.context["cause_type"].endswith("QuotaExceeded")
    assert "QuotaExceeded: over quota" in str(err)
    assert str(err).count("[graph=") == 1  # the context suffix appears once


def test_on_success_fires_after_resume_L13():
    got = []

    @ig.contract
    def Async(c):
        c.input("x")
        c.compute("later", call=Later)
        c.compute("total", call=lambda later, x: later + x)
        c.output("total")

        @c.on_success("total")
        def done(value):
            got.append(value)

        @c.on_exit
        def bye(status):
            got.append(str(status))

    contract = Async(x=1)
    assert contract.status == "pending"
    assert got == ["pending"]  # on_exit is honest about pending; on_success has not fired
    contract.resume_by_token("later", value=1)
    assert contract.result.total == 2
    assert got == ["pending", 2, "succeeded"]


def test_callbacks_get_only_declared_keywords_L14():
    got = []

    @ig.contract
    def Picky(c):
        c.input("x")
        c.output("x")

        @c.on_success("x")
        def only_value(value):
            got.append(value)

        @c.on_exit
        def only_status(status):
            got.append(str(status))

    _ = Picky(x=7).result.x
    assert got == [7, "succeeded"]


def test_interrupt_never_leaves_a_node_running_L16():
    attempts = Counter()

    @ig.contract
    def Interrupted(c):
        c.input("x")

        @c.compute
        def slow(x):
            attempts["slow"] += 1
            if attempts["slow"] == 1:
                raise KeyboardInterrupt
            return x

        c.output("slow")

    contract = Interrupted(x=1)
    with pytest.raises(KeyboardInterrupt):
        _ = contract.result.slow
    assert all(st.status != "running" for st in contract.execution.states.values())
    assert contract.result.slow == 1


def test_mutable_defaults_and_consts_are_not_shared_L17():
    @ig.contract
    def Bag(c):
        c.input("items", default=[])
        c.const("seen", {"n": []})

        @c.compute
        def grow(items, seen):
            items.append(1)
            seen["n"].append(1)
            return len(items) + len(seen["n"])

        c.output("grow")

    assert [Bag().result.grow for _ in range(3)] == [2, 2, 2]


def test_helper_keywords_locate_user_code_L20():
    lines = {}

    @ig.contract
    def Helpers(c):
        c.input("payload")
        lines["const"] = next_line()
        c.const("k", 1)
        lines["project"] = next_line()
        c.project("p", source="payload", key="a")
        lines["guard"] = next_line()
        c.guard("g", depends_on="p", eq=1)
        lines["map"] = next_line()
        c.map("m", source="p", call=lambda p: p)
        lines["lookup"] = next_line()
        c.lookup("lk", depends_on=["p"], call=lambda p: p)
        lines["aggregate"] = next_line()
        c.aggregate("ag", depends_on=["p"], call=lambda p: p)
        c.output("g")
        lines["export"] = next_line()
        c.expose("m")

    g = Helpers.graph
    for name, key in [("k", "const"), ("p", "project"), ("g", "guard"), ("m", "map"), ("lk", "lookup"),
                      ("ag", "aggregate")]:
        assert g.node(name).source_location == lines[key], name
    assert g.output("m").source_location == lines["export"]
    with pytest.raises(ig.ResolutionError) as info:
        _ = Helpers(payload={"a": 2}).result.g
    assert info.value.context["source_location"] == lines["guard"]
    assert "igniter_nb" not in info.value.context["source_location"]


def test_guard_matcher_with_string_dependency_L25():
    @ig.contract
    def Matcher(c):
        c.input("status")
        c.guard("active", depends_on="status", one_of=["active", "trial"])
        c.output("active")

    assert Matcher(status="trial").result.active is True
    assert Matcher(status="gone").status == "failed"


def test_dotted_output_on_non_contract_is_a_validation_error_L26():
    with pytest.raises(ig.ValidationError) as info:

        @ig.contract
        def NotAContract(c):
            c.input("x")
            c.compose("child", contract=object, inputs={"x": "x"})
            c.output("y", source="child.value")

    assert info.value.context["node"] == "child"


def test_composition_cycles_by_class_identity_at_any_depth_L27():
    with pytest.raises(ig.CycleError):

        class Recursive(ig.Contract):
            def define(c):
                c.input("x")
                c.compose("again", contract="Recursive", inputs={"x": "x"})
                c.output("again")

    class Root(ig.Contract):
        def define(c):
            c.input("x")
            c.output("x")

    class Level1(ig.Contract):
        def define(c):
            c.input("x")
            c.compose("root", contract=Root, inputs={"x": "x"})
            c.output("root")

    class Level2(ig.Contract):
        def define(c):
            c.input("x")
            c.collection("items", source="x", each=Level1, key="x")
            c.output("items")

    def redefine_root(c):
        c.input("x")
        c.branch("pick", selector="x", cases={1: Level2}, default=Level2, inputs={"x": "x"})
        c.output("pick")

    with pytest.raises(ig.CycleError) as info:
        build_graph("Root", redefine_root, Root)
    assert info.value.cycle[0] == "Root" and info.value.cycle[-1] == "Root"


def test_correlation_keys_must_be_inputs_without_awaits_L28():
    with pytest.raises(ig.ValidationError, match="must be declared as inputs"):

        @ig.contract
        def Correlated(c):
            c.correlate_by("order_id")
            c.input("x")
            c.output("x")


def test_cycle_error_lists_node_names_L29():
    with pytest.raises(ig.CycleError) as info:

        @ig.contract
        def Loop(c):
            c.compute("a", depends_on=["b"], call=lambda b: b)
            c.compute("b", depends_on=["a"], call=lambda a: a)
            c.output("a")

    assert info.value.cycle == ["a", "b", "a"]
    assert "a -> b -> a" in str(info.value)
    assert info.value.context["graph"] == "Loop"


def test_retry_and_equal_inputs_invalidate_nothing_L30():
    attempts = Counter()

    @ig.contract
    def Flaky(c):
        c.input("x")

        @c.compute
        def fetch(x):
            attempts["fetch"] += 1
            if attempts["fetch"] == 1:
                raise TimeoutError("slow upstream")
            return x

        c.output("fetch")

    contract = Flaky(x=1)
    assert contract.status == "failed"
    contract.update_inputs(x=1)  # equal value: still failed, nothing recomputed
    assert contract.status == "failed"
    assert attempts["fetch"] == 1
    contract.retry()
    assert contract.status == "succeeded"
    assert attempts["fetch"] == 2


def test_project_dig_default_stops_the_walk_and_list_indices_work_L32():
    @ig.contract
    def Dig(c):
        c.input("payload")
        c.project("second", source="payload", dig=["lines", 1, "sku"])
        c.project("fallback", source="payload", dig=["missing", "sku"], default={"sku": "walked into default"})
        c.output("second")
        c.output("fallback")

    r = Dig(payload={"lines": [{"sku": "A"}, {"sku": "B"}]}).result
    assert r.second == "B"
    assert r.fallback == {"sku": "walked into default"}


def test_result_type_accepts_child_result_and_unknown_types_fail_at_compile_L33():
    class Child(ig.Contract):
        def define(c):
            c.input("n")
            c.output("n")

    class Reader(ig.Contract):
        def define(c):
            c.input("res", type="result")
            c.compute("n", call=lambda res: res.n)
            c.output("n")

    assert Reader(res=Child(n=3).result).result.n == 3
    with pytest.raises(ig.InputError, match="must be of type result"):
        Reader(res={"n": 3})
    with pytest.raises(ig.CompileError, match="unknown type name 'money'"):

        @ig.contract
        def Unknown(c):
            c.input("x", type="money")
            c.output("x")


def test_subclasses_inherit_reactions_and_correlation_keys_L35():
    got = []

    class Base(ig.Contract):
        def define(c):
            c.correlate_by("order_id")
            c.input("order_id")
            c.output("order_id")

            @c.on_success("order_id")
            def done(value):
                got.append(value)

    class Sub(Base):
        pass

    assert Sub.correlation_keys() == ("order_id",)
    _ = Sub(order_id="o-1").result.order_id
    assert got == ["o-1"]


def test_memory_store_never_deep_copies_objects_L47():
    """The gem's MemoryStore deep-copied snapshots by object serialisation: values holding procs or IO broke
    it, and every save/fetch paid a full object copy. Here a snapshot is JSON-safe data built by the codec (an
    unsupported value fails its node, naming the node and the value's type, and the failure is what is stored),
    and the store keeps one immutable str/bytes per version, so no object graph is ever copied or kept."""
    import io

    from igniter_nb.stores import MemoryStore

    store = MemoryStore()

    @ig.contract
    def Opener(c):
        c.input("path")
        c.compute("handle", depends_on=["path"], call=lambda path: io.StringIO(path))
        c.output("handle")

    contract = Opener({"path": "x"}, runner="store", store=store)
    assert contract.status == "failed"  # never raises (issue 11 point 3)
    error = contract.result.errors["handle"]
    assert isinstance(error, ig.SnapshotEncodingError) and error.context["node"] == "handle"
    assert "_io.StringIO" in error.message
    stored = store.fetch(contract.execution_id)
    assert stored["states"]["handle"]["status"] == "failed" and stored["states"]["handle"]["value"] is None

    @ig.contract
    def Plain(c):
        c.input("n")
        c.compute("m", depends_on=["n"], call=lambda n: {"n": n})
        c.output("m")

    ok = Plain({"n": 1}, runner="store", store=store)
    ok.resolve_all()
    kept = [v.data for v in store._executions[ok.execution_id]]
    assert kept and all(isinstance(d, (str, bytes)) for d in kept)
    assert store.fetch(ok.execution_id) is not store.fetch(ok.execution_id)
