"""E-5: const, scope/namespace, map, lookup, a matcher guard, expose with a new name, on_success, the plan.

Run from the repository root: ``python examples/marketing_ergonomics.py``.
"""

import igniter_nb as ig

OUTBOX: list[dict[str, str]] = []
HVAC_SERVICES = ("heating", "cooling", "ventilation", "air_conditioning")


class MarketingQuoteContract(ig.Contract):
    def define(c):
        c.input("service", type=str)
        c.input("zip_code", type=str)

        c.const("vendor_id", "eLocal")

        with c.scope("routing"):

            @c.map("trade_name", source="service")
            def trade_name(service):
                return "HVAC" if service.lower() in HVAC_SERVICES else service

        with c.scope("pricing"):

            @c.lookup(depends_on=["trade_name"])
            def trade(trade_name):
                return {"name": trade_name, "base_bid": 45.0 if trade_name == "HVAC" else 25.0}

        with c.namespace("validation"):
            c.guard("zip_supported", depends_on="zip_code", one_of=["60601", "10001"], message="Unsupported zip")

        @c.compute(depends_on=["vendor_id", "trade", "zip_supported", "zip_code"])
        def quote(vendor_id, trade, zip_supported, zip_code):
            return {"vendor_id": vendor_id, "trade": trade["name"], "zip_code": zip_code, "bid": trade["base_bid"]}

        c.expose("quote", name="response")

        @c.on_success("response")
        def remember(value):
            OUTBOX.append({"vendor_id": value["vendor_id"], "zip_code": value["zip_code"]})


contract = MarketingQuoteContract(service="heating", zip_code="60601")

print(contract.explain_plan())
print("---")
print(f"response={contract.result.response!r}")
print(f"outbox={OUTBOX!r}")
