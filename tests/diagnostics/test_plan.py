"""The planner (reference §6.19, §7.4): read-only, `unresolved` for never-resolved nodes, awaits `waiting`
with their event, stale nodes `stale`."""

from __future__ import annotations

import dataclasses
import json
import textwrap

import pytest
from diagnostics_contracts import Approval, Pending

import igniter_nb as ig
from igniter_nb.runtime.planner import Plan, build_plan

HVAC = ("heating", "cooling")


class MarketingQuote(ig.Contract):
    def define(c):
        c.input("service", type=str)
        c.input("zip_code", type=str)
        c.const("vendor_id", "eLocal")
        with c.scope("routing"):
            c.map("trade_name", source="service", call=lambda service: "HVAC" if service in HVAC else service)
        with c.scope("pricing"):
            c.lookup("trade", depends_on=["trade_name"], call=lambda trade_name: {"name": trade_name, "bid": 45.0})
        with c.namespace("validation"):
            c.guard("zip_supported", depends_on="zip_code", one_of=["60601"], message="Unsupported zip")

        @c.compute(depends_on=["vendor_id", "trade", "zip_supported", "zip_code"])
        def quote(vendor_id, trade, zip_supported, zip_code):
            return {"vendor_id": vendor_id, "trade": trade["name"], "zip_code": zip_code}

        c.expose("quote", name="response")


EXPECTED_FRESH = textwrap.dedent("""\
    Plan MarketingQuote
    Targets: quote
    Ready: vendor_id,service,trade_name,zip_code,zip_supported
    Blocked: trade,quote
    Nodes:
    - compute vendor_id status=unresolved ready=true
    - input service status=unresolved ready=true
    - compute routing.trade_name status=unresolved ready=true deps=service(ready)
    - compute pricing.trade status=unresolved blocked=true waiting_on=trade_name deps=trade_name(unresolved)
    - input zip_code status=unresolved ready=true
    - compute validation.zip_supported status=unresolved ready=true deps=zip_code(ready)
    - compute quote status=unresolved blocked=true waiting_on=vendor_id,trade,zip_supported deps=vendor_id(unresolved),trade(unresolved),zip_supported(unresolved),zip_code(ready)""")


def test_fresh_plan_text_matches_reference_layout_with_unresolved_status():
    contract = MarketingQuote(service="heating", zip_code="60601")
    assert contract.explain_plan() == EXPECTED_FRESH
    assert str(contract.plan()) == EXPECTED_FRESH
    assert repr(contract.plan()) == EXPECTED_FRESH


def test_plan_resolves_nothing_and_emits_no_events():
    contract = MarketingQuote(service="heating", zip_code="60601")
    contract.plan()
    contract.explain_plan()
    assert contract.events == []
    assert contract.execution.states == {}


def test_plan_after_resolution_and_after_an_update_shows_stale_nodes_as_ready():
    contract = MarketingQuote(service="heating", zip_code="60601")
    contract.resolve_all()
    plan = contract.plan()
    assert plan.ready == () and plan.blocked == ()
    assert {e.status for e in plan.entries} == {"succeeded"}
    assert plan.to_text().splitlines()[2:4] == ["Ready: none", "Blocked: none"]

    contract.update_inputs(service="plumbing")
    plan = contract.plan()
    assert plan.entry("trade_name").status == "stale"
    assert plan.ready == ("trade_name",)
    assert plan.blocked == ("trade", "quote")
    assert plan.entry("trade").dependencies[0].status == "stale"
    assert plan.entry("service").status == "succeeded"


def test_plan_fields_and_dict_form():
    contract = MarketingQuote(service="heating", zip_code="60601")
    plan = contract.plan()
    assert isinstance(plan, Plan)
    assert plan.targets == ("quote",)
    assert [e.name for e in plan.entries] == ["vendor_id", "service", "trade_name", "trade", "zip_code",
                                              "zip_supported", "quote"]
    data = plan.to_dict()
    json.dumps(data)
    assert data["graph"] == "MarketingQuote" and data["execution_id"] == contract.execution_id
    quote = data["entries"][-1]
    assert quote["id"] == contract.execution.graph.node("quote").id
    assert quote["path"] == "quote" and quote["kind"] == "compute"
    assert quote["ready"] is False and quote["blocked"] is True
    assert quote["waiting_on"] == ["vendor_id", "trade", "zip_supported"]
    assert quote["dependencies"][3] == {"name": "zip_code", "source": "zip_code", "kind": "input",
                                        "status": "ready", "satisfied": True}
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.targets = ()  # type: ignore[misc]


