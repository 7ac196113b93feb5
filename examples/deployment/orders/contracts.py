"""The order workflow: `igniter-nb serve orders.contracts:CONTRACTS` serves it; RQ workers import it by path."""

from __future__ import annotations

import pydantic

import igniter_nb as ig


class Payment(pydantic.BaseModel):
    """What the workflow keeps of Stripe's payment object (other fields are ignored)."""

    amount: int
    currency: str


class OrderWorkflow(ig.Contract):
    """One order: waits for its payment (Stripe, through the webhook app and RQ) and its shipment (the warehouse
    calls the API); a shipment not reported within 7 days times the order out (``python -m orders.expire``)."""

    def define(c):
        c.correlate_by("order_id")
        c.input("order_id", type=str)
        c.await_event("payment", event="payment_received", schema=Payment)
        c.await_event("shipment", event="order_shipped", timeout=7 * 86400)

        @c.compute
        def receipt(order_id, payment, shipment):
            return {"order_id": order_id, "paid": payment.amount, "currency": payment.currency,
                    "carrier": shipment.get("carrier")}

        c.output("receipt")


CONTRACTS = {"order_workflow": OrderWorkflow}
