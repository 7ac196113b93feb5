"""Compile-time workflow checks (issue 5 item 2): correlation keys are inputs, event names are unique,
schemas are valid, timeouts are positive — each error raised at class definition, pointing at user code."""

from __future__ import annotations

import pydantic
import pytest

import igniter_nb as ig
from igniter_nb.errors import CompileError
from tests.workflow.wf_contracts import BillingPayload, LeadWorkflow


def test_correlation_keys_and_await_nodes_are_on_the_compiled_graph():
    graph = LeadWorkflow.compiled_graph()
    assert graph.correlation_keys == ("request_id", "company_id")
    assert LeadWorkflow.correlation_keys() == ("request_id", "company_id")
    assert [(n.name, n.event) for n in graph.await_nodes] == [
        ("crm_data", "crm_webhook_received"), ("billing_data", "billing_data_fetched")]
    assert graph.fetch("billing_data").schema is BillingPayload


def test_correlation_key_must_be_an_input_even_without_awaits_L28():
    with pytest.raises(CompileError, match=r"Correlation keys \['tenant'\] must be declared as inputs") as info:
        class NoAwaits(ig.Contract):
            def define(c):
                c.correlate_by("tenant")
                c.input("amount")
                c.compute("double", depends_on=["amount"], call=lambda amount: amount * 2)
                c.output("double")
    assert info.value.context["graph"] == "NoAwaits"


def test_correlation_key_that_is_a_compute_is_rejected():
    with pytest.raises(CompileError, match="must be declared as inputs"):
        class ComputedKey(ig.Contract):
            def define(c):
                c.correlate_by("key")
                c.input("raw")
                c.compute("key", depends_on=["raw"], call=lambda raw: raw.upper())
                c.await_event("done", event="done")
                c.output("done")


def test_correlate_by_needs_a_key():
    with pytest.raises(CompileError, match="correlate_by needs at least one key"):
        class Empty(ig.Contract):
            def define(c):
                c.correlate_by()
                c.input("a")
                c.output("a")


def test_duplicate_event_names_are_rejected_with_both_nodes():
    with pytest.raises(CompileError, match="Duplicate await event name 'paid' \\(also awaited by 'first'\\)") as info:
        class TwicePaid(ig.Contract):
            def define(c):
                c.correlate_by("id")
                c.input("id")
                c.await_event("first", event="paid")
                c.await_event("second", event="paid")
                c.compute("both", depends_on=["first", "second"], call=lambda first, second: (first, second))
                c.output("both")
    assert info.value.context["node"] == "second"
    assert __file__ in str(info.value.context.get("source_location"))


def test_duplicate_await_node_names_are_rejected():
    with pytest.raises(CompileError):
        class TwiceNamed(ig.Contract):
            def define(c):
                c.correlate_by("id")
                c.input("id")
                c.await_event("reply", event="a")
                c.await_event("reply", event="b")
                c.output("reply")


def test_await_requires_an_event_name():
    with pytest.raises(CompileError, match="requires `event=`"):
        class NoEvent(ig.Contract):
            def define(c):
                c.input("id")
                c.await_event("reply")
                c.output("reply")


@pytest.mark.parametrize("timeout", [0, -5, "soon"])
def test_timeout_must_be_a_positive_number(timeout):
    with pytest.raises(CompileError, match="`timeout=` must be a positive number of seconds"):
        class BadTimeout(ig.Contract):
            def define(c):
                c.input("id")
                c.await_event("reply", event="replied", timeout=timeout)
                c.output("reply")


def test_schema_must_be_a_pydantic_model_or_type_hint():
    with pytest.raises(CompileError, match="schema is not a pydantic model or type hint"):
        class BadSchema(ig.Contract):
            def define(c):
                c.correlate_by("id")
                c.input("id")
                c.await_event("reply", event="replied", schema="not-a-type-name")
                c.output("reply")


@pytest.mark.parametrize("schema", [BillingPayload, dict, dict[str, int], list[int], int | None])
def test_valid_schemas_compile(schema):
    class GoodSchema(ig.Contract):
        def define(c):
            c.correlate_by("id")
            c.input("id")
            c.await_event("reply", event="replied", schema=schema)
            c.output("reply")

    assert GoodSchema.compiled_graph().fetch("reply").schema == schema


def test_dependency_on_an_undeclared_await_is_a_compile_error():
    with pytest.raises(CompileError):
        class Missing(ig.Contract):
            def define(c):
                c.input("id")
                c.compute("use", depends_on=["reply"], call=lambda reply: reply)
                c.output("use")


def test_pydantic_model_class_is_kept_on_the_node():
    class Payload(pydantic.BaseModel):
        n: int

    class WithModel(ig.Contract):
        def define(c):
            c.correlate_by("id")
            c.input("id")
            c.await_event("reply", event="replied", schema=Payload)
            c.output("reply")

    assert WithModel.compiled_graph().fetch("reply").schema is Payload


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), 10**400], ids=["nan", "inf", "10**400"])
def test_timeout_must_be_a_finite_number(timeout):
    # NaN compared false with 0 and passed; every start of such a workflow then raised a bare ValueError or
    # OverflowError building its deadline
    with pytest.raises(CompileError, match="`timeout=` must be a positive number of seconds"):
        class NonFinite(ig.Contract):
            def define(c):
                c.input("id")
                c.await_event("reply", event="replied", timeout=timeout)
                c.output("reply")


def test_a_remote_timeout_must_be_finite_too():
    # the same check (dsl/builder._positive_seconds): NaN passed it and reached the HTTP client
    with pytest.raises(CompileError, match="remote 'quote': `timeout=` must be a positive number of seconds"):
        class NanRemote(ig.Contract):
            def define(c):
                c.input("id")
                c.remote("quote", contract="Quote", node="http://pricing:8000", inputs={"id": "id"},
                         timeout=float("nan"))
                c.output("quote")
