"""A tool call whose arguments hold NaN or an infinity (JSON has no such number, but the SDKs' JSON readers and
Ollama's accept ``NaN``/``Infinity``): the node went pending with ``nan`` in its stored payload, and the next round
failed to send the conversation back ("answered with something that is not a valid response: ValueError: Out of
range float values are not JSON compliant" — blaming the provider's answer for our request). It is refused on
arrival, as other unanswerable tool calls are: a ``ProviderError`` naming the call, the tool and where the number
is."""

from __future__ import annotations

import json

import pytest

import igniter_nb as ig
from igniter_nb.llm.testing import StubRaw
from tests.llm.llm_contracts import contract_class, executor_class, search

_OLLAMA = ('{"model": "m", "created_at": "2024-01-01T00:00:00Z", "done": true, "done_reason": "stop", "message": '
           '{"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "search", '
           '"arguments": {"query": "dune", "limit": NaN}}}]}}')
_OPENAI = json.dumps({"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": [{
    "index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "search",
                                                      "arguments": '{"query": "dune", "limit": Infinity}'}}]}}]})
_ANTHROPIC = ('{"id": "m", "type": "message", "role": "assistant", "model": "m", "stop_reason": "tool_use", '
              '"usage": {"input_tokens": 1, "output_tokens": 1}, "content": [{"type": "tool_use", "id": "c1", '
              '"name": "search", "input": {"query": ["dune", -Infinity]}}]}')


@pytest.mark.parametrize(("provider", "body", "where"), [
    ("ollama", _OLLAMA, "arguments['limit'] = nan"),
    ("openai", _OPENAI, "arguments['limit'] = inf"),
    ("anthropic", _ANTHROPIC, "arguments['query'][1] = -inf"),
])
def test_a_tool_call_holding_nan_or_infinity_fails_the_node_saying_so(provider, body, where, stubs):
    stub = stubs(provider, [StubRaw(body)])
    contract = contract_class(executor_class(provider, tools=[search], max_retries=0))(question="q")
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.ProviderError) and error.provider == provider
    assert "whose arguments hold a number JSON does not have" in str(error) and where in str(error), str(error)
    assert "(search)" in str(error) and f"127.0.0.1:{stub.port}" in str(error)
    assert not any(e.type == "node_pending" for e in contract.events)