def test_plan_for_selected_outputs_and_unknown_output():
    @ig.contract
    def Two(c):
        c.input("a")
        c.compute("b", depends_on="a", call=lambda a: a)
        c.compute("x", depends_on="a", call=lambda a: a)
        c.output("b")
        c.output("x")

    contract = Two(a=1)
    assert contract.plan(["x"]).targets == ("x",)
    assert [e.name for e in contract.plan("x").entries] == ["a", "x"]
    assert contract.plan().targets == ("b", "x")
    with pytest.raises(KeyError):
        contract.plan(["nope"])


def test_dependency_through_an_output_has_kind_output():
    @ig.contract
    def ViaOutput(c):
        c.input("a")
        c.compute("b", depends_on="a", call=lambda a: a)
        c.output("shown", source="b")
        c.compute("c", depends_on="shown", call=lambda shown: shown)
        c.output("c")

    dep = ViaOutput(a=1).plan(["c"]).entry("c").dependencies[0]
    assert (dep.name, dep.source, dep.kind, dep.status) == ("shown", "b", "output", "unresolved")


def test_await_nodes_wait_for_their_event_before_and_after_resolution():
    contract = Approval(request_id="r-1")
    before = contract.plan()
    entry = before.entry("approval")
    assert (entry.status, entry.event, entry.ready, entry.blocked) == ("waiting", "approval_received", False, True)
    assert "- await approval status=waiting blocked=true event=approval_received" in before.to_text()
    assert before.entry("decision").dependencies[0].status == "waiting"

    assert contract.status == "waiting"
    after = contract.plan()
    assert after.blocked == ("approval", "decision")
    assert after.entry("decision").status == "waiting"
    assert after.entry("decision").waiting_for == ("approval",)

    contract.resume("approval", {"ok": True})
    resumed = contract.plan()
    assert resumed.entry("approval").status == "succeeded"
    assert resumed.entry("decision").status == "stale"
    assert resumed.ready == ("decision",)
    assert "- await approval status=succeeded event=approval_received" in resumed.to_text()


def test_await_delivered_before_resolution_is_ready():
    contract = Approval(request_id="r-1")
    contract.execution.bound_events["approval"] = {"ok": True}
    entry = contract.plan().entry("approval")
    assert (entry.status, entry.ready, entry.blocked) == ("unresolved", True, False)


def test_pending_nodes_are_blocked():
    contract = Pending(amount=1)
    assert contract.status == "pending"
    plan = contract.plan()
    assert plan.blocked == ("quote", "total")
    assert plan.entry("quote").status == "pending"
    assert plan.entry("quote").waiting_on == ()
    assert plan.entry("total").waiting_on == ("quote",)
    assert "- compute total status=pending blocked=true waiting_on=quote deps=quote(pending)" in plan.to_text()


def test_missing_required_input_is_blocked_and_failed_nodes_are_neither_ready_nor_blocked():
    @ig.contract
    def Needs(c):
        c.input("a", type="numeric")
        c.input("b", type="numeric", required=False)

        @c.compute
        def boom(a, b):
            raise ValueError("no")

        c.output("boom")

    contract = Needs()
    plan = contract.plan()
    assert plan.entry("a").blocked and plan.entry("boom").dependencies[0].status == "missing"
    assert plan.entry("b").ready and plan.entry("boom").dependencies[1].status == "ready"

    contract = Needs(a=1)
    assert contract.status == "failed"
    entry = contract.plan().entry("boom")
    assert (entry.status, entry.ready, entry.blocked) == ("failed", False, False)


def test_plan_of_a_deep_chain_does_not_recurse():
    @ig.contract
    def Deep(c):
        c.input("n0")
        for i in range(1, 3000):
            c.compute(f"n{i}", depends_on=[f"n{i - 1}"], call=lambda **kw: 1)
        c.output("n2999")

    plan = Deep(n0=1).plan()
    assert len(plan.entries) == 3000
    assert plan.ready == ("n0", "n1")


def test_plan_mimebundle_always_has_text():
    contract = MarketingQuote(service="heating", zip_code="60601")
    bundle = contract.plan()._repr_mimebundle_()
    assert "text/plain" in bundle


def test_build_plan_on_an_execution_directly():
    contract = MarketingQuote(service="heating", zip_code="60601")
    assert build_plan(contract.execution).to_text() == EXPECTED_FRESH
