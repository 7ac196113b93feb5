"""Selective invalidation: after `update_inputs`, only downstream nodes recompute; equal values change nothing."""

from __future__ import annotations

from collections import Counter

import pytest

import igniter_nb as ig


def diamond():
    calls: Counter[str] = Counter()

    @ig.contract
    def Diamond(c):
        c.input("a", type="integer")
        c.input("b", type="integer")

        @c.compute
        def from_a(a):
            calls["from_a"] += 1
            return a * 2

        @c.compute
        def from_b(b):
            calls["from_b"] += 1
            return b * 3

        @c.compute
        def total(from_a, from_b):
            calls["total"] += 1
            return from_a + from_b

        c.output("total")
        c.output("from_b")

    return Diamond, calls


def test_update_recomputes_only_downstream_nodes():
    Diamond, calls = diamond()
    contract = Diamond(a=1, b=1)
    assert contract.result.total == 5
    calls.clear()
    contract.update_inputs(a=10)
    assert calls == Counter()  # nothing recomputes before a read
    assert contract.result.total == 23
    assert calls == Counter(from_a=1, total=1)  # from_b is untouched


def test_update_marks_exactly_the_downstream_nodes_stale():
    Diamond, _ = diamond()
    contract = Diamond(a=1, b=1).resolve_all()
    invalidated = contract.execution.update_inputs({"a": 2})
    assert invalidated == ["from_a", "total"]
    states = contract.execution.states
    assert states["from_a"].status == ig.Status.STALE
    assert states["total"].status == ig.Status.STALE
    assert states["from_b"].status == ig.Status.SUCCEEDED
    assert states["from_a"].invalidated_by == "a"


def test_versions_bump_on_update_invalidate_and_recompute():
    Diamond, _ = diamond()
    contract = Diamond(a=1, b=1).resolve_all()
    states = contract.execution.states
    assert (states["a"].version, states["from_a"].version) == (1, 1)
    contract.update_inputs(a=2)
    assert (states["a"].version, states["from_a"].version) == (2, 2)  # stale is a new version
    contract.resolve_all()
    assert (states["a"].version, states["from_a"].version, states["from_b"].version) == (2, 3, 1)


def test_equal_value_invalidates_nothing_L30():
    Diamond, calls = diamond()
    contract = Diamond(a=1, b=1).resolve_all()
    calls.clear()
    before = len(contract.events)
    assert contract.execution.update_inputs({"a": 1, "b": 1}) == []
    assert len(contract.events) == before  # not even input_updated
    assert contract.result.total == 5
    assert calls == Counter()


def test_equal_but_differently_typed_value_is_a_change():
    @ig.contract
    def Loose(c):
        c.input("x")
        c.compute("kind", call=lambda x: type(x).__name__)
        c.output("kind")

    contract = Loose(x=1)
    assert contract.result.kind == "int"
    contract.update_inputs(x=1.0)  # 1 == 1.0 but the type differs
    assert contract.result.kind == "float"


def test_update_of_unresolved_input_invalidates_nothing_but_is_used():
    Diamond, calls = diamond()
    contract = Diamond(a=1, b=1)
    contract.update_inputs(a=5)
    assert contract.result.total == 13
    assert calls == Counter(from_a=1, from_b=1, total=1)


def test_update_inputs_is_atomic():
    Diamond, calls = diamond()
    contract = Diamond(a=1, b=1).resolve_all()
    calls.clear()
    with pytest.raises(ig.InputError, match="Input 'b' must be of type integer"):
        contract.update_inputs(a=100, b="oops")
    assert contract.inputs == {"a": 1, "b": 1}
    assert all(st.status == ig.Status.SUCCEEDED for st in contract.execution.states.values())
    assert contract.result.total == 5
    assert calls == Counter()
    with pytest.raises(ig.InputError, match="Unknown input"):
        contract.update_inputs(a=100, nope=1)
    assert contract.inputs == {"a": 1, "b": 1}


def test_update_inputs_accepts_dict_and_returns_contract():
    Diamond, _ = diamond()
    contract = Diamond(a=1, b=1)
    assert contract.update_inputs({"a": 2}, b=3) is contract
    assert contract.result.total == 13


def test_invalidation_through_an_output_dependency():
    @ig.contract
    def ViaOutput(c):
        c.input("a")
        c.compute("b", call=lambda a: a + 1)
        c.output("bee", source="b")
        c.compute("d", depends_on=["bee"], call=lambda bee: bee * 10)
        c.output("d")

    contract = ViaOutput(a=1)
    assert contract.result.d == 20
    contract.update_inputs(a=2)
    assert contract.result.d == 30


def test_update_after_failure_recovers():
    @ig.contract
    def Fragile(c):
        c.input("x", type="integer")

        @c.compute
        def inverse(x):
            return 1 / x

        c.output("inverse")

    contract = Fragile(x=0)
    assert contract.status == "failed"
    contract.update_inputs(x=4)
    assert contract.status == "succeeded"
    assert contract.result.inverse == 0.25


