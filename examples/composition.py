"""E-2: ``compose`` runs a pricing contract as one node of a checkout contract.

Run from the repository root: ``python examples/composition.py``.
"""

import igniter_nb as ig


class PricingContract(ig.Contract):
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


class CheckoutContract(ig.Contract):
    def define(c):
        c.input("order_total", type="numeric")
        c.input("country", type=str)

        c.compose("pricing", contract=PricingContract, inputs={"order_total": "order_total", "country": "country"})

        c.output("pricing")


contract = CheckoutContract(order_total=100, country="UA")
print(f"pricing={contract.result.to_dict()!r}")
