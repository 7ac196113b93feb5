"""Contracts shared by the diagnostics tests (imported by module name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import igniter_nb as ig


class PriceContract(ig.Contract):
    """The reference's pricing contract (E-1/E-3): four nodes, ``gross_total=120.0`` for 100 in UA."""

    def define(c):
        c.input("order_total", type="numeric")
        c.input("country", type=str)

        @c.compute(depends_on=["country"])
        def vat_rate(country):
            return 0.2 if country == "UA" else 0.0

        @c.compute
        def gross_total(order_total, vat_rate):
            return order_total * (1 + vat_rate)

        c.output("gross_total")


class Approval(ig.Contract):
    """A workflow waiting for one external event."""

    def define(c):
        c.correlate_by("request_id")
        c.input("request_id", type=str)
        c.await_event("approval", event="approval_received")
        c.compute("decision", depends_on=["approval"], call=lambda approval: approval["ok"])
        c.output("decision")


class Deferring(ig.Executor):
    def call(self, amount):
        return self.defer(token="tok-1", payload={"ask": "vendor"})


class Pending(ig.Contract):
    """Pending on token ``tok-1``: ``quote`` defers, ``total`` waits for it."""

    def define(c):
        c.input("amount", type="numeric")
        c.compute("quote", call=Deferring)
        c.compute("total", depends_on="quote", call=lambda quote: quote)
        c.output("total")
