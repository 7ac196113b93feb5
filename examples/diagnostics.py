"""E-3: the diagnostics report as text, then the execution as plain data.

Run from the repository root: ``python examples/diagnostics.py``.
"""

import igniter_nb as ig


class PriceContract(ig.Contract):
    def define(c):
        c.input("order_total", type="numeric")
        c.input("country", type=str)

        @c.compute(depends_on=["country"])
        def vat_rate(country):
            return 0.2 if country == "UA" else 0.0

        @c.compute(depends_on=["order_total", "vat_rate"])
        def gross_total(order_total, vat_rate):
            return order_total * (1 + vat_rate)

        c.output("gross_total")


contract = PriceContract(order_total=100, country="UA")
gross_total = contract.result.gross_total  # a lazy read resolves the graph

print(contract.diagnostics.to_text())
print("---")
result = contract.result
summary = {
    "graph": result.graph,
    "execution_id": result.execution_id,
    "outputs": result.to_dict(),
    "succeeded": result.succeeded,
    "failed": result.failed,
    "pending": result.pending,
    "errors": {name: str(err) for name, err in result.errors.items()},
    "states": {
        name: {key: state[key] for key in ("id", "path", "kind", "status", "version", "value", "error")}
        for name, state in result.states.items()
    },
}
print(summary)
