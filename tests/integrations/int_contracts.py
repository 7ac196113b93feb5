"""Contracts for the integration tests; RQ workers (in-process and spawned) import them by path."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

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


class GatedWorkflow(ig.Contract):
    """Its delivery computes ``noted``, which, when ``IGNITER_TEST_GATE`` names a file, creates ``<gate>.entered`` and
    waits (at most 30 s) while the gate exists: a test can kill the worker in the middle of the job."""

    def define(c):
        c.correlate_by("ticket")
        c.input("ticket", type=str)
        c.await_event("answer", event="answered")

        @c.compute
        def noted(answer):
            gate = os.environ.get("IGNITER_TEST_GATE")
            if gate:
                Path(gate + ".entered").touch()
                deadline = time.monotonic() + 30
                while os.path.exists(gate) and time.monotonic() < deadline:
                    time.sleep(0.02)
            return answer

        c.output("noted")


def _slow_once() -> None:
    """When ``IGNITER_TEST_SLOW_ONCE`` names a file that exists, remove it and take (at most) 30 s: the first run of a
    job outlasts a short ``job_timeout``, the next one is quick."""
    marker = os.environ.get("IGNITER_TEST_SLOW_ONCE")
    if marker and os.path.exists(marker):
        os.unlink(marker)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.02)


class SlowOnceWorkflow(ig.Contract):
    """Its delivery computes ``noted`` slowly once (``_slow_once``)."""

    def define(c):
        c.correlate_by("ticket")
        c.input("ticket", type=str)
        c.await_event("answer", event="answered")

        @c.compute
        def noted(answer):
            _slow_once()
            return answer

        c.output("noted")


class SlowStart(ig.Contract):
    """A workflow that awaits nothing: its start computes ``noted`` slowly once (``_slow_once``)."""

    def define(c):
        c.correlate_by("ticket")
        c.input("ticket", type=str)

        @c.compute
        def noted(ticket):
            _slow_once()
            return ticket

        c.output("noted")


NOT_A_CONTRACT = "a string living at a contract-looking path"
