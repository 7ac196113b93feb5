"""Executor settings: checked when the class is made, inherited by subclasses, missing ones reported at call
time; ``ig.llm`` loads lazily and ``import igniter_nb`` imports no SDK."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import igniter_nb as ig
from igniter_nb.llm.testing import StubReply
from tests.llm.llm_contracts import contract_class, executor_class

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("settings", "words"), [
    ({"provider": "gemini"}, "Unknown LLM provider: 'gemini'. Available: anthropic, openai, ollama"),
    ({"model": ""}, "model must be a model name"),
    ({"temperature": "hot"}, "temperature must be a number >= 0"),
    ({"temperature": True}, "temperature must be a number"),
    ({"max_tokens": 0}, "max_tokens must be a positive integer"),
    ({"max_tool_rounds": 1.5}, "max_tool_rounds must be a positive integer"),
    ({"max_retries": -1}, "max_retries must be an integer >= 0"),
    ({"timeout": 0}, "timeout must be a number of seconds > 0"),
    ({"tools_run": "sometimes"}, "tools_run must be 'defer' or 'auto'"),
    ({"response_model": dict}, "response_model must be a pydantic model class"),
    ({"structured_output": "magic"}, "structured_output must be one of native, prompt"),
    ({"system_prompt": 3}, "system_prompt must be text"),
    ({"client_options": ["x"]}, "client_options must be a dict"),
    ({"stream": "yes"}, "stream must be True, False or a callable"),
    ({"provider": ["openai"]}, "Unknown LLM provider: ['openai']"),  # (a bare TypeError: unhashable type)
    ({"temperature": float("nan")}, "temperature must be a number >= 0"),  # (refused by JSON at call time)
    ({"temperature": float("inf")}, "temperature must be a number >= 0"),
    ({"timeout": float("nan")}, "timeout must be a number of seconds > 0"),
    ({"tools": [ig.llm.Tool(123)]}, "tool name must be text"),  # (a bare TypeError from the name pattern)
    ({"tools": [ig.llm.Tool("t", parameters="x")]}, "parameters must be the JSON schema of an object"),
    ({"tools": [ig.llm.Tool("t", parameters={"type": "string"})]}, "parameters must be the JSON schema of an object"),
    ({"tools": [ig.llm.Tool("t", function="run")]}, "function must be callable"),
    ({"request_options": {"stream": True}}, "request_options may not set 'stream': set stream"),  # (misread)
    ({"request_options": {"model": "other"}}, "request_options may not set 'model'"),  # (audited as the declared one)
    ({"request_options": {"system": "x"}}, "may not set 'system': set system_prompt"),  # (replaced it silently)
])
def test_bad_settings_fail_when_the_class_is_made(settings, words):
    with pytest.raises(ig.llm.ConfigurationError) as info:
        type("Bad", (ig.llm.Executor,), settings)
    assert words in info.value.message


def test_settings_are_inherited_and_overridable(stubs):
    stub = stubs("openai", [StubReply("a"), StubReply("b")])

    class Base(ig.llm.Executor):
        provider = "openai"
        model = "base-model"
        system_prompt = "Shared rules."

        def call(self, question):
            return self.complete(question)

    class Cheaper(Base):
        model = "small-model"

    assert Base().complete("q") == "a" and Cheaper().complete("q") == "b"
    assert [r.body["model"] for r in stub.requests] == ["base-model", "small-model"]
    assert all(r.body["messages"][0] == {"role": "system", "content": "Shared rules."} for r in stub.requests)


@pytest.mark.parametrize(("settings", "words"), [
    ({}, "has no provider"),
    ({"provider": "openai"}, "has no model"),
])
def test_missing_provider_or_model_fails_the_node_clearly(settings, words):
    contract = contract_class(type("Unset", (ig.llm.Executor,), {
        **settings, "call": lambda self, question: self.complete(question), "__module__": __name__}))(question="q")
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.ConfigurationError) and words in error.message
    assert error.context["node"] == "answer"


def test_chat_needs_a_user_message():
    with pytest.raises(ig.llm.ConfigurationError, match="at least one user message"):
        executor_class("openai")().chat(ig.llm.Conversation(system="only a system prompt"))


def test_complete_with_tools_needs_tools():
    with pytest.raises(ig.llm.ConfigurationError, match="has no tools"):
        executor_class("openai")().complete_with_tools("q")


def test_llm_nodes_are_drawn_as_llm_computes():
    contract = contract_class(executor_class("anthropic"), "Drawn")
    assert "compute (llm)" in contract.graph.to_dot().source


def test_import_igniter_nb_imports_no_sdk_and_ig_llm_none_until_a_request():
    code = ("import json, sys\nimport igniter_nb as ig\nbefore = sorted(m for m in ('anthropic', 'openai', 'ollama') "
            "if m in sys.modules)\nig.llm.Executor\nig.llm.Conversation\nafter = sorted(m for m in ('anthropic', "
            "'openai', 'ollama') if m in sys.modules)\nprint(json.dumps([before, after]))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [[], []]
    assert ig.llm is sys.modules["igniter_nb.llm"]
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        ig.llm.nothing  # noqa: B018


def test_the_helpers_check_their_arguments_like_the_settings(stubs):
    stub = stubs("openai", [StubReply("x")])
    executor = executor_class("openai")()
    with pytest.raises(ig.llm.ConfigurationError, match="stream= must be True, False or a callable"):
        executor.complete("q", stream="yes")  # (silently not streamed)
    with pytest.raises(ig.llm.ConfigurationError, match=r"^Assistant: response_model= must be a pydantic model class"):
        executor.complete("q", response_model=dict)
    with pytest.raises(ig.llm.ConfigurationError, match=r"continue_with_tool_results\(\) needs the DeferredResult"):
        executor.continue_with_tool_results(None, [])  # (a bare AttributeError)
    assert stub.requests == []


@pytest.mark.parametrize(("provider", "variable", "key", "where"), [
    ("openai", "OPENAI_API_KEY", "sk-test\n", "a newline at position 8"),  # (a misleading "Connection error")
    ("openai", "OPENAI_API_KEY", "sk-t\u00e9st", "U+00E9 at position 5"),  # (a bare UnicodeEncodeError)
    ("anthropic", "ANTHROPIC_API_KEY", "\u201csk-test\u201d", "U+201C at position 1"),  # (sent as it was)
    ("anthropic", "ANTHROPIC_API_KEY", "sk test", "a space at position 3"),
])
def test_an_api_key_a_header_cannot_carry_is_refused_without_showing_it(provider, variable, key, where, stubs,
                                                                         monkeypatch):
    stub = stubs(provider, [StubReply("x")])
    monkeypatch.setenv(variable, key)
    contract = contract_class(executor_class(provider, max_retries=0))(question="q")
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.ConfigurationError)
    assert variable in error.message and where in error.message and key.strip() not in error.message
    assert stub.requests == []


@pytest.mark.parametrize("provider", ["anthropic", "openai", "ollama"])
def test_a_request_option_the_sdk_does_not_take_is_a_configuration_error(provider, stubs):
    """It was a bare TypeError from the SDK call (``unexpected keyword argument``)."""
    stub = stubs(provider, [StubReply("x")])
    with pytest.raises(ig.llm.ConfigurationError, match=r"does not take these arguments .*top_kk.*check request_options"):
        executor_class(provider, request_options={"top_kk": 3})().complete("q")
    assert stub.requests == []


@pytest.mark.parametrize("attr", ["request_options", "client_options"])
def test_option_names_must_be_text_when_the_class_is_made(attr):
    """``request_options={1: 2}`` failed at the first request as "answered with something that is not a valid
    response: TypeError: keywords must be strings", blaming the provider for a setting."""
    with pytest.raises(ig.llm.ConfigurationError, match=rf"Assistant\.{attr} keys must be keyword names \(text\), "
                                                         r"got 1 \(int\)"):
        executor_class("openai", **{attr: {1: 2}})


