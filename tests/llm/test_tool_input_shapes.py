"""A tool call whose arguments are not a JSON object, from each provider. OpenAI's and Ollama's were refused as
an answer that is not the API's; Anthropic's ``tool_use.input`` went through ``dict(...)``: a list of pairs
(``[["query", "x"]]``) silently became the object ``{"query": "x"}`` and ran the tool, and a text or a number
failed with Python's words about dictionary update sequences. Now each is a ``ProviderError`` naming the call,
the tool and the URL, with the arguments as sent; nothing runs and no wait is made."""

from __future__ import annotations

import json

import pytest

import igniter_nb as ig
from igniter_nb.llm.testing import StubRaw, StubReply
from tests.llm.llm_contracts import contract_class, executor_class, search

NOT_OBJECTS = {"a list of pairs": [["query", "x"]], "a text": "query=x", "a number": 5, "a list": [1, 2],
               "null": None}


def _anthropic(arguments):
    return StubRaw(json.dumps({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m", "stop_reason": "tool_use",
        "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 2},
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "search", "input": arguments}]}))


@pytest.mark.parametrize("mode", ["auto", "defer"])
@pytest.mark.parametrize("shape", list(NOT_OBJECTS))
def test_anthropic_tool_input_that_is_not_an_object_is_a_provider_error_naming_the_call(shape, mode, stubs):
    ran: list[str] = []

    def search_logged(query: str) -> list[str]:
        """Search."""
        ran.append(query)
        return search(query)

    search_logged.__name__ = "search"
    stub = stubs("anthropic", [_anthropic(NOT_OBJECTS[shape]), StubReply("done")])
    executor = executor_class("anthropic", tools=[search_logged], tools_run=mode, max_retries=0)
    contract = contract_class(executor)(question="q")
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.ProviderError), error
    message = str(error)
    assert "toolu_1" in message and "search" in message and "not a JSON object" in message
    assert f"127.0.0.1:{stub.port}" in message
    assert ran == [] and len(stub.requests) == 1


def test_an_empty_anthropic_tool_input_is_still_no_arguments(stubs):
    def ping() -> str:
        """Ping."""
        return "pong"

    body = json.loads(_anthropic({}).body)
    body["content"][0]["name"] = "ping"
    stubs("anthropic", [StubRaw(json.dumps(body)), StubReply("done")])
    executor = executor_class("anthropic", tools=[ping], tools_run="auto", max_retries=0)
    assert executor().complete_with_tools("q") == "done"
