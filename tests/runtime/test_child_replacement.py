"""Composition and branch children are replaced like collection items: a child whose inputs (or contract)
changed is a new child execution with a new id, recorded by a ``child_replaced`` event, while a child with
unchanged inputs is continued — resumed, retried or reused (issue 11, point 14)."""

from __future__ import annotations

import json

import igniter_nb as ig

RUNS: dict[str, int] = {"pricing": 0}


class Pricing(ig.Contract):
    def define(c):
        c.input("total", type="numeric")

        @c.compute
        def gross(total):
            RUNS["pricing"] += 1
            return total * 2

        c.output("gross")


class Flat(ig.Contract):
    def define(c):
        c.input("total", type="numeric")
        c.compute("gross", call=lambda total: 5)
        c.output("gross")


class Quote(ig.Executor):
    def call(self, total):  # type: ignore[no-untyped-def]
        return self.defer(token=f"quote-{total}")


class Quoted(ig.Contract):
    def define(c):
        c.input("total", type="numeric")
        c.compute("gross", call=Quote)
        c.output("gross")


def _parent(child: type[ig.Contract]) -> type[ig.Contract]:
    @ig.contract(name=f"With{child.__name__}")
    def parent(c):
        c.input("total", type="numeric")
        c.compute("half", call=lambda total: total // 2)
        c.compose("pricing", contract=child, inputs={"total": "half"})
        c.export("gross", source="pricing")

    return parent


WithPricing = _parent(Pricing)
WithQuoted = _parent(Quoted)


class Routed(ig.Contract):
    def define(c):
        c.input("kind", type=str)
        c.input("total", type="numeric")
        c.branch("route", selector="kind", cases={"priced": Pricing, "flat": Flat}, inputs={"total": "total"})
        c.export("gross", source="route")


def _child(contract: ig.Contract, node: str) -> str:
    contract.resolve_all()
    return str(contract.execution.children.child_for(node).execution_id)


def _child_ids(contract: ig.Contract, node: str) -> list[str]:
    return [e.payload["child_execution_id"] for e in contract.events
            if e.type == "node_succeeded" and e.node == node]


def _replacements(contract: ig.Contract) -> list[dict]:
    return [dict(e.payload) for e in contract.events if e.type == "child_replaced"]


def test_composition_child_with_changed_inputs_is_a_new_execution():
    k = WithPricing(total=10)
    first = _child(k, "pricing")
    assert k.result.gross == 10
    k.update_inputs(total=30)
    assert k.result.gross == 30
    second = _child(k, "pricing")
    assert second != first
    assert _child_ids(k, "pricing") == [first, second]  # the old child stays in the parent's audit
    assert _replacements(k) == [{"previous_child_execution_id": first, "previous_child_graph": "Pricing",
                                 "child_execution_id": second, "child_graph": "Pricing",
                                 "reason": "inputs changed"}]
    assert [e.type for e in k.audit.events if e.node == "pricing"][-2:] == ["child_replaced", "node_succeeded"]


def test_branch_child_with_changed_inputs_or_case_is_a_new_execution():
    k = Routed(kind="priced", total=2)
    first = _child(k, "route")
    k.update_inputs(total=3)
    assert k.result.gross == 6
    second = _child(k, "route")
    k.update_inputs(kind="flat")
    assert k.result.gross == 5
    third = _child(k, "route")
    assert len({first, second, third}) == 3
    assert [(r["previous_child_execution_id"], r["child_execution_id"], r["reason"]) for r in _replacements(k)] == [
        (first, second, "inputs changed"), (second, third, "contract changed")]


def test_child_with_unchanged_inputs_is_kept_and_not_rerun():
    k = WithPricing(total=10)
    first = _child(k, "pricing")
    runs = RUNS["pricing"]
    k.update_inputs(total=11)  # half is still 5: the composition re-resolves with the same child inputs
    assert k.result.gross == 10
    assert _child(k, "pricing") == first
    assert RUNS["pricing"] == runs
    assert _replacements(k) == []


def test_an_input_of_another_type_is_a_change():
    @ig.contract
    def Passes(c):
        c.input("flag")
        c.compose("inner", contract=Echo, inputs={"value": "flag"})
        c.export("value", source="inner")

    k = Passes(flag=1)
    first = _child(k, "inner")
    k.update_inputs(flag=True)  # 1 == True, but it is another value
    assert k.result.value is True
    assert _child(k, "inner") != first


class Echo(ig.Contract):
    def define(c):
        c.input("value")
        c.output("value")


def test_pending_child_resumes_in_place_and_a_changed_one_starts_over_L08():
    k = WithQuoted(total=10)
    assert k.status == "pending"
    child = k.execution.children.child_for("pricing")
    k.resume_by_token("quote-5", value=12)
    assert k.status == "succeeded" and k.result.gross == 12
    assert _child(k, "pricing") == child.execution_id  # the same child continued
    k.update_inputs(total=40)
    assert k.status == "pending"
    assert k.first_deferred().token == "quote-20"
    replaced = _replacements(k)
    assert replaced[0]["previous_child_execution_id"] == child.execution_id
    k.resume("pricing", 99)
    assert k.result.gross == 99


def test_replaced_children_survive_a_snapshot_round_trip():
    k = WithQuoted(total=10)
    assert k.first_deferred().token == "quote-5"
    k.update_inputs(total=20)
    assert k.first_deferred().token == "quote-10"
    current = k.execution.children.child_for("pricing").execution_id
    again = WithQuoted.restore(json.loads(json.dumps(k.snapshot())))
    assert again.execution.children.child_for("pricing").execution_id == current
    assert len(_replacements(again)) == 1
    again.resume_by_token("quote-10", value=7)
    assert again.result.gross == 7
    again.update_inputs(total=20)  # unchanged: the restored child is kept
    assert _child(again, "pricing") == current
    again.update_inputs(total=60)
    assert again.status == "pending" and again.first_deferred().token == "quote-30"
    assert again.execution.children.child_for("pricing").execution_id != current


def test_failed_child_with_unchanged_inputs_is_retried_in_place():
    calls = {"n": 0}

    @ig.contract
    def Flaky(c):
        c.input("total", type="numeric")
        c.compute("steady", call=lambda total: total)

        @c.compute
        def gross(steady):
            calls["n"] += 1
            if calls["n"] == 1:
                raise TimeoutError("slow upstream")
            return steady * 2

        c.output("gross")

    @ig.contract
    def Outer(c):
        c.input("total", type="numeric")
        c.compose("inner", contract=Flaky, inputs={"total": "total"})
        c.export("gross", source="inner")

    k = Outer(total=4)
    assert k.status == "failed"
    child = k.execution.children.child_for("inner")
    k.retry()
    assert k.result.gross == 8
    assert _child(k, "inner") == child.execution_id
    assert _replacements(k) == []
