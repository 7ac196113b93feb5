"""Importable contracts for the snapshot and store-runner tests (restores look children up by import path)."""

from __future__ import annotations

import datetime as dt
import decimal

import igniter_nb as ig


class Quote(ig.Executor):
    def call(self, order_total):  # type: ignore[no-untyped-def]
        return self.defer(token=f"quote-{order_total}", payload={"total": order_total})


class Pricing(ig.Contract):
    def define(c):
        c.input("order_total", type="numeric")
        c.input("when", type=dt.date, default=dt.date(2026, 1, 1))
        c.compute("quote", call=Quote)

        @c.compute
        def gross_total(quote):
            return quote * decimal.Decimal("1.2") if isinstance(quote, decimal.Decimal) else quote * 1.2

        c.output("gross_total")


class StoredPricing(Pricing):
    def define(c):
        c.run_with("store")
        Pricing.define(c)


class Checkout(ig.Contract):
    def define(c):
        c.input("total", type="numeric")
        c.compose("pricing", contract=Pricing, inputs={"order_total": "total"})
        c.export("gross_total", source="pricing")


class Failing(ig.Contract):
    def define(c):
        c.run_with("store")
        c.input("x", type="integer")

        @c.compute
        def boom(x):
            raise ValueError(f"bad {x}")

        c.output("boom")
