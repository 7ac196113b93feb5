"""Contracts shared by the notebook tests (importable by subprocesses: this directory goes on sys.path)."""

from __future__ import annotations

from typing import Any

import igniter_nb as ig


class Tax(ig.Contract):
    def define(c):
        c.input("amount", type="numeric")

        @c.compute
        def tax(amount):
            return amount * 0.2

        c.output("tax")


class Small(ig.Contract):
    def define(c):
        c.input("kind")
        c.output("kind")


class Item(ig.Contract):
    def define(c):
        c.input("id")
        c.input("qty", type="integer")

        @c.compute
        def line(id, qty):
            return qty * 2

        c.output("line")


class PriceContract(ig.Contract):
    def define(c):
        c.input("order_total", type="numeric")
        c.input("country", type=str)
        c.input("vat_rate", type=float, default=0.2)
        with c.scope("pricing"):

            @c.compute(depends_on=["country", "vat_rate"])
            def effective_vat_rate(country, vat_rate):
                return vat_rate if country == "UA" else 0.0

            @c.compute
            def gross_total(order_total, effective_vat_rate):
                return order_total * (1 + effective_vat_rate)

        c.output("gross_total")


class LabelledPrice(ig.Contract):
    """Nodes declared with ``label=`` (the gallery shows them): the label on top, the name under it."""

    def define(c):
        c.input("order_total", type="numeric", label="Order total (EUR)")
        c.input("country", type=str, label="Ship to")
        with c.scope("pricing"):

            @c.compute(depends_on=["country"], label="VAT rate")
            def vat_rate(country):
                return 0.2 if country == "UA" else 0.0

            @c.compute(label="Total with VAT")
            def gross_total(order_total, vat_rate):
                return order_total * (1 + vat_rate)

        c.output("gross_total", label="Amount due")


class ApprovalContract(ig.Contract):
    """Waits for an external event; ``summary`` is blocked by it."""

    def define(c):
        c.correlate_by("order_id")
        c.input("order_id", type=str)
        c.input("order_total", type="numeric")
        c.const("currency", "EUR")
        c.guard("positive", depends_on=["order_total"], call=lambda order_total: order_total > 0)
        c.compose("taxes", contract=Tax, inputs={"amount": "order_total"})
        c.await_event("approval", event="manager_approved")

        @c.compute
        def approved_total(order_total, approval):
            return order_total if approval.get("ok") else 0

        @c.aggregate
        def summary(approved_total, currency, taxes):
            return {"total": approved_total, "currency": currency}

        c.output("summary")
        c.output("tax", source="taxes.tax")


class FailingContract(ig.Contract):
    def define(c):
        c.input("x", type="integer")

        @c.compute
        def boom(x):
            raise ValueError("no good")

        @c.compute
        def after(boom):
            return boom

        c.output("after")


class AllKinds(ig.Contract):
    """One node of every kind, for the visual-language tests."""

    def define(c):
        c.correlate_by("request_id")
        c.input("request_id", type=str)
        c.input("kind", type=str)
        c.input("items", type=list)
        c.input("order", type=dict)
        c.const("rate", 3)
        c.lookup("customer", depends_on=["request_id"], call=lambda request_id: {"name": request_id})
        c.map("doubled", source="items", call=lambda items: list(items))
        c.project("amount", source="order", key="amount")
        c.guard("has_items", depends_on=["items"], call=lambda items: bool(items))
        c.compose("tax", contract=Tax, inputs={"amount": "amount"})
        c.branch("handler", selector="kind", cases={"a": Small, "b": Small}, default=Small, inputs={"kind": "kind"})
        c.collection("lines", source="items", each=Item, key="id")
        c.await_event("crm_data", event="crm_webhook_received")
        c.remote("score", contract="Scoring", node="http://scoring.local:8080", inputs={"customer": "customer"})

        @c.aggregate
        def report(customer, crm_data, lines, tax, score):
            return 1

        c.output("report")
        c.output("kind_out", source="handler.kind")


def layered_graph(n: int, *, scope_size: int | None = 10, fan: int = 3, name: str | None = None) -> Any:
    """A compiled graph of ``n`` nodes: one input, then nodes each reading up to ``fan`` earlier ones,
    grouped in scopes of ``scope_size`` (``None``: no scopes). Deterministic."""

    def define(c: Any) -> None:
        c.input("x0", type="numeric")
        for i in range(1, n):
            deps = sorted({f"x{max(0, i - 1 - k * 7)}" for k in range(fan)})

            def fn(**kw: Any) -> Any:
                return sum(kw.values())

            if scope_size:
                with c.scope(f"s{i // scope_size:03d}"):
                    c.compute(f"x{i}", depends_on=deps, call=fn)
            else:
                c.compute(f"x{i}", depends_on=deps, call=fn)
        c.output(f"x{n - 1}")

    return ig.compile(define, name=name or f"Layered{n}")


#: The scopes a random graph's nodes are declared in: none, two top-level ones, one nested, one with a long name.
RANDOM_SCOPES: list[tuple[str, ...]] = [(), ("a",), ("b",), ("a", "inner"), ("long_scope_name",)]


def declare_within(c: Any, scope: tuple[str, ...], declare: Any) -> None:
    """``declare()`` inside the nested scopes ``scope`` of builder ``c`` (none: at the top)."""
    if not scope:
        declare()
        return
    with c.scope(scope[0]):
        declare_within(c, scope[1:], declare)


def random_graph(seed: int, n: int = 30) -> Any:
    """A compiled random DAG of about ``n`` nodes, fixed by ``seed``: a few inputs and an await, computes reading
    one to three earlier nodes, names of varied length, nested scopes, one or two outputs."""
    import random

    rng = random.Random(seed)
    names: list[str] = []
    scopes = RANDOM_SCOPES

    def define(c: Any) -> None:
        def within(scope: tuple[str, ...], declare: Any) -> None:
            declare_within(c, scope, declare)

        for i in range(rng.randint(1, 3)):
            name = f"in{i}" + "_x" * rng.randint(0, 6)
            c.input(name)
            names.append(name)
        if rng.random() < 0.5:
            c.await_event("signal", event="signal_" + "y" * rng.randint(0, 10))
            names.append("signal")
        for i in range(n):
            deps = sorted(set(rng.sample(names, k=min(len(names), rng.randint(1, 3)))))
            name = f"n{i}" + "_z" * rng.randint(0, 8)

            def declare(name: str = name, deps: list[str] = deps) -> None:
                c.compute(name, depends_on=deps, call=lambda **kw: 1)

            within(rng.choice(scopes), declare)
            names.append(name)
        for out in sorted({names[-1], rng.choice(names[-5:])}):
            c.output(out)

    return ig.compile(define, name=f"Random{seed}")
