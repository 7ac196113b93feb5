"""Contracts for the integration tests; RQ workers (in-process and spawned) import them by path."""

from __future__ import annotations

import datetime as dt

import pydantic

import igniter_nb as ig


class Payment(pydantic.BaseModel):
    amount: int
    currency: str


class OrderWorkflow(ig.Contract):
    """Two awaits (one with a schema) joined by an aggregate; ``placed_on`` is a date, to cross the codec."""

    def define(c):
        c.correlate_by("order_id")
        c.input("order_id", type=str)
        c.input("placed_on", default=None)
        c.await_event("payment", event="payment_received", schema=Payment)
        c.await_event("shipment", event="goods_shipped")

        @c.aggregate
        def summary(order_id, placed_on, payment, shipment):
            placed = placed_on.isoformat() if isinstance(placed_on, dt.date) else None
            return {"order": order_id, "placed_on": placed, "paid": payment.amount, "carrier": shipment["carrier"]}

        c.output("summary")


class QuoteExecutor(ig.Executor):
    def call(self, order_total):
        return self.defer(token=f"quote-{order_total}", payload={"order_total": order_total})


class AsyncQuote(ig.Contract):
    """Saved by the store runner while its quote is deferred; ``enqueue_resume`` finishes it."""

    def define(c):
        c.run_with("store")
        c.input("order_total", type="numeric")
        c.compute("quote_total", depends_on=["order_total"], call=QuoteExecutor)

        @c.compute
        def gross_total(quote_total):
            return quote_total * 2

        c.output("gross_total")


NOT_A_CONTRACT = "a string living at a contract-looking path"
