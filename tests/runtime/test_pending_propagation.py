"""Pending and waiting propagate through composition, branch and collection (L-08), and resume continues."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.runtime.collection import CollectionDeferred

RUNS: list[object] = []


class AskQuote(ig.Executor):
    def call(self, sku):
        RUNS.append(sku)
        return self.defer(token=f"quote-{sku}", payload={"sku": sku})


class Quote(ig.Contract):
    def define(c):
        c.input("sku")
        c.compute("price", depends_on=["sku"], call=AskQuote)

        @c.compute
        def gross(price):
            return price * 2

        c.output("gross")


class Approval(ig.Contract):
    def define(c):
        c.input("sku")
        c.await_event("approved", event="approval")

        @c.compute
        def gross(sku, approved):
            return f"{sku}:{approved['by']}"

        c.output("gross")


@pytest.fixture(autouse=True)
def _clear_runs():
    RUNS.clear()


@ig.contract
def Checkout(c):
    c.input("sku")
    c.compose("quote", contract=Quote, inputs={"sku": "sku"})
    c.export("gross", source="quote")

    @c.compute(depends_on=["gross"])
    def shipped(gross):
        return gross + 1

    c.output("shipped")


def test_pending_child_makes_parent_pending_L08():
    p = Checkout(sku="a")
    assert p.status == "pending" and p.pending and not p.succeeded
    st = p.execution.states["quote"]
    assert st.status == "pending" and st.value.token == "quote-a"
    assert p.execution.states["shipped"].status == "pending"
    deferred = p.result.gross
    assert isinstance(deferred, ig.DeferredResult) and deferred.token == "quote-a"


def test_resuming_the_child_token_continues_the_parent():
    p = Checkout(sku="a")
    assert p.status == "pending"
    p.resume_by_token("quote-a", 10)
    assert p.status == "succeeded"
    assert p.result.gross == 20 and p.result.shipped == 21
    assert RUNS == ["a"]  # the child was continued, not rebuilt


def test_resume_by_node_name_through_the_composition():
    p = Checkout(sku="b")
    p.resolve_all()
    p.resume("quote", 1)
    assert p.result.shipped == 3


def test_pending_branch_child_makes_the_branch_pending():
    @ig.contract
    def Routed(c):
        c.input("kind")
        c.input("sku")
        c.branch("route", selector="kind", cases={"quote": Quote, "approval": Approval}, inputs={"sku": "sku"})
        c.export("gross", source="route")

    quoted = Routed(kind="quote", sku="x")
    assert quoted.status == "pending"
    quoted.resume_by_token("quote-x", 4)
    assert quoted.result.gross == 8

    approval = Routed(kind="approval", sku="y")
    assert approval.status == "waiting" and approval.execution.states["route"].status == "waiting"
    approval.resume("route", {"by": "ops"})
    assert approval.status == "succeeded" and approval.result.gross == "y:ops"


def quotes_contract(each=Quote):
    @ig.contract
    def Basket(c):
        c.input("items")
        c.collection("quotes", source="items", each=each, key="sku")

        @c.compute
        def total(quotes):
            return sum(item.result.gross for item in quotes)

        c.output("total")
        c.output("quotes")

    return Basket


def test_pending_items_make_the_collection_pending_with_per_item_summary():
    b = quotes_contract()(items=[{"sku": "a"}, {"sku": "b"}, {"sku": "c"}])
    assert b.status == "pending"
    assert b.execution.states["total"].status == "pending"
    assert b.execution.states["total"].waiting_for == ("quotes",)
    waiting = b.result.quotes
    assert isinstance(waiting, CollectionDeferred) and waiting.token == "quote-a"
    assert waiting.collection.summary == {"mode": "collect", "total": 3, "succeeded": 0, "failed": 0, "pending": 3,
                                          "status": "pending"}
    assert list(waiting.collection.pending_items) == ["a", "b", "c"]
    pending_event = next(e for e in b.events if e.type == "node_pending" and e.node == "quotes")
    assert pending_event.payload["collection"]["pending_keys"] == ["a", "b", "c"]
    item_events = [e.payload["item_key"] for e in b.events if e.type == "collection_item_pending"]
    assert item_events == ["a", "b", "c"]


def test_resuming_any_item_token_continues_the_collection():
    b = quotes_contract()(items=[{"sku": "a"}, {"sku": "b"}, {"sku": "c"}])
    assert b.status == "pending"
    b.resume_by_token("quote-b", 1)  # not the first pending token
    assert b.status == "pending"
    assert b.result.quotes.collection.summary["pending"] == 2
    assert b.result.quotes.collection["b"].succeeded
    b.resume_by_token("quote-c", 2)
    assert b.status == "pending"
    b.resume("quotes", 3)  # by node: the first pending item ("a")
    assert b.status == "succeeded"
    assert b.result.total == 12
    assert RUNS == ["a", "b", "c"]  # every item child ran once and was continued


def test_unknown_token_still_fails_clearly():
    b = quotes_contract()(items=[{"sku": "a"}])
    b.resolve_all()
    with pytest.raises(ig.ResolutionError, match="No pending node found for token 'nope'"):
        b.resume_by_token("nope", 1)


def test_a_waiting_item_makes_the_collection_waiting():
    b = quotes_contract(Approval)(items=[{"sku": "a"}])
    assert b.status == "waiting"
    summary = b.result.quotes.collection.summary
    assert summary["status"] == "waiting" and summary["pending"] == 1
    b.resume("quotes", {"by": "ann"})
    assert b.result.quotes["a"].result.gross == "a:ann"


def test_tokens_are_found_through_nested_children():
    @ig.contract
    def Order(c):
        c.input("items")
        c.compose("basket", contract=quotes_contract(), inputs={"items": "items"})
        c.export("total", source="basket")

    o = Order(items=[{"sku": "a"}, {"sku": "b"}])
    assert o.status == "pending"
    o.resume_by_token("quote-b", 5)
    o.resume_by_token("quote-a", 1)
    assert o.status == "succeeded" and o.result.total == 12


def test_resume_by_token_goes_through_the_child_even_when_a_parent_node_has_the_origin_name_L08():
    """The quote child defers from its node ``price``; the parent also has a node ``price`` that is only
    blocked by the collection. Resuming the token must continue the child, not overwrite the parent's node."""

    @ig.contract
    def Basket(c):
        c.input("skus", type=list)
        c.collection("quotes", source="skus", each=Quote, key="sku")

        @c.compute
        def price(quotes):
            return sum(item.result.gross for item in quotes)

        c.output("price")

    k = Basket(skus=[{"sku": "a"}])
    assert k.status == "pending"
    assert k.states["price"]["status"] == "pending"
    k.resume_by_token("quote-a", value=5)
    assert k.status == "succeeded"
    assert k.result.price == 10


def test_resuming_a_child_no_output_reads_ends_one_lifecycle():
    @ig.contract
    def Side(c):
        c.input("sku")
        c.compose("quote", contract=Quote, inputs={"sku": "sku"})
        c.output("sku")

    p = Side(sku="a")
    p.resolve_all()
    p.execution.resolver.resolve("quote")  # read on its own: no output depends on it
    assert p.execution.states["quote"].status == "pending"
    before = len(p.events)
    p.resume_by_token("quote-a", 10)
    finished = [e for e in p.events[before:] if e.type == "execution_finished"]
    assert [e.payload["status"] for e in finished] == ["succeeded"]  # it ended two lifecycles
