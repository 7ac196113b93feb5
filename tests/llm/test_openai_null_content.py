"""An OpenAI (or OpenAI-compatible) answer whose message has ``content: null``. The API sends a null content beside
tool calls or a refusal (``message.refusal``); an empty answer from the model is ``""``. Until 2026-12-05 a null
content with nothing else — no tool calls, no refusal — was taken as the empty reply ``""`` whatever the finish
reason, so a node got an empty value with no sign of trouble when ``finish_reason`` was ``stop`` or ``tool_calls``
(an OpenAI-compatible server whose reasoning model put its whole output elsewhere, a proxy that dropped the text).
Now:

- ``stop`` (or any reason but the ones below) with a null content and nothing else: a ``ProviderError`` naming
  the provider, the finish reason and the server — it is not a valid answer.
- ``tool_calls`` with no tool calls: the same ``ProviderError``.
- ``content_filter`` with a null content: the refusal it always was (``OutputValidationError``, stop reason
  ``content_filter``); ``length``: a cut reply (``on_truncated``), as before.
- ``content: ""`` with ``stop``: the model's empty answer, still ``""``.

Real stub server on 127.0.0.1, the official SDK."""

from __future__ import annotations

import json

import pytest

import igniter_nb as ig
from igniter_nb.llm.testing import StubRaw, StubReply
from tests.llm.llm_contracts import executor_class


def _answer(content: str | None, finish: str, **message: object) -> StubRaw:
    return StubRaw(json.dumps({
        "id": "c", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, **message},
                     "finish_reason": finish}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 0, "total_tokens": 3}}))


@pytest.mark.parametrize("finish", ["stop", "tool_calls"])
def test_a_null_content_with_nothing_else_is_a_provider_error(stubs, finish):
    stub = stubs("openai", [_answer(None, finish, refusal=None)])
    with pytest.raises(ig.llm.ProviderError) as info:
        executor_class("openai", max_retries=0)().complete("q")
    message = str(info.value)
    assert "content" in message and "null" in message and f"'{finish}'" in message
    assert f"127.0.0.1:{stub.port}" in message
    assert info.value.context.get("provider") == "openai"


def test_a_null_content_is_not_asked_again(stubs):
    stub = stubs("openai", [_answer(None, "stop"), _answer("late", "stop")])
    with pytest.raises(ig.llm.ProviderError, match="content is null"):
        executor_class("openai")().complete("q")  # (default retries)
    assert len(stub.requests) == 1


def test_a_null_content_with_nothing_else_fails_the_node_in_a_contract(stubs):
    from tests.llm.llm_contracts import contract_class

    stubs("openai", [_answer(None, "stop")])
    contract = contract_class(executor_class("openai", max_retries=0))(question="q")
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.ProviderError) and "null" in str(error), error


def test_an_empty_content_is_the_models_empty_answer(stubs):
    stubs("openai", [_answer("", "stop")])
    assert executor_class("openai", max_retries=0)().complete("q") == ""


def test_a_null_content_stopped_by_the_content_filter_is_a_refusal(stubs):
    stubs("openai", [_answer(None, "content_filter")])
    with pytest.raises(ig.llm.OutputValidationError) as info:
        executor_class("openai", max_retries=0)().complete("q")
    assert "'content_filter'" in str(info.value) and info.value.context.get("stop_reason") == "content_filter"


def test_a_null_content_with_a_refusal_is_a_refusal_naming_what_was_said(stubs):
    stubs("openai", [_answer(None, "stop", refusal="I can't help with that. " * 40)])
    with pytest.raises(ig.llm.OutputValidationError) as info:
        executor_class("openai", max_retries=0)().complete("q")
    message = str(info.value)
    assert "refused" in message and "I can't help with that." in message and len(message) < 1000


def test_a_null_content_cut_at_the_limit_is_a_cut_reply(stubs):
    stubs("openai", [_answer(None, "length"), _answer(None, "length")])
    with pytest.raises(ig.llm.OutputValidationError, match="output limit"):
        executor_class("openai", max_retries=0)().complete("q")
    assert executor_class("openai", max_retries=0, on_truncated="keep")().complete("q") == ""


def test_tool_calls_with_a_null_content_are_still_taken(stubs):
    stubs("openai", [StubReply(tool_calls=(("call_1", "lookup_price", {"title": "Dune"}),)), StubReply("done")])
    from tests.llm.llm_contracts import lookup_price

    executor = executor_class("openai", max_retries=0, tools=[lookup_price])()
    waiting = executor.complete_with_tools("q")  # (the default: a durable wait on the tool call)
    assert waiting.payload["tool_calls"][0]["name"] == "lookup_price"


def _streamed(*deltas: dict[str, object], finish: str = "stop") -> StubRaw:
    chunks = [{"index": 0, "delta": delta, "finish_reason": None} for delta in deltas]
    chunks.append({"index": 0, "delta": {}, "finish_reason": finish})
    lines = [json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [c]})
             for c in chunks]
    return StubRaw("".join(f"data: {line}\n\n" for line in lines) + "data: [DONE]\n\n",
                   content_type="text/event-stream")


def test_a_streamed_answer_without_any_content_is_a_provider_error(stubs):
    stubs("openai", [_streamed({"role": "assistant", "content": None})])
    with pytest.raises(ig.llm.ProviderError, match="content is null"):
        executor_class("openai", max_retries=0)().complete("q", stream=lambda _: None)


def test_a_streamed_empty_answer_is_still_the_empty_reply(stubs):
    stubs("openai", [_streamed({"role": "assistant", "content": ""})])
    assert executor_class("openai", max_retries=0)().complete("q", stream=lambda _: None) == ""


@pytest.mark.parametrize("stream", [False, True])
def test_the_stub_answers_an_empty_reply_as_the_api_does(stubs, stream):
    """``StubReply("")`` with no tool call is the model's empty answer: the stub sent ``content: null`` for it,
    which the API never does without tool calls or a refusal, so a test of an empty reply met a ProviderError."""
    stubs("openai", [StubReply("")])
    assert executor_class("openai", max_retries=0)().complete("q", stream=stream) == ""
