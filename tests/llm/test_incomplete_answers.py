"""Answers that are not whole. A tool call cut at the output limit (Anthropic documents that a ``tool_use`` block
cut by ``max_tokens`` is incomplete and must be asked again with a higher ``max_tokens``) made a durable wait — or
ran an auto tool — with arguments the model had not finished. A plain (not streamed) answer without its stop reason
(Anthropic ``stop_reason: null``, OpenAI ``finish_reason: null``, Ollama ``done: false``: a proxy passing on an
answer still being made) was taken as whole, while the same thing streamed was refused. Each is now a
``ProviderError`` saying what was missing; nothing runs and no wait is made."""

from __future__ import annotations

import json

import pytest

import igniter_nb as ig
from igniter_nb.llm.testing import StubRaw, StubReply
from tests.llm.conftest import PROVIDERS
from tests.llm.llm_contracts import contract_class, executor_class, search

CUT_BY = {"anthropic": "max_tokens", "openai": "length", "ollama": "length"}


@pytest.mark.parametrize("mode", ["defer", "auto"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_tool_calls_cut_at_the_output_limit_are_refused_not_waited_on(provider, mode, stubs):
    ran: list[str] = []

    def search(query: str) -> list[str]:
        """Search."""
        ran.append(query)
        return [query]

    cut = StubReply("", tool_calls=(("call_1", "search", {"query": "du"}),), stop_reason=CUT_BY[provider])
    stub = stubs(provider, [cut, StubReply("done")])
    contract = contract_class(executor_class(provider, tools=[search], tools_run=mode, max_retries=0,
                                             max_tokens=16))(question="q")
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.ProviderError), error
    message = str(error)
    assert "output limit" in message and repr(CUT_BY[provider]) in message and "max_tokens" in message
    assert f"127.0.0.1:{stub.port}" in message
    assert ran == [] and len(stub.requests) == 1


def test_tool_calls_that_ended_normally_still_wait(stubs):
    stubs("anthropic", [StubReply("", tool_calls=(("toolu_1", "search", {"query": "dune"}),))])
    contract = contract_class(executor_class("anthropic", tools=[search]))(question="q")
    assert contract.status == "pending"


NO_STOP = {
    "anthropic": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "stop_reason": None,
                  "stop_sequence": None, "content": [{"type": "text", "text": "Paris is the"}],
                  "usage": {"input_tokens": 3, "output_tokens": 3}},
    "openai": {"id": "c", "object": "chat.completion", "created": 1, "model": "m",
               "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris is the"},
                            "finish_reason": None}]},
    "ollama": {"model": "m", "created_at": "2024-01-01T00:00:00Z",
               "message": {"role": "assistant", "content": "Paris is the"}, "done": False},
}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_plain_answer_without_its_stop_reason_is_not_taken_for_a_whole_one(provider, stubs):
    stub = stubs(provider, [StubRaw(json.dumps(NO_STOP[provider]))])
    with pytest.raises(ig.llm.ProviderError) as info:
        executor_class(provider, max_retries=0)().complete("q")
    message = str(info.value)
    assert "not a valid response" in message and "stop reason" in message
    assert f"127.0.0.1:{stub.port}" in message
