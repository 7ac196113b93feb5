"""A lead's life in three stages, each its own contract (the reference design's stage-oriented pattern):

1. ``InboundLead`` — a plain contract: normalise a web form into a lead with a stable id;
2. ``LeadAttribution`` — a durable workflow correlated by ``lead_id``: it waits for two webhooks (the ad
   platform's click match and the CRM's account sync), in whatever order they arrive;
3. ``LeadBilling`` — a plain contract composed after it: it feeds the attribution into a composed
   ``SeatPricing`` contract and produces the first invoice.

Run from the repository root: ``python examples/lead_lifecycle.py`` (an SQLite store in a temporary directory).
"""

import tempfile
from pathlib import Path

import pydantic

import igniter_nb as ig
from igniter_nb.errors import DuplicateSignalError, WorkflowNotFoundError
from igniter_nb.stores import SQLStore


# ---------------------------------------------------------------------------- stage 1: inbound
class InboundLead(ig.Contract):
    def define(c):
        c.input("form", type=dict)

        @c.compute
        def email(form):
            return form["email"].strip().lower()

        @c.compute
        def company_domain(email):
            return email.split("@", 1)[1]

        @c.compute
        def lead(email, company_domain):
            return {"lead_id": "lead-" + email.replace("@", "-at-").replace(".", "-"), "email": email,
                    "company_domain": company_domain}

        c.output("lead")


# ---------------------------------------------------------------------------- stage 2: attribution workflow
class AdTouch(pydantic.BaseModel):
    campaign: str
    cost: float


class CrmAccount(pydantic.BaseModel):
    account_id: str
    seats: int


class LeadAttribution(ig.Contract):
    def define(c):
        c.correlate_by("lead_id")
        c.input("lead_id", type=str)
        c.input("company_domain", type=str)
        c.await_event("ad_touch", event="ad_click_matched", schema=AdTouch)
        c.await_event("crm_account", event="crm_account_synced", schema=CrmAccount, timeout=7 * 24 * 3600)

        @c.compute
        def channel(ad_touch):
            return "paid_search" if ad_touch.campaign.startswith("search-") else "paid_social"

        @c.aggregate
        def attribution(lead_id, company_domain, channel, ad_touch, crm_account):
            return {"lead_id": lead_id, "domain": company_domain, "channel": channel,
                    "campaign": ad_touch.campaign, "acquisition_cost": ad_touch.cost,
                    "account_id": crm_account.account_id, "seats": crm_account.seats}

        c.output("attribution")


# ---------------------------------------------------------------------------- stage 3: billing
class SeatPricing(ig.Contract):
    def define(c):
        c.input("seats", type=int)
        c.input("channel", type=str)

        @c.compute
        def list_price(seats):
            return seats * 40.0

        @c.compute
        def discount(channel, list_price):
            return round(list_price * 0.1, 2) if channel == "paid_search" else 0.0

        @c.compute
        def monthly_total(list_price, discount):
            return list_price - discount

        c.output("monthly_total")
        c.output("discount")


class LeadBilling(ig.Contract):
    def define(c):
        c.input("attribution", type=dict)
        c.project("seats", source="attribution", key="seats")
        c.project("channel", source="attribution", key="channel")
        c.compose("pricing", contract=SeatPricing, inputs={"seats": "seats", "channel": "channel"})

        @c.compute(depends_on=["attribution", "pricing"])
        def invoice(attribution, pricing):
            return {"account_id": attribution["account_id"], "seats": attribution["seats"],
                    "discount": pricing.discount, "monthly_total": pricing.monthly_total}

        c.output("invoice")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLStore(f"sqlite:///{Path(tmp) / 'leads.db'}")

        print("== stage 1: inbound")
        lead = InboundLead(form={"email": "  Ann@Acme.io ", "name": "Ann"}).result.lead
        print(f"lead: {lead}")

        print("== stage 2: attribution")
        correlation = {"lead_id": lead["lead_id"]}
        wf = LeadAttribution.start(lead_id=lead["lead_id"], company_domain=lead["company_domain"], store=store)
        waiting_on = ", ".join(w["event"] for w in wf.diagnostics["waiting_on"])
        print(f"started: {wf.workflow_status}, waiting on {waiting_on}")

        wf = LeadAttribution.deliver_event("crm_account_synced", correlation=correlation, store=store,
                                           payload={"account_id": "acc-77", "seats": 12}, idempotency_key="crm-77")
        print(f"crm_account_synced -> {wf.workflow_status}")

        wf = LeadAttribution.deliver_event("crm_account_synced", correlation=correlation, store=store,
                                           payload={"account_id": "acc-77", "seats": 12}, idempotency_key="crm-77")
        print(f"crm_account_synced again, same key -> {wf.workflow_status} (unchanged, {len(wf.signals)} signal)")

        try:
            LeadAttribution.deliver_event("crm_account_synced", correlation=correlation, store=store,
                                          payload={"account_id": "acc-78", "seats": 3}, idempotency_key="crm-78")
        except DuplicateSignalError:
            print("crm_account_synced again, new key -> DuplicateSignalError")

        try:
            LeadAttribution.deliver_event("ad_click_matched", correlation={"lead_id": "lead-ann-at-acme-com"},
                                          payload={"campaign": "search-crm", "cost": 18.5}, store=store)
        except WorkflowNotFoundError as err:
            print(f"ad_click_matched for a mistyped lead -> {err.message}")

        wf = LeadAttribution.deliver_event("ad_click_matched", correlation=correlation, store=store,
                                           payload={"campaign": "search-crm", "cost": 18.5}, idempotency_key="ads-1")
        print(f"ad_click_matched -> {wf.workflow_status}")
        attribution = wf.result.attribution
        print(f"attribution: {attribution}")
        print("signals: " + ", ".join(f"{s['order']}:{s['event']} key={s['idempotency_key']}" for s in wf.signals))
        print(f"stored: status={store.record(wf.execution_id).status}, versions={len(store.history(wf.execution_id))}")

        print("== stage 3: billing")
        invoice = LeadBilling(attribution=attribution).result.invoice
        print(f"invoice: {invoice}")
        store.close()


if __name__ == "__main__":
    main()
