"""Each provider through its official SDK against a stub speaking its wire format: what is sent (roles,
system prompts, settings), what comes back (text, usage), streaming, configuration at call time, errors."""

from __future__ import annotations

import io
import json
import socket

import pytest

import igniter_nb as ig
from igniter_nb.llm.testing import StubFailure, StubReply
from tests.llm.conftest import PROVIDERS
from tests.llm.llm_contracts import contract_class, executor_class


@pytest.mark.parametrize("provider", PROVIDERS)
def test_complete_sends_system_prompt_and_prompt_and_keeps_usage(provider, stubs):
    stub = stubs(provider, [StubReply("Paris.", input_tokens=21, output_tokens=3)])
    executor = executor_class(provider, system_prompt="Answer in one word.", temperature=0, max_tokens=50)()
    assert executor.complete("Capital of France?") == "Paris."
    assert executor.last_usage == ig.llm.Usage(21, 3)
    assert executor.last_context.messages == [
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris."},
    ]
    (sent,) = stub.requests
    body = sent.body
    assert body["model"] == f"{provider}-test-model"
    if provider == "anthropic":
        assert body["system"] == "Answer in one word."
        assert body["messages"] == [{"role": "user", "content": "Capital of France?"}]
        assert body["max_tokens"] == 50
        assert body["temperature"] == 0  # 0 is a setting, sent like any other (reference §12.4)
        assert sent.headers["authorization"] == "Bearer stub-key"
    elif provider == "openai":
        assert body["messages"] == [{"role": "system", "content": "Answer in one word."},
                                    {"role": "user", "content": "Capital of France?"}]
        assert body["max_completion_tokens"] == 50
        assert body["temperature"] == 0
        assert sent.headers["authorization"] == "Bearer stub-key"
    else:
        assert body["messages"] == [{"role": "system", "content": "Answer in one word."},
                                    {"role": "user", "content": "Capital of France?"}]
        assert body["options"] == {"temperature": 0, "num_predict": 50}
        assert body["stream"] is False


@pytest.mark.parametrize("provider", PROVIDERS)
def test_unset_settings_are_not_sent(provider, stubs):
    stub = stubs(provider, [StubReply("ok")])
    executor_class(provider)().complete("hi")
    body = stub.requests[0].body
    assert "temperature" not in body and "system" not in body and not body.get("tools")  # ollama sends []
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    if provider == "anthropic":
        assert body["max_tokens"] == 1024  # required by Anthropic: the documented default
    else:
        assert "max_completion_tokens" not in body and "options" not in body


@pytest.mark.parametrize("provider", PROVIDERS)
def test_chat_sends_every_message_of_a_conversation_with_its_role_L15(provider, stubs):
    stub = stubs(provider, [StubReply("Blue.")])
    conversation = (ig.llm.Conversation(system="You are terse.").append_user("Sky colour?")
                    .append_assistant("Which sky?").append_user("Earth's, at noon."))
    executor = executor_class(provider)()
    assert executor.chat(conversation) == "Blue."
    assert len(executor.last_context) == len(conversation) + 1
    body = stub.requests[0].body
    expected = [{"role": "user", "content": "Sky colour?"}, {"role": "assistant", "content": "Which sky?"},
                {"role": "user", "content": "Earth's, at noon."}]
    if provider == "anthropic":
        assert body["system"] == "You are terse."
        assert body["messages"] == expected
    else:  # L-15: the reference's Ollama client sent these with empty role and content
        assert body["messages"] == [{"role": "system", "content": "You are terse."}, *expected]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_system_message_reaches_the_model_once_L49(provider, stubs):
    stub = stubs(provider, [StubReply("ok")])
    context = ig.llm.Conversation(system="Executor rules.").append_system("Be polite.").append_user("earlier")
    executor = executor_class(provider, system_prompt="Executor rules.")()
    executor.complete("now", context)
    body = stub.requests[0].body
    if provider == "anthropic":  # the reference kept only the first system message
        assert body["system"] == "Executor rules.\n\nBe polite."
        assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "earlier"},
                                                                 {"type": "text", "text": "now"}]}]
    else:
        systems = [m["content"] for m in body["messages"] if m["role"] == "system"]
        assert systems == ["Executor rules.", "Be polite."]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_streaming_writes_text_as_it_arrives(provider, stubs):
    stubs(provider, [StubReply("One two three four.", input_tokens=7, output_tokens=4)])
    pieces: list[str] = []
    executor = executor_class(provider)()
    assert executor.complete("count", stream=pieces.append) == "One two three four."
    assert pieces == ["One ", "two ", "three ", "four."]  # the stub sends word-sized pieces
    assert executor.last_usage == ig.llm.Usage(7, 4)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_stream_true_prints_to_the_cell_output(provider, stubs, monkeypatch):
    stub = stubs(provider, [StubReply("Hello there.")])
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    executor_class(provider, stream=True)().complete("hi")
    assert out.getvalue() == "Hello there.\n"
    assert stub.requests[0].body["stream"] is True