def test_composition_is_rerun_after_upstream_update():
    class Child(ig.Contract):
        def define(c):
            c.input("n")
            c.compute("sq", call=lambda n: n * n)
            c.output("sq")

    @ig.contract
    def Parent(c):
        c.input("n")
        c.compose("child", contract=Child, inputs={"n": "n"})
        c.export("sq", source="child")

    contract = Parent(n=3)
    assert contract.result.sq == 9
    contract.update_inputs(n=4)
    assert contract.result.sq == 16


def _summing():
    calls: Counter[str] = Counter()

    @ig.contract
    def Summing(c):
        c.input("items")

        @c.compute
        def total(items):
            calls["total"] += 1
            return sum(items) if isinstance(items, list) else items

        c.output("total")

    return Summing, calls


def test_the_same_list_given_again_after_changing_it_in_place_is_a_change():
    Summing, calls = _summing()
    items = [1, 2, 3]
    contract = Summing(items=items)
    assert contract.result.total == 6
    items.append(10)
    assert contract.result.total == 6  # held by reference, cached: nothing recomputes until it is given again
    contract.update_inputs(items=items)  # was: skipped as "equal" (the list equals itself), total stayed 6
    assert contract.result.total == 16
    assert calls["total"] == 2
    contract.update_inputs(items=[1, 2, 3, 10])  # an equal new list: no change
    assert contract.result.total == 16 and calls["total"] == 2


def test_a_nan_over_a_nan_invalidates_nothing():
    Summing, calls = _summing()
    contract = Summing(items=float("nan"))
    contract.resolve_all()
    assert contract.execution.update_inputs({"items": float("nan")}) == []  # was ['total']: nan != nan
    assert calls["total"] == 1
    assert contract.execution.update_inputs({"items": 1.0}) == ["total"]
    contract.resolve_all()
    assert contract.execution.update_inputs({"items": 1}) == ["total"]  # 1.0 -> 1: another type, a change


def test_update_inputs_from_inside_a_callable_of_the_same_contract_is_refused():
    class SelfUpdating(ig.Contract):
        def define(c):
            c.input("x", type="integer")
            c.compute("a", call="bump")
            c.compute("b", call=lambda a, x: (a, x))
            c.output("b")

        def bump(self, x):
            self.update_inputs(x=x + 1)
            return x

    contract = SelfUpdating(x=1)
    # was: succeeded with b == (1, 2) — `a` computed from x=1 and kept as fresh after x became 2
    assert contract.status == "failed"
    assert "update_inputs() was called on SelfUpdating while it is resolving" in str(contract.result.errors["a"])
    assert contract.inputs == {"x": 1}
    assert contract.execution.lifecycle_depth == 0
    contract.update_inputs(x=5)  # outside a lifecycle: allowed
    assert contract.inputs == {"x": 5}


def test_retry_from_inside_a_callable_is_refused_and_the_counter_survives_interrupts():
    class SelfRetrying(ig.Contract):
        def define(c):
            c.input("x", type="integer")
            c.compute("a", call="again")
            c.output("a")

        def again(self, x):
            if x == 0:
                raise KeyboardInterrupt
            self.retry()
            return x

    contract = SelfRetrying(x=1)
    assert contract.status == "failed"
    assert "retry() was called" in str(contract.result.errors["a"])
    interrupted = SelfRetrying(x=0)
    with pytest.raises(KeyboardInterrupt):
        interrupted.resolve_all()
    assert interrupted.execution.lifecycle_depth == 0


class _SelfResuming(ig.Contract):
    def define(c):
        c.input("x", type="integer")
        c.input("how", type=str, default="resume")
        c.await_event("gate", event="opened")
        c.compute("a", call="open_gate")
        c.compute("b", call=lambda a, gate: (a, gate))
        c.output("b")

    def open_gate(self, x, how):
        if how == "resume":
            self.resume("gate", x)
        else:
            self.resume_by_token(f"{self.execution_id}:gate", x)
        return x


@pytest.mark.parametrize(("how", "operation"), [("resume", "resume()"), ("token", "resume_by_token()")])
def test_resume_from_inside_a_callable_of_the_same_contract_is_refused(how, operation):
    contract = _SelfResuming(x=1, how=how)
    # was: accepted — the await node was filled in mid-resolution, from inside node 'a'
    assert contract.status == "failed"
    err = contract.result.errors["a"]
    assert f"{operation} was called on _SelfResuming while it is resolving" in str(err)
    assert contract.execution.states["gate"].status == "waiting"  # the await node still waits for its event
    assert contract.execution.lifecycle_depth == 0
    assert not [e for e in contract.events if e.type == "node_resumed"]


def test_resume_from_a_reaction_callback_is_still_allowed():
    @ig.contract
    def ReactionResumes(c):
        c.input("x", type="integer")
        c.await_event("gate", event="opened")
        c.compute("a", call=lambda x: x)
        c.compute("b", call=lambda a, gate: (a, gate))
        c.output("b")

        @c.effect("a")
        def open_gate(value, contract):
            contract.resume("gate", value * 10)

    contract = ReactionResumes(x=2)
    assert contract.result.b == (2, 20)
    assert contract.reaction_errors == []
