"""A structured reply that did not validate because the model stopped early — cut at ``max_tokens`` (Anthropic
``max_tokens``, OpenAI and Ollama ``length``) or refused (Anthropic ``refusal``, an OpenAI refusal). The executor
asked again with the validation error: a request paid for that could not help (the same conversation is cut at the
same ``max_tokens`` again, and a refusal is no format mistake), and the node's error spoke only of invalid JSON. Now
such a reply fails the node at once with an ``OutputValidationError`` naming the stop reason and what to do."""

from __future__ import annotations

import pydantic
import pytest

import igniter_nb as ig
from igniter_nb.llm.testing import StubReply
from tests.llm.llm_contracts import contract_class, executor_class


class Verdict(pydantic.BaseModel):
    claim: str
    holds: bool


GOOD = '{"claim": "water is wet", "holds": true}'
CUT = '{"claim": "water is w'
CUT_BY = {"anthropic": "max_tokens", "openai": "length", "ollama": "length"}


@pytest.mark.parametrize("provider", list(CUT_BY))
def test_a_reply_cut_at_max_tokens_is_not_asked_again_and_says_so(provider, stubs):
    stub = stubs(provider, [StubReply(CUT, stop_reason=CUT_BY[provider]), StubReply(GOOD)])
    contract = contract_class(executor_class(provider, response_model=Verdict, max_tokens=8))(question="q")
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.OutputValidationError), error
    message = str(error)
    assert f"stop reason {CUT_BY[provider]!r}" in message and "max_tokens" in message and "8" in message
    assert error.context.get("stop_reason") == CUT_BY[provider] and error.context.get("node") == "answer"
    assert len(stub.requests) == 1  # not asked again: the same request is cut again


def test_an_anthropic_refusal_is_not_asked_again(stubs):
    stub = stubs("anthropic", [StubReply("", stop_reason="refusal"), StubReply(GOOD)])
    contract = contract_class(executor_class("anthropic", response_model=Verdict))(question="q")
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.OutputValidationError), error
    assert "refused" in str(error) and error.context.get("stop_reason") == "refusal"
    assert len(stub.requests) == 1


def test_an_invalid_reply_that_ended_normally_is_still_asked_again(stubs):
    stub = stubs("openai", [StubReply('{"claim": 1}'), StubReply(GOOD)])
    assert executor_class("openai", response_model=Verdict)().complete("q").holds is True
    assert len(stub.requests) == 2


def test_a_valid_reply_is_taken_whatever_its_stop_reason(stubs):
    stubs("anthropic", [StubReply(GOOD, stop_reason="max_tokens")])
    assert executor_class("anthropic", response_model=Verdict)().complete("q").claim == "water is wet"
