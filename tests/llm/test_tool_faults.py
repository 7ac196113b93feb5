"""Tools that misbehave with ``tools_run="auto"``: a return value that cannot be sent to the model (an object, a
cycle, nesting too deep, bytes that are not UTF-8) is an error result the model reads, like a tool that raises
(it failed the node with a bare serialization error before); an ``async def`` tool is refused when the class is
made (it returned an un-awaited coroutine)."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.llm.testing import StubReply
from tests.llm.llm_contracts import contract_class, executor_class

ONE_CALL = StubReply("", tool_calls=(("c1", "fetch", {"key": "k"}),))


def _deep(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def _cycle() -> list:
    value: list = []
    value.append(value)
    return value


UNSENDABLE = {"an object": object, "a cycle": _cycle, "nesting 5,000 deep": lambda: _deep(5000),
              "bytes that are not UTF-8": lambda: b"\xff\xfe"}


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
@pytest.mark.parametrize("value", list(UNSENDABLE))
def test_a_tool_value_that_cannot_be_sent_is_an_error_result_the_model_reads(value, provider, stubs):
    make = UNSENDABLE[value]

    def fetch(key: str):
        """Fetch a record."""
        return make()

    stub = stubs(provider, [ONE_CALL, StubReply("The tool failed.")])
    contract = contract_class(executor_class(provider, tools=[fetch], tools_run="auto"))(question="q")
    assert contract.status == "succeeded" and contract.result.answer == "The tool failed."
    (tool_round,) = [e for e in contract.events if e.type == "llm_tool_round"]
    (result,) = tool_round.payload["results"]
    assert result["is_error"] is True
    assert "tool fetch returned a value that cannot be sent to the model" in result["content"]
    sent = stub.requests[1].messages[-1]
    if provider == "anthropic":
        (block,) = sent["content"]
        assert block["is_error"] is True and "cannot be sent" in block["content"]
    else:
        assert sent["role"] == "tool" and "cannot be sent" in sent["content"]


def test_an_async_tool_is_refused_when_the_class_is_made():
    async def fetch(key: str) -> str:
        """Fetch a record."""
        return key

    with pytest.raises(ig.llm.ConfigurationError, match=r"runs tools synchronously, and fetch is async"):
        executor_class("openai", tools=[fetch], tools_run="auto")
    executor_class("openai", tools=[fetch])  # a durable call: whoever answers it may await it


def test_a_tool_that_returns_an_awaitable_is_an_error_result(stubs):
    async def later() -> str:
        return "x"

    def fetch(key: str):
        """Fetch a record."""
        return later()

    stubs("openai", [ONE_CALL, StubReply("ok")])
    contract = contract_class(executor_class("openai", tools=[fetch], tools_run="auto"))(question="q")
    assert contract.status == "succeeded"
    (tool_round,) = [e for e in contract.events if e.type == "llm_tool_round"]
    assert "returned an awaitable" in tool_round.payload["results"][0]["content"]
