"""Contracts the server tests serve, in-process and from `igniter-nb serve tests.server.server_contracts:CONTRACTS`."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import pydantic

import igniter_nb as ig


class Price(ig.Contract):
    def define(c):
        c.input("total", type="numeric")
        c.input("rate", type=float, default=0.2)

        @c.compute
        def gross(total, rate):
            return total * (1 + rate)

        c.output("gross")


class CrmPayload(pydantic.BaseModel):
    name: str
    tier: str = "standard"


class Lead(ig.Contract):
    """Two awaited events; two nodes downstream of the CRM event (so a naive `waiting_for` would repeat it)."""

    def define(c):
        c.correlate_by("request_id")
        c.input("request_id", type=str)
        c.await_event("crm", event="crm_received", schema=CrmPayload)
        c.await_event("billing", event="billing_received")

        @c.compute
        def crm_name(crm):
            return crm.name

        @c.compute
        def report(crm_name, billing):
            return {"crm": crm_name, "billing": billing}

        c.output("crm_name")
        c.output("report")


class Quote(ig.Executor):
    def call(self, total):  # type: ignore[no-untyped-def]
        return self.defer(token=f"quote-{total}", payload={"total": total})


class Deferred(ig.Contract):
    def define(c):
        c.input("total", type=int)
        c.compute("quote", depends_on=["total"], call=Quote)

        @c.compute
        def doubled(quote):
            return quote * 2

        c.output("doubled")


class Failing(ig.Contract):
    def define(c):
        c.input("n", type=int)

        @c.compute
        def boom(n):
            raise RuntimeError(f"boom {n}")

        c.output("boom")


class FailingWorkflow(ig.Contract):
    """A workflow whose start fails: it is stored as failed and answered with a failed body (L-39)."""

    def define(c):
        c.correlate_by("order_id")
        c.input("order_id", type=str)

        @c.compute
        def check(order_id):
            raise ValueError(f"order {order_id} is blocked")

        c.await_event("paid", event="payment_received")

        @c.compute
        def done(check, paid):
            return True

        c.output("done")


class Odd:
    def __str__(self) -> str:
        return "an odd object"


class OddValues(ig.Contract):
    """Outputs JSON cannot hold as they are."""

    def define(c):
        c.input("x", type=int, default=1)

        @c.compute
        def values(x):
            odd = {"odd": Odd()} if x == 2 else {}  # x=2: a value no store can hold
            return odd | {
                "when": dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC),
                "money": decimal.Decimal("10.50"),
                "id": uuid.UUID(int=x),
                "tags": {"b", "a"},
                "nan": float("nan"),
                "inf": float("inf"),
                "raw": b"\xff\x00",
                "pair": (1, 2),
                7: "int key",
            }

        c.output("values")


class QuotedOrder(ig.Contract):
    """A workflow with deferred work (the quote, resumed by token) and an awaited event (the approval)."""

    def define(c):
        c.correlate_by("order_id")
        c.input("order_id", type=str)
        c.input("total", type=int)
        c.compute("quote", depends_on=["total"], call=Quote)
        c.await_event("approval", event="approved")

        @c.compute
        def done(quote, approval):
            return {"quote": quote, "approved": approval}

        c.output("done")


CONTRACTS = {
    "price": Price,
    "lead": Lead,
    "deferred": Deferred,
    "quoted_order": QuotedOrder,
    "failing": Failing,
    "failing_workflow": FailingWorkflow,
    "odd": OddValues,
    "ціна знижка": Price,  # unicode and a space: reachable URL-encoded
    '<price> & "co"?#': Price,  # shaped like HTML, with URL-special characters
}