def test_streamed_requests_ask_each_provider_for_its_stream_format(stubs):
    anthropic = stubs("anthropic", [StubReply("a")])
    executor_class("anthropic")().complete("x", stream=lambda _: None)
    assert anthropic.requests[0].body["stream"] is True
    openai = stubs("openai", [StubReply("b")])
    executor_class("openai")().complete("x", stream=lambda _: None)
    assert openai.requests[0].body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_configuration_is_read_at_call_time_L48(provider, stubs, monkeypatch):
    first = stubs(provider, [StubReply("from first")])
    executor = executor_class(provider)
    assert executor().complete("q") == "from first"
    second = stubs(provider, [StubReply("from second")])  # points the SDK's variables at another server
    assert executor().complete("q") == "from second"
    assert len(first.requests) == 1 and len(second.requests) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_settings_in_code_win_over_the_environment(provider, stubs):
    env_stub = stubs(provider, [StubReply("env")])
    code_stub = stubs(provider, [StubReply("code")], env=False)
    settings = {"base_url": code_stub.url}
    if provider != "ollama":
        settings["api_key"] = "code-key"
    assert executor_class(provider, **settings)().complete("q") == "code"
    assert not env_stub.requests
    if provider != "ollama":
        assert code_stub.requests[0].headers["authorization"] == "Bearer code-key"


@pytest.mark.parametrize(("provider", "variable"), [("anthropic", "ANTHROPIC_API_KEY"), ("openai", "OPENAI_API_KEY")])
def test_a_missing_api_key_names_the_variable_to_set(provider, variable, stubs, monkeypatch):
    stub = stubs(provider)
    monkeypatch.delenv(variable)
    contract = contract_class(executor_class(provider))(question="q")
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.ConfigurationError)
    assert variable in error.message
    assert error.context["node"] == "answer"
    assert not stub.requests


@pytest.mark.parametrize("provider", PROVIDERS)
def test_provider_errors_carry_status_and_the_providers_message(provider, stubs):
    stubs(provider, [StubFailure(404, "model 'nope' not found")])
    executor = executor_class(provider, max_retries=0)
    contract = contract_class(executor)(question="q")
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.ProviderError)
    assert error.status_code == 404
    assert error.provider == provider
    assert error.provider_message == "model 'nope' not found"
    assert f"{provider} answered 404: model 'nope' not found" in str(error)
    failed = [e for e in contract.events if e.type == "llm_call"]
    assert failed[-1].payload["error"] and failed[-1].payload["status_code"] == 404


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_unreachable_provider_is_a_provider_error_naming_the_url(provider, monkeypatch):
    with socket.socket() as sock:  # a port nobody listens on: held bound (not listening) so nobody can meanwhile
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        url = f"http://127.0.0.1:{port}" + ("/v1" if provider == "openai" else "")
        executor = executor_class(provider, base_url=url, api_key="k", max_retries=0, timeout=5)()
        with pytest.raises(ig.llm.ProviderError) as info:
            executor.complete("q")
    assert info.value.status_code is None
    assert f"127.0.0.1:{port}" in str(info.value)


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_rate_limits_are_retried_by_the_sdk_as_configured(provider, stubs):
    stub = stubs(provider, [StubFailure(429, "slow down", retry_after_ms=20), StubReply("finally")])
    assert executor_class(provider, max_retries=1)().complete("q") == "finally"
    assert len(stub.requests) == 2
    stub.add(StubFailure(429, "slow down", retry_after_ms=20))
    with pytest.raises(ig.llm.ProviderError) as info:
        executor_class(provider, max_retries=0)().complete("q")
    assert info.value.status_code == 429
    assert len(stub.requests) == 3


