"""E-1: inputs, computes and an output; a lazy read; ``update_inputs`` recomputes only what changed.

Run from the repository root: ``python examples/basic_pricing.py``.
"""

import igniter_nb as ig


class PriceContract(ig.Contract):
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


contract = PriceContract(order_total=100, country="UA")
print(f"gross_total={contract.result.gross_total!r}")

contract.update_inputs(order_total=150)
print(f"updated_gross_total={contract.result.gross_total!r}")
