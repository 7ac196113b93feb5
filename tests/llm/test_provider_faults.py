"""A provider that misbehaves: an answer that is not the API's (invalid JSON, an HTML page, fields missing, a
stream with nothing in it), a connection dropped mid-answer, an answer slower than the timeout. Each is an
``ig.llm.ProviderError`` naming the provider and its URL (the call failed with a bare ``JSONDecodeError``,
``AttributeError``, ``AssertionError`` or ``httpx`` error before, and a streamed OpenAI answer that was not a
stream returned an empty reply as if the model had said nothing)."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.llm.testing import StubCut, StubRaw, StubReply, StubSlow
from tests.llm.conftest import PROVIDERS
from tests.llm.llm_contracts import contract_class, executor_class, search

MALFORMED = {
    "invalid JSON": StubRaw("{not json"),
    "an HTML page": StubRaw("<html><body>Gateway</body></html>", content_type="text/html"),
    "an empty object": StubRaw("{}"),
    "a JSON list": StubRaw("[1, 2]"),
}


def _quiet(text: str) -> None:
    pass


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
@pytest.mark.parametrize("answer", list(MALFORMED))
@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_answer_that_is_not_the_apis_is_a_provider_error_naming_the_url(provider, answer, stream, stubs):
    stub = stubs(provider, [MALFORMED[answer]])
    with pytest.raises(ig.llm.ProviderError) as info:
        executor_class(provider, max_retries=0)().complete("q", stream=_quiet if stream else None)
    error = info.value
    assert error.provider == provider
    assert f"127.0.0.1:{stub.port}" in str(error) and error.context["url"]
    assert "not a valid response" in str(error)
    assert error.__cause__ is not None  # what the SDK said is kept


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_connection_dropped_mid_answer_says_so_and_names_the_url(provider, stream, stubs):
    stub = stubs(provider, [StubCut(StubReply("Paris is the capital of France."), after=2)])
    with pytest.raises(ig.llm.ProviderError) as info:
        executor_class(provider, max_retries=0)().complete("q", stream=_quiet if stream else None)
    message = str(info.value)
    assert f"127.0.0.1:{stub.port}" in message
    assert "failed before the answer was complete" in message and "may have received the request" in message
    assert info.value.status_code is None


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_answer_slower_than_the_timeout_is_a_provider_error(provider, stubs):
    stub = stubs(provider, [StubSlow(1.5, StubReply("late"))])
    with pytest.raises(ig.llm.ProviderError) as info:
        executor_class(provider, max_retries=0, timeout=0.3)().complete("q")
    assert f"127.0.0.1:{stub.port}" in str(info.value)
    assert len(stub.requests) == 1


@pytest.mark.parametrize("provider", ["openai", "ollama"])
def test_a_stream_cut_short_cleanly_is_not_taken_for_a_whole_answer(provider, stubs):
    """A stream that ends without its last part (OpenAI's finish_reason, Ollama's done line) is refused."""
    from igniter_nb.llm.stub_wire import ollama_lines, openai_chunks

    reply = StubReply("Paris is the capital of France.")
    lines = list(openai_chunks(reply, "m", 1, True))[:3] if provider == "openai" else list(ollama_lines(reply, "m", 1))[:2]
    media = "text/event-stream" if provider == "openai" else "application/x-ndjson"
    stubs(provider, [StubRaw("".join(lines), content_type=media)])
    with pytest.raises(ig.llm.ProviderError, match="stream ended"):
        executor_class(provider, max_retries=0)().complete("q", stream=_quiet)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_malformed_answer_fails_the_node_with_its_location_and_an_audited_call(provider, stubs):
    stubs(provider, [StubRaw("{not json")])
    contract = contract_class(executor_class(provider, max_retries=0))(question="q")
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.ProviderError)
    assert (error.graph, error.node) == ("Asking", "answer")
    (call,) = [e for e in contract.events if e.type == "llm_call"]
    assert "not a valid response" in call.payload["error"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_exception_of_the_stream_callback_goes_through_unchanged(provider, stubs):
    stubs(provider, [StubReply("one two three")])

    class Stop(Exception):
        pass

    def sink(text: str) -> None:
        raise Stop(text)

    with pytest.raises(Stop):
        executor_class(provider, max_retries=0)().complete("q", stream=sink)


UNANSWERABLE = {
    "no id": ((("", "search", {"query": "x"}),), "without an id"),
    "no name": ((("c1", "", {}),), "without a tool name"),
    "one id twice": ((("c1", "search", {"query": "a"}), ("c1", "search", {"query": "b"})), "two tool calls with the id"),
}


@pytest.mark.parametrize(("provider", "case"), [(p, c) for p in PROVIDERS for c in UNANSWERABLE
                                                 if p != "ollama" or c == "no name"])  # Ollama's ids are ours
def test_tool_calls_no_result_could_answer_fail_the_node_instead_of_a_wait_that_cannot_be_resumed(provider, case,
                                                                                                  stubs):
    """A node left pending on such calls was saved, and failed only when someone resumed it (the results lost)."""
    calls, words = UNANSWERABLE[case]

    stubs(provider, [StubReply("", tool_calls=calls)])
    contract = contract_class(executor_class(provider, tools=[search], max_retries=0))(question="q")
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.ProviderError) and words in str(error)
    assert error.node == "answer" and error.provider == provider


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_base_url_that_is_not_one_cannot_reach_and_says_why(provider):
    """The Anthropic and OpenAI SDKs say only "Connection error.": the cause is named after it, and a request that
    never went out is not reported as one the provider may have received."""
    executor = executor_class(provider, base_url="ftp://127.0.0.1:9", api_key="k", max_retries=0, timeout=5)()
    with pytest.raises(ig.llm.ProviderError) as info:
        executor.complete("q")
    message = str(info.value)
    assert message.startswith(f"cannot reach {provider} at ftp://127.0.0.1:9")
    assert "UnsupportedProtocol" in message and "may have received" not in message


def test_an_openai_refusal_is_the_reply_not_an_empty_text(stubs):
    """OpenAI puts a refusal in `message.refusal` with `content: null`: the reply was "" (the model seemed to say
    nothing); it is the refusal's text now, with stop reason `refusal` (Anthropic's replies carry it the same way),
    and a refusal fails the node with that text (tests/llm/test_silent_outcomes.py)."""
    import json

    def completion(**message):
        return json.dumps({"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", **message}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}})

    def chunk(delta, finish=None):
        return "data: " + json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                                      "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) + "\n\n"

    stream = chunk({"role": "assistant", "refusal": "I can't "}) + chunk({"refusal": "help."}) + chunk({}, "stop")
    stubs("openai", [StubRaw(completion(content=None, refusal="I can't help with that.")),
                     StubRaw(stream + "data: [DONE]\n\n", content_type="text/event-stream")])
    contract = contract_class(executor_class("openai", max_retries=0))(question="q")
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.OutputValidationError) and "I can't help with that." in str(error)
    (call,) = [e.payload for e in contract.events if e.type == "llm_call"]
    assert call["stop_reason"] == "refusal"
    pieces: list[str] = []
    with pytest.raises(ig.llm.OutputValidationError, match=r"I can't help\."):
        executor_class("openai", max_retries=0)().complete("q", stream=pieces.append)
    assert pieces == ["I can't ", "help."]


NO_USAGE = {
    "anthropic": {"id": "m", "type": "message", "role": "assistant", "model": "m", "stop_reason": "end_turn",
                  "content": [{"type": "text", "text": "hi"}]},
    "openai": {"id": "c", "object": "chat.completion", "created": 1, "model": "m",
               "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}]},
    "ollama": {"model": "m", "created_at": "2024-01-01T00:00:00Z", "message": {"role": "assistant", "content": "hi"},
               "done": True},
}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_reply_without_usage_is_audited_as_unreported_not_as_free(provider, stubs):
    """The call was recorded with 0 tokens, like a cache hit: the cost report summed it as free."""
    import json

    stubs(provider, [StubRaw(json.dumps(NO_USAGE[provider])), StubReply("counted", input_tokens=7, output_tokens=3)])
    contract = contract_class(executor_class(provider, max_retries=0))(question="q")
    assert contract.result.answer == "hi"
    (call,) = [e.payload for e in contract.events if e.type == "llm_call"]
    assert call["usage_reported"] is False and call["input_tokens"] == 0
    report = contract.diagnostics
    assert report["llm_usage"]["unreported_calls"] == 1
    assert "usage not reported for 1 of the calls" in report.to_text()
    executor = executor_class(provider, max_retries=0)()
    executor.complete("q")
    assert executor.last_usage == ig.llm.Usage(7, 3) and executor.last_usage.reported


def test_openai_tool_call_arguments_that_are_not_json_fail_the_node_naming_the_call_and_url(stubs):
    import json

    body = {"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": [{
        "index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "search", "arguments": '{"query": "du'}}]}}]}
    stub = stubs("openai", [StubRaw(json.dumps(body))])
    contract = contract_class(executor_class("openai", tools=[search], max_retries=0))(question="q")
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.ProviderError) and error.node == "answer"
    assert "tool call 'c1' (search) has arguments that are not a JSON object" in str(error)
    assert f"127.0.0.1:{stub.port}" in str(error)
