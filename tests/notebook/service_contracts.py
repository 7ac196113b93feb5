"""Contracts served over HTTP for the notebook tools' tests (`igniter-nb serve tests.notebook.service_contracts:CONTRACTS`
and in-process apps): a workflow with a payload schema and a deadline, and a plain contract that defers."""

from __future__ import annotations

import pydantic

import igniter_nb as ig


class CrmPayload(pydantic.BaseModel):
    name: str
    tier: str = "smb"


class SvcLead(ig.Contract):
    def define(c):
        c.correlate_by("request_id")
        c.input("request_id", type=str)
        c.await_event("crm", event="crm_received", schema=CrmPayload, timeout=3600)
        c.await_event("billing", event="billing_ready")

        @c.compute
        def account(crm):
            return f"{crm.name} ({crm.tier})"

        @c.aggregate
        def report(account, billing):
            return {"account": account, "billing": billing}

        c.output("report")


class SvcQuote(ig.Executor):
    def call(self, total):
        return self.defer(token=f"quote-{total}", payload={"total": total})


class SvcPricing(ig.Contract):
    def define(c):
        c.input("total", type=int)
        c.compute("quote", depends_on=["total"], call=SvcQuote)
        c.output("quote")


CONTRACTS = {"lead": SvcLead, "pricing": SvcPricing}
TARGET = "tests.notebook.service_contracts:CONTRACTS"