@pytest.mark.parametrize("provider", ["anthropic", "openai", "ollama"])
def test_a_client_option_the_sdk_does_not_take_is_a_configuration_error(provider, stubs):
    """It was a bare ``TypeError: Client.__init__() got an unexpected keyword argument`` from the SDK client."""
    stub = stubs(provider, [StubReply("x")])
    with pytest.raises(ig.llm.ConfigurationError, match=r"client does not take these options .*colour.*"
                                                        r"check client_options"):
        executor_class(provider, client_options={"colour": "red"})().complete("q")
    assert stub.requests == []


def test_the_ollama_api_key_is_never_written_into_the_class_client_options(stubs):
    """The Ollama client got its ``Authorization`` header by writing it into ``client_options["headers"]`` — the
    class attribute's own dict, shared by every subclass: the key stayed in the class (shown by its repr), and two
    executors with other keys building clients at once could each send the other's."""
    stub = stubs("ollama", [StubReply("a"), StubReply("b")])
    shared = {"headers": {"X-Team": "blue"}}
    first = executor_class("ollama", api_key="key-one", client_options=shared)
    second = type("Second", (first,), {"api_key": "key-two"})
    assert first().complete("q") == "a" and second().complete("q") == "b"
    assert shared == {"headers": {"X-Team": "blue"}}
    assert [(r.headers["authorization"], r.headers["x-team"]) for r in stub.requests] == [
        ("Bearer key-one", "blue"), ("Bearer key-two", "blue")]