def test_request_options_reach_the_sdk_call(stubs):
    stub = stubs("openai", [StubReply("x")])
    executor_class("openai", request_options={"top_p": 0.5, "seed": 7})().complete("q")
    assert stub.requests[0].body["top_p"] == 0.5 and stub.requests[0].body["seed"] == 7
    stub = stubs("anthropic", [StubReply("x")])
    executor_class("anthropic", request_options={"stop_sequences": ["END"], "extra_body": {"top_k": 3}})().complete("q")
    assert stub.requests[0].body["stop_sequences"] == ["END"] and stub.requests[0].body["top_k"] == 3
    stub = stubs("ollama", [StubReply("x")])
    executor_class("ollama", temperature=0.2, request_options={"options": {"seed": 1}, "keep_alive": "1m"})().complete("q")
    assert stub.requests[0].body["options"] == {"temperature": 0.2, "seed": 1}
    assert stub.requests[0].body["keep_alive"] == "1m"


def test_the_stub_refuses_what_the_real_api_refuses(stubs):
    """The stubs are strict like the APIs (so the tests above prove something): a role 'tool' message without a
    matching call, or a system message inside Anthropic messages, is a 400."""
    import anthropic

    stub = stubs("anthropic")
    client = anthropic.Anthropic(base_url=stub.url, api_key="k", max_retries=0)
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(model="m", max_tokens=5, messages=[{"role": "system", "content": "x"}])
    assert "role" in str(info.value)
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(model="m", max_tokens=5, messages=[
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "nope", "content": "r"}]}])
    assert "tool_use_id" in str(info.value)
    assert json.loads(json.dumps(stub.requests[0].body))["messages"][0]["role"] == "system"


def test_a_failed_llm_node_keeps_its_error_class_through_a_snapshot(stubs):
    stubs("openai", [StubFailure(403, "forbidden model")])
    contract = contract_class(executor_class("openai", max_retries=0), "Forbidden")(question="q")
    assert contract.status == "failed"
    restored = type(contract).restore(json.loads(json.dumps(contract.snapshot())))
    error = restored.execution.states["answer"].error
    assert isinstance(error, ig.llm.ProviderError)
    assert (error.status_code, error.provider, error.provider_message) == (403, "openai", "forbidden model")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_sdk_method_s_signature_is_read_once_not_per_call(provider, stubs):
    """``Provider.call`` checks the keywords against the SDK method's signature: read once per method (a bound
    method is a new object at every access: cached by its function), not on every request."""
    from igniter_nb.llm.providers import base

    stubs(provider, [StubReply(f"answer {i}") for i in range(4)])
    executor = executor_class(provider)()
    base._signature.cache_clear()
    assert [executor.complete(f"q{i}") for i in range(3)] == ["answer 0", "answer 1", "answer 2"]
    assert executor.complete("q3", stream=lambda text: None) == "answer 3"
    info = base._signature.cache_info()
    methods = 2 if provider == "anthropic" else 1  # messages.create and messages.stream; one create/chat otherwise
    assert (info.misses, info.hits) == (methods, 4 - methods)


def test_close_clients_closes_the_cached_sdk_clients_and_later_requests_build_new_ones(stubs):
    from igniter_nb.llm.providers import close_clients, provider

    stubs("openai", [StubReply("one"), StubReply("two")])
    executor = executor_class("openai")()
    assert executor.complete("q") == "one"
    [client] = provider("openai")._clients.values()
    assert close_clients() >= 1 and client.is_closed()
    assert provider("openai")._clients == {} and close_clients() == 0
    assert executor.complete("q") == "two"  # a new client
    assert not next(iter(provider("openai")._clients.values())).is_closed()
