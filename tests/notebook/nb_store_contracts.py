"""Durable contracts for the store-frame and stepper tests: real snapshots written by ``Workflow.start``, the
store runner and ``resume_from_store`` (importable by name: this directory is on sys.path)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import igniter_nb as ig

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


class QuoteExecutor(ig.Executor):
    def call(self, order_total):
        return self.defer(token=f"quote-{order_total}", payload={"order_total": order_total})


class SkuQuote(ig.Executor):
    def call(self, sku):
        return self.defer(token=f"sku-{sku}", payload={"sku": sku})


class NbAsyncPricing(ig.Contract):
    """Defers on an executor; saved by the store runner after every lifecycle."""

    def define(c):
        c.run_with("store")
        c.input("order_total", type="numeric")
        c.compute("quote_total", depends_on=["order_total"], call=QuoteExecutor)

        @c.compute
        def gross_total(quote_total):
            return quote_total * 1.2

        c.output("gross_total")


class NbSkuPrice(ig.Contract):
    def define(c):
        c.input("sku")
        c.compute("price", depends_on=["sku"], call=SkuQuote)
        c.output("price")


class NbCheckout(ig.Contract):
    """Pending through a composition and through a collection (one token per item)."""

    def define(c):
        c.run_with("store")
        c.input("sku")
        c.input("skus", type=list)
        c.compose("quote", contract=NbSkuPrice, inputs={"sku": "sku"})
        c.collection("quotes", source="skus", each=NbSkuPrice, key="sku")

        @c.compute
        def total(quote):
            return quote.price

        c.output("total")
        c.output("quotes")


class NbLeadWorkflow(ig.Contract):
    """A workflow awaiting two events, one with a timeout (a deadline in the workflow record)."""

    def define(c):
        c.correlate_by("request_id", "company_id")
        c.input("request_id", type=str)
        c.input("company_id", type=int)
        c.await_event("crm", event="crm_received", timeout=3600)
        c.await_event("billing", event="billing_ready")

        @c.compute
        def report(crm, billing):
            return {"crm": crm, "billing": billing}

        c.output("report")


class NbBroken(ig.Contract):
    def define(c):
        c.run_with("store")
        c.input("x", type="integer")

        @c.compute
        def boom(x):
            raise ValueError("no good")

        c.output("boom")


def fill(store: Any) -> dict[str, str]:
    """Executions of every kind in ``store``; returns their ids by role."""
    waiting = NbLeadWorkflow.start({"request_id": "r-1", "company_id": 42}, store=store, now=NOW)
    done = NbLeadWorkflow.start({"request_id": "r-2", "company_id": 7}, store=store, now=NOW)
    later = NOW + dt.timedelta(minutes=5)
    NbLeadWorkflow.deliver_event("crm_received", correlation={"request_id": "r-2", "company_id": 7},
                               payload={"plan": "pro"}, store=store, now=later)
    NbLeadWorkflow.deliver_event("billing_ready", correlation={"request_id": "r-2", "company_id": 7},
                               payload={"seats": 3}, store=store, now=later)
    pricing = NbAsyncPricing(order_total=100, store=store, execution_id="pricing-1")
    pricing.resolve_all()
    checkout = NbCheckout(sku="a", skus=[{"sku": "x"}, {"sku": "y"}], store=store, execution_id="checkout-1")
    checkout.resolve_all()
    broken = NbBroken(x=1, store=store, execution_id="broken-1")
    broken.resolve_all()
    return {"waiting": waiting.execution_id, "done": done.execution_id, "pricing": "pricing-1",
            "checkout": "checkout-1", "broken": "broken-1"}
