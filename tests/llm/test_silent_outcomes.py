"""LLM outcomes that used to be silently wrong: the node got a value with no sign of trouble (the stop reason was
only in the ``llm_call`` audit).

- A plain-text refusal (Anthropic ``stop_reason: "refusal"``, an OpenAI ``refusal`` field or ``finish_reason:
  "content_filter"``) became the node's value (``""`` for an Anthropic refusal with no content).
- A plain-text reply cut at the output limit (``max_tokens``/``length``) was returned as if whole.
- In ``tools_run="defer"`` mode a call to a tool the executor does not offer made a durable wait.

Now a refusal is an ``OutputValidationError`` (as a refused structured reply already was), a cut reply too unless
the executor sets ``on_truncated = "keep"``, and a call to an unknown tool a ``ProviderError`` naming it and the
tools offered, with no wait made. A reply answered from the cache or a resume lease behaves as a live one."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.llm.testing import StubReply
from tests.llm.conftest import PROVIDERS
from tests.llm.llm_contracts import contract_class, executor_class, lookup_price, search

CUT_BY = {"anthropic": "max_tokens", "openai": "length", "ollama": "length"}


def _failure(contract):
    assert contract.status == "failed", contract.status
    return contract.execution.states["answer"].error


# ----------------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("stream", [False, True])
def test_an_anthropic_refusal_with_no_content_fails_the_node(stubs, stream):
    stubs("anthropic", [StubReply("", stop_reason="refusal")])
    contract = contract_class(executor_class("anthropic", stream=(lambda _: None) if stream else False))(question="q")
    error = _failure(contract)
    assert isinstance(error, ig.llm.OutputValidationError), error
    assert "refused" in str(error) and "'refusal'" in str(error)
    assert error.context.get("stop_reason") == "refusal" and error.context.get("node") == "answer"
    assert error.context.get("provider") == "anthropic" and error.context.get("model") == "anthropic-test-model"


@pytest.mark.parametrize("stream", [False, True])
def test_an_openai_refusal_field_fails_the_node_with_what_the_model_said(stubs, stream):
    stubs("openai", [StubReply(refusal="I can't help with that.")])
    contract = contract_class(executor_class("openai", stream=(lambda _: None) if stream else False))(question="q")
    error = _failure(contract)
    assert isinstance(error, ig.llm.OutputValidationError), error
    assert "I can't help with that." in str(error) and error.context.get("stop_reason") == "refusal"


def test_an_openai_content_filter_stop_fails_the_node(stubs):
    stubs("openai", [StubReply("The first half of", stop_reason="content_filter")])
    error = _failure(contract_class(executor_class("openai"))(question="q"))
    assert isinstance(error, ig.llm.OutputValidationError), error
    assert "'content_filter'" in str(error) and error.context.get("stop_reason") == "content_filter"


def test_a_refusal_outside_a_contract_raises_from_complete(stubs):
    stubs("anthropic", [StubReply("I won't.", stop_reason="refusal")])
    executor = executor_class("anthropic")()
    with pytest.raises(ig.llm.OutputValidationError, match="refused"):
        executor.complete("q")
    assert executor.last_context is not None and executor.last_context.last_assistant_message == "I won't."


def test_a_cached_refusal_raises_as_the_live_one_did_without_asking_again(stubs):
    stub = stubs("anthropic", [StubReply("", stop_reason="refusal"), StubReply("fine")])
    cls = executor_class("anthropic", cache=ig.llm.MemoryCache())
    for _ in range(2):
        with pytest.raises(ig.llm.OutputValidationError, match="refused"):
            cls().complete("q")
    assert len(stub.requests) == 1  # the second answer came from the cache, and failed the same way


# ----------------------------------------------------------------------------------------------- cut replies


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_plain_reply_cut_at_the_output_limit_fails_the_node_by_default(provider, stubs):
    stubs(provider, [StubReply("The answer is that the", stop_reason=CUT_BY[provider])])
    error = _failure(contract_class(executor_class(provider, max_tokens=8))(question="q"))
    assert isinstance(error, ig.llm.OutputValidationError), error
    message = str(error)
    assert f"stop reason {CUT_BY[provider]!r}" in message and "max_tokens=8" in message
    assert "on_truncated" in message
    assert error.context.get("stop_reason") == CUT_BY[provider] and error.context.get("provider") == provider


@pytest.mark.parametrize("provider", PROVIDERS)
def test_on_truncated_keep_takes_the_cut_reply(provider, stubs):
    stubs(provider, [StubReply("The answer is that the", stop_reason=CUT_BY[provider])])
    contract = contract_class(executor_class(provider, on_truncated="keep"))(question="q")
    assert contract.status == "succeeded" and contract.result.answer == "The answer is that the"
    (call,) = [e for e in contract.events if e.type == "llm_call"]
    assert call.payload["stop_reason"] == CUT_BY[provider]


def test_on_truncated_is_checked_when_the_class_is_made():
    with pytest.raises(ig.llm.ConfigurationError, match=r"on_truncated must be 'error' or 'keep', got 'drop'"):
        executor_class("openai", on_truncated="drop")


def test_a_cut_final_reply_after_auto_tool_rounds_fails_too(stubs):
    stubs("openai", [StubReply(tool_calls=(("c1", "search", {"query": "dune"}),)),
                     StubReply("Dune is", stop_reason="length")])
    error = _failure(contract_class(executor_class("openai", tools=[search], tools_run="auto"))(question="q"))
    assert isinstance(error, ig.llm.OutputValidationError) and error.context.get("stop_reason") == "length"


# ----------------------------------------------------------------------------------------------- unknown tools


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_call_to_a_tool_not_offered_makes_no_wait_in_defer_mode(provider, stubs):
    stubs(provider, [StubReply(tool_calls=(("c1", "search", {"query": "dune"}), ("c2", "delete_all", {})))])
    contract = contract_class(executor_class(provider, tools=[search, lookup_price]))(question="q")
    error = _failure(contract)
    assert isinstance(error, ig.llm.ProviderError), error
    message = str(error)
    assert "'delete_all'" in message and "search, lookup_price" in message
    assert error.context.get("tool") == "delete_all" and error.context.get("tools") == ["search", "lookup_price"]
    assert not isinstance(contract.execution.states["answer"].value, ig.DeferredResult)


def test_an_unknown_tool_in_the_reply_to_resumed_results_fails_and_is_not_paid_twice(stubs):
    stub = stubs("anthropic", [StubReply(tool_calls=(("c1", "search", {"query": "dune"}),)),
                               StubReply(tool_calls=(("c2", "nope", {}),)), StubReply("never asked")])
    cache = ig.llm.MemoryCache()
    cls = contract_class(executor_class("anthropic", tools=[search], cache=cache))
    contract = cls(question="q")
    token = contract.result.answer.token
    contract.resume_by_token(token, value=[{"id": "c1", "name": "search", "content": "Dune"}])
    error = _failure(contract)
    assert isinstance(error, ig.llm.ProviderError) and "'nope'" in str(error)
    assert len(stub.requests) == 2
    again = cls(question="q")  # the same requests again: answered from the cache, refused the same way
    again.resume_by_token(again.result.answer.token, value=[{"id": "c1", "name": "search", "content": "Dune"}])
    assert isinstance(_failure(again), ig.llm.ProviderError)
    assert len(stub.requests) == 2


def test_auto_mode_still_answers_an_unknown_tool_with_an_error_result(stubs):
    stubs("openai", [StubReply(tool_calls=(("c1", "nope", {}),)), StubReply("done")])
    assert executor_class("openai", tools=[search], tools_run="auto")().complete_with_tools("q") == "done"


# ----------------------------------------------------------------------------------------------- replays


class CarriesOn(ig.llm.Executor):
    """Asks a first question, catches its refusal (or cut reply), then waits on a tool call."""

    provider = "anthropic"
    model = "m"
    tools = [search]

    def call(self, question):  # type: ignore[no-untyped-def]
        try:
            first = self.complete(question)
        except ig.llm.OutputValidationError as exc:
            first = f"failed: {exc.context['stop_reason']}"
        found = self.complete_with_tools(f"{first}; now search")
        if isinstance(found, ig.DeferredResult):
            return found
        return [first, found]


class CarriesOnContract(ig.Contract):
    def define(c):  # type: ignore[no-untyped-def]
        c.input("question", type=str)
        c.compute("answer", call=CarriesOn)
        c.output("answer")


@pytest.mark.parametrize("stop", ["refusal", "max_tokens"])
def test_a_refused_or_cut_reply_that_call_caught_is_replayed_on_resume_not_asked_again(stubs, stop):
    stub = stubs("anthropic", [StubReply("I won't", stop_reason=stop),
                               StubReply(tool_calls=(("c1", "search", {"query": "dune"}),)),
                               StubReply("Dune."), StubReply("asked again: a different answer")])
    contract = CarriesOnContract(question="q")
    waiting = contract.result.answer
    assert isinstance(waiting, ig.DeferredResult)
    contract.resume_by_token(waiting.token, value=[{"id": "c1", "name": "search", "content": "Dune"}])
    assert contract.status == "succeeded", contract.execution.states["answer"].error
    assert contract.result.answer == [f"failed: {stop}", "Dune."]
    assert len(stub.requests) == 3  # the first question was answered from the wait's journal, not paid again
