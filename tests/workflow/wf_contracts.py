"""Workflow contracts shared by the workflow tests, the concurrency workers (spawned processes import this
module by name) and ``bench/workflows.py``'s bytes-per-delivery part (``documents_workflow``)."""

from __future__ import annotations

from typing import Any

import pydantic

import igniter_nb as ig


class BillingPayload(pydantic.BaseModel):
    plan: str
    mrr: int


class LeadWorkflow(ig.Contract):
    """PRODUCT §8's example: two awaits, one with a schema, joined by an aggregate."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        c.correlate_by("request_id", "company_id")
        c.input("request_id")
        c.input("company_id")
        c.await_event("crm_data", event="crm_webhook_received")
        c.await_event("billing_data", event="billing_data_fetched", schema=BillingPayload)

        @c.aggregate
        def report(crm_data, billing_data):
            return {"crm": crm_data, "billing": billing_data.model_dump()}

        c.output("report")


class ChainedWorkflow(ig.Contract):
    """Await ``second`` is needed only by a compute that depends on await ``first`` (via ``enriched``):
    at start, resolution stops before it — delivering ``second`` first must still work (L-02)."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        c.correlate_by("order_id")
        c.input("order_id", type=str)
        c.await_event("first", event="payment_authorised")

        @c.compute
        def enriched(first):
            return {"amount": first["amount"], "currency": "EUR"}

        c.await_event("second", event="goods_shipped")

        @c.compute(depends_on=["enriched", "second"])
        def settlement(enriched, second):
            return {"amount": enriched["amount"], "carrier": second["carrier"]}

        c.output("settlement")


class FanWorkflow(ig.Contract):
    """One await feeding two downstream nodes: ``waiting_events`` must list it once (L-36)."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        c.correlate_by("ticket")
        c.input("ticket", type=str)
        c.await_event("approval", event="approved")

        @c.compute
        def left(approval):
            return approval["by"] + "-L"

        @c.compute
        def right(approval):
            return approval["by"] + "-R"

        c.output("left")
        c.output("right")


class FragileWorkflow(ig.Contract):
    """Fails at start when ``explode_at_start``; fails after delivery when the payload asks it to."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        c.correlate_by("job_id")
        c.input("job_id", type=str)
        c.input("explode_at_start", type=bool, default=False)

        @c.compute
        def precheck(explode_at_start):
            if explode_at_start:
                raise RuntimeError("precheck exploded")
            return True

        c.await_event("result", event="job_finished", schema=dict)

        @c.compute
        def outcome(precheck, result):
            if result.get("explode"):
                raise ValueError(f"bad result for job: {result['explode']}")
            return result["value"] * 2

        c.output("outcome")


class TimedWorkflow(ig.Contract):
    """An await with a deadline (60 s) and one without."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        c.correlate_by("case_id")
        c.input("case_id", type=str)
        c.await_event("reply", event="customer_replied", timeout=60)
        c.await_event("note", event="agent_note")

        @c.compute
        def closed(reply, note):
            return {"reply": reply, "note": note}

        c.output("closed")


def declare_pair(c: Any) -> None:
    """Two awaited events (``left_arrived``, ``right_arrived``) correlated by ``pair_id`` and joined by one compute,
    ``joined``, which is an output: PairWorkflow's nodes, also declared by the delivery-cost tests' wider graphs."""
    c.correlate_by("pair_id")
    c.input("pair_id", type=str)
    c.await_event("left", event="left_arrived", schema=dict)
    c.await_event("right", event="right_arrived", schema=dict)

    @c.compute
    def joined(left, right):
        return {"left": left, "right": right}

    c.output("joined")


class PairWorkflow(ig.Contract):
    """The concurrency test's workflow: two awaited events, each payload kept in the output."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        declare_pair(c)


def documents_workflow(count: int) -> type[ig.Contract]:
    """A workflow awaiting ``count`` documents (events ``doc00_arrived``...), counted once all arrived: what
    bytes-per-delivery is measured on (tests/workflow/test_delivery_cost.py, bench/_history_bytes.py)."""
    names = [f"doc{i:02d}" for i in range(count)]

    class Documents(ig.Contract):
        @staticmethod
        def define(c: ig.ContractBuilder) -> None:
            c.correlate_by("key")
            c.input("key", type=str)
            for name in names:
                c.await_event(name, event=f"{name}_arrived", schema=dict)
            c.compute("count", depends_on=names, call=lambda **docs: len(docs))
            c.output("count")

    return Documents


def keyed_by(*keys: str) -> type[ig.Contract]:
    """``Signup`` correlated by ``keys`` (``lead``, and ``tenant`` when named, each an input), awaiting
    ``crm_received``: the versions of a deploy that adds or drops a correlation key."""

    class Signup(ig.Contract):
        @staticmethod
        def define(c: ig.ContractBuilder) -> None:
            c.correlate_by(*keys)
            c.input("lead", type=str)
            if "tenant" in keys:
                c.input("tenant", type=str)
            c.await_event("crm", event="crm_received")
            c.output("crm")

    return Signup
