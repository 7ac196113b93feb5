"""Tool calls: durable waits with their ids kept (L-49), the follow-up in each provider's wire format, refused
results, replayed requests, several rounds, and tools run in-process (``tools_run="auto"``)."""

from __future__ import annotations

import json
import re

import pytest

import igniter_nb as ig
from igniter_nb.llm.testing import StubReply
from tests.llm.conftest import PROVIDERS
from tests.llm.llm_contracts import contract_class, executor_class, lookup_price, search

TWO_CALLS = StubReply("Let me look.", tool_calls=(("call_a", "search", {"query": "dune"}),
                                                  ("call_b", "lookup_price", {"title": "Dune"})),
                      input_tokens=30, output_tokens=12)


def _deep(depth):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def _ids(provider):
    return ["call_1", "call_2"] if provider == "ollama" else ["call_a", "call_b"]  # Ollama has no ids: ours


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_tool_call_makes_the_node_pending_with_the_calls_and_their_ids_L49(provider, stubs):
    stubs(provider, [TWO_CALLS])
    contract = contract_class(executor_class(provider, tools=[search, lookup_price]))(question="Price of Dune?")
    assert contract.status == "pending"
    deferred = contract.result.answer
    assert isinstance(deferred, ig.DeferredResult)
    assert deferred.source_node == "answer"
    assert re.fullmatch(rf"{contract.execution_id}:answer:tool-calls-1:[0-9a-f]{{12}}", deferred.token)
    assert deferred.payload["tool_calls"] == [
        {"id": _ids(provider)[0], "name": "search", "arguments": {"query": "dune"}},
        {"id": _ids(provider)[1], "name": "lookup_price", "arguments": {"title": "Dune"}},
    ]
    (call,) = [e for e in contract.events if e.type == "llm_call"]
    assert call.payload["tool_call_ids"] == _ids(provider)
    assert call.payload["tool_names"] == ["search", "lookup_price"]
    assert call.payload["input_tokens"] == 30 and call.payload["output_tokens"] == 12


@pytest.mark.parametrize("provider", PROVIDERS)
def test_resuming_sends_the_tool_turn_and_the_results_with_their_ids(provider, stubs):
    stub = stubs(provider, [TWO_CALLS, StubReply("Dune costs 12.5.")])
    contract = contract_class(executor_class(provider, tools=[search, lookup_price]))(question="Price of Dune?")
    deferred = contract.result.answer
    first, second = _ids(provider)
    contract.resume_by_token(deferred.token, value=[
        {"id": second, "name": "lookup_price", "content": {"price": 12.5}},  # any order: matched by id
        {"id": first, "name": "search", "content": "Dune (1965)"},
    ])
    assert contract.status == "succeeded"
    assert contract.result.answer == "Dune costs 12.5."
    assert len(stub.requests) == 2
    messages = stub.requests[1].messages
    if provider == "anthropic":
        assert messages == [
            {"role": "user", "content": "Price of Dune?"},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "call_a", "name": "search", "input": {"query": "dune"}},
                {"type": "tool_use", "id": "call_b", "name": "lookup_price", "input": {"title": "Dune"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_a", "content": "Dune (1965)"},
                {"type": "tool_result", "tool_use_id": "call_b", "content": '{"price": 12.5}'}]},
        ]
    elif provider == "openai":
        assert messages == [
            {"role": "user", "content": "Price of Dune?"},
            {"role": "assistant", "content": "Let me look.", "tool_calls": [
                {"id": "call_a", "type": "function", "function": {"name": "search", "arguments": '{"query": "dune"}'}},
                {"id": "call_b", "type": "function",
                 "function": {"name": "lookup_price", "arguments": '{"title": "Dune"}'}}]},
            {"role": "tool", "tool_call_id": "call_a", "content": "Dune (1965)"},
            {"role": "tool", "tool_call_id": "call_b", "content": '{"price": 12.5}'},
        ]
    else:
        assert messages == [
            {"role": "user", "content": "Price of Dune?"},
            {"role": "assistant", "content": "Let me look.", "tool_calls": [
                {"function": {"name": "search", "arguments": {"query": "dune"}}},
                {"function": {"name": "lookup_price", "arguments": {"title": "Dune"}}}]},
            {"role": "tool", "content": "Dune (1965)", "tool_name": "search"},
            {"role": "tool", "content": '{"price": 12.5}', "tool_name": "lookup_price"},
        ]
    types = [e.type for e in contract.events if e.node == "answer"]
    assert types[types.index("node_pending"):] == ["node_pending", "llm_tool_results", "llm_call", "node_succeeded",
                                                   "node_resumed"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_tools_are_described_in_each_providers_format(provider, stubs):
    stub = stubs(provider, [StubReply("no tools needed")])
    executor_class(provider, tools=[search])().complete_with_tools("hi")
    (tool,) = stub.requests[0].body["tools"]
    schema = {"type": "object", "required": ["query"], "properties": {
        "query": {"type": "string", "description": "words to look for", "title": "Query"},
        "limit": {"type": "integer", "description": "how many titles to return", "default": 2, "title": "Limit"}}}
    if provider == "anthropic":
        assert tool == {"name": "search", "description": "Search the library catalogue.", "input_schema": schema}
    elif provider == "openai":
        assert tool == {"type": "function", "function": {"name": "search", "description": "Search the library catalogue.",
                                                         "parameters": schema}}
    else:  # the ollama SDK keeps type/description/required of each property
        assert tool["function"]["name"] == "search"
        assert tool["function"]["parameters"]["required"] == ["query"]
        assert tool["function"]["parameters"]["properties"]["query"] == {"type": "string",
                                                                          "description": "words to look for"}


@pytest.mark.parametrize("bad", [
    "not a list",
    [{"id": "call_a", "name": "search", "content": "x"}],  # call_b unanswered
    [{"id": "call_a", "name": "search", "content": "x"}, {"id": "zzz", "name": "search", "content": "y"}],
    [{"id": "call_a", "name": "search", "content": "x"}, {"id": "call_a", "name": "search", "content": "x"}],
    [{"id": "call_a", "name": "wrong_tool", "content": "x"}, {"id": "call_b", "content": "y"}],
    [{"id": "call_a", "name": "search"}, {"id": "call_b", "content": "y"}],
    [{"id": "call_a", "content": "x", "is_error": "yes"}, {"id": "call_b", "content": "y"}],
    [{"id": "call_a", "content": object()}, {"id": "call_b", "content": "y"}],
    [{"id": "call_a", "content": _deep(5000)}, {"id": "call_b", "content": "y"}],
    [{"id": None, "content": "x"}],
    [["call_a", "x"]],
])
def test_bad_tool_results_are_refused_and_the_node_stays_pending(bad, stubs):
    stub = stubs("anthropic", [TWO_CALLS])
    contract = contract_class(executor_class("anthropic", tools=[search, lookup_price]))(question="q")
    deferred = contract.result.answer
    events = len(contract.events)
    with pytest.raises(ig.PayloadValidationError) as info:
        contract.resume_by_token(deferred.token, value=bad)
    assert "call_a (search), call_b (lookup_price)" in info.value.message
    assert info.value.context["node"] == "answer"
    assert contract.execution.states["answer"].status == "pending"
    assert len(contract.events) == events and len(stub.requests) == 1


def test_results_without_names_are_matched_by_id(stubs):
    stubs("openai", [TWO_CALLS, StubReply("done")])
    contract = contract_class(executor_class("openai", tools=[search, lookup_price]))(question="q")
    contract.resume_by_token(contract.result.answer.token,
                             value=[{"id": "call_a", "content": "x"}, {"id": "call_b", "content": "y", "is_error": True}])
    assert contract.result.answer == "done"


def test_a_failed_tool_is_sent_as_an_error_result(stubs):
    stub = stubs("anthropic", [TWO_CALLS, StubReply("sorry")])
    contract = contract_class(executor_class("anthropic", tools=[search, lookup_price]))(question="q")
    contract.resume_by_token(contract.result.answer.token, value=[
        {"id": "call_a", "content": "ok"}, {"id": "call_b", "content": "service down", "is_error": True}])
    blocks = stub.requests[1].messages[2]["content"]
    assert blocks[1] == {"type": "tool_result", "tool_use_id": "call_b", "content": "service down", "is_error": True}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_several_durable_rounds_and_the_follow_up_of_each(provider, stubs):
    stub = stubs(provider, [
        StubReply(tool_calls=(("r1", "search", {"query": "a"}),)),
        StubReply(tool_calls=(("r2", "search", {"query": "b"}),)),
        StubReply("two searches later"),
    ])
    contract = contract_class(executor_class(provider, tools=[search]))(question="q")
    first = contract.result.answer
    contract.resume_by_token(first.token, value=[{"id": first.payload["tool_calls"][0]["id"], "content": "A"}])
    second = contract.result.answer
    assert isinstance(second, ig.DeferredResult) and ":answer:tool-calls-2:" in second.token
    second_id = second.payload["tool_calls"][0]["id"]
    assert second_id == ("call_2" if provider == "ollama" else "r2")
    contract.resume_by_token(second.token, value=[{"id": second_id, "content": "B"}])
    assert contract.result.answer == "two searches later"
    roles = [m["role"] for m in stub.requests[2].messages]
    assert roles == (["user", "assistant", "user", "assistant", "user"] if provider == "anthropic"
                     else ["user", "assistant", "tool", "assistant", "tool"])


def test_durable_rounds_are_bounded(stubs):
    stubs("openai", [StubReply(tool_calls=((f"c{i}", "search", {"query": "x"}),)) for i in range(3)])
    contract = contract_class(executor_class("openai", tools=[search], max_tool_rounds=2))(question="q")
    for _ in range(2):
        deferred = contract.result.answer
        contract.resume_by_token(deferred.token, value=[{"id": deferred.payload["tool_calls"][0]["id"], "content": "r"}])
    assert contract.status == "failed"
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.ToolLoopError) and "after 2 rounds" in error.message


class Planner(ig.llm.Executor):
    """Two requests in one call: an outline (plain), then research with tools, then a summary of both."""

    provider = "anthropic"
    model = "planner-model"
    tools = [search]

    def call(self, question):
        outline = self.complete(f"Outline: {question}")
        found = self.complete_with_tools(f"Research: {outline}")
        if isinstance(found, ig.DeferredResult):
            return found
        return f"{outline} | {found}"


def test_requests_made_before_the_wait_are_replayed_not_sent_again(stubs):
    stub = stubs("anthropic", [StubReply("1. intro"), StubReply(tool_calls=(("s1", "search", {"query": "intro"}),)),
                               StubReply("found it")])
    contract = contract_class(Planner, "Planning")(question="q")
    deferred = contract.result.answer
    assert [j["output"] for j in deferred.payload["llm"]["journal"]] == ["1. intro"]
    contract.resume_by_token(deferred.token, value=[{"id": "s1", "content": "intro facts"}])
    assert contract.result.answer == "1. intro | found it"
    assert len(stub.requests) == 3  # outline, research, follow-up: the outline was not asked twice
    calls = [e.payload["request"] for e in contract.events if e.type == "llm_call"]
    assert calls == [0, 1, 1]


class Versioned(ig.llm.Executor):
    provider = "anthropic"
    model = "m"
    tools = [search]
    wording = "Find"

    def call(self, question):
        return self.complete_with_tools(f"{self.wording}: {question}")


def test_a_call_that_changed_before_the_resume_fails_clearly(stubs, monkeypatch):
    stub = stubs("anthropic", [StubReply(tool_calls=(("s1", "search", {"query": "x"}),))])
    contract = contract_class(Versioned, "VersionedAsking")(question="q")
    deferred = contract.result.answer
    monkeypatch.setattr(Versioned, "wording", "Look up")  # the code changed between the wait and the resume
    contract.resume_by_token(deferred.token, value=[{"id": "s1", "content": "r"}])
    assert len(stub.requests) == 1
    error = contract.execution.states["answer"].error
    assert isinstance(error, ig.llm.ToolLoopError)
    assert "different request #1" in error.message


# ----------------------------------------------------------------------------------------------- auto


@pytest.mark.parametrize("provider", PROVIDERS)
def test_auto_tools_run_in_process_and_each_round_is_recorded(provider, stubs):
    stub = stubs(provider, [TWO_CALLS, StubReply(tool_calls=(("c3", "lookup_price", {"title": "missing"}),)),
                            StubReply("It is 12.5.")])
    executor = executor_class(provider, tools=[search, lookup_price], tools_run="auto")
    contract = contract_class(executor)(question="Price of Dune?")
    assert contract.result.answer == "It is 12.5."
    rounds = [e.payload for e in contract.events if e.type == "llm_tool_round"]
    assert [r["round"] for r in rounds] == [1, 2]
    first = rounds[0]["results"]
    assert [r["content"] for r in first] == ['["dune #1", "dune #2"]', '{"price": 12.5, "title": "Dune"}']
    assert [r["id"] for r in first] == _ids(provider)
    failed = rounds[1]["results"][0]
    assert failed["is_error"] and failed["content"] == "KeyError: 'missing'"
    assert len(stub.requests) == 3
    assert len([e for e in contract.events if e.type == "llm_call"]) == 3


def test_auto_tool_arguments_are_validated_before_the_function_runs(stubs):
    stub = stubs("openai", [StubReply(tool_calls=(("c1", "search", {"query": "x", "limit": "many"}),
                                                  ("c2", "nope", {}))), StubReply("ok")])
    contract = contract_class(executor_class("openai", tools=[search], tools_run="auto"))(question="q")
    assert contract.result.answer == "ok"
    results = stub.requests[1].messages[-2:]
    assert results[0]["tool_call_id"] == "c1" and "invalid arguments for search: limit" in results[0]["content"]
    assert results[1]["tool_call_id"] == "c2" and "there is no tool named 'nope'" in results[1]["content"]


def test_auto_rounds_are_bounded(stubs):
    stubs("anthropic", [StubReply(tool_calls=((f"c{i}", "search", {"query": "x"}),)) for i in range(5)])
    contract = contract_class(executor_class("anthropic", tools=[search], tools_run="auto", max_tool_rounds=3))(
        question="q")
    assert contract.status == "failed"
    assert isinstance(contract.execution.states["answer"].error, ig.llm.ToolLoopError)
    assert len([e for e in contract.events if e.type == "llm_tool_round"]) == 3


def test_complete_with_tools_may_choose_its_tools_and_mode(stubs):
    stub = stubs("ollama", [StubReply(tool_calls=(("x", "lookup_price", {"title": "Dune"}),)), StubReply("fine")])
    executor = executor_class("ollama")()
    assert executor.complete_with_tools("q", tools=[lookup_price], tools_run="auto") == "fine"
    assert [t["function"]["name"] for t in stub.requests[0].body["tools"]] == ["lookup_price"]
    assert executor.last_usage == ig.llm.Usage(20, 10)
    assert [m["role"] for m in executor.last_context.messages] == ["user", "assistant", "tool", "assistant"]


def test_outside_a_contract_a_deferred_tool_call_can_be_continued(stubs):
    stub = stubs("anthropic", [StubReply(tool_calls=(("t1", "search", {"query": "x"}),)), StubReply("continued")])
    executor = executor_class("anthropic", tools=[search])()
    deferred = executor.complete_with_tools("q")
    assert isinstance(deferred, ig.DeferredResult) and len(deferred.token) == 32
    again = executor_class("anthropic", tools=[search])()  # e.g. later, from the saved payload
    payload = json.loads(json.dumps(deferred.to_dict()))
    assert again.continue_with_tool_results(ig.DeferredResult.from_dict(payload),
                                            [{"id": "t1", "content": "r"}]) == "continued"
    assert stub.requests[1].messages[-1]["content"][0]["tool_use_id"] == "t1"


def test_two_workers_resuming_the_same_wait_leave_one_result(stubs):
    from igniter_nb.stores import MemoryStore

    stubs("anthropic", [StubReply(tool_calls=(("w1", "search", {"query": "x"}),)), StubReply("first"),
                        StubReply("second")])
    store = MemoryStore()
    cls = contract_class(executor_class("anthropic", tools=[search]), "SharedWait", store_runner=True)
    contract = cls(question="q", store=store)
    token = contract.result.answer.token
    one = cls.restore_from_store(contract.execution_id, store=store)
    two = cls.restore_from_store(contract.execution_id, store=store)
    one.resume_by_token(token, value=[{"id": "w1", "content": "r"}])
    with pytest.raises(ig.ConcurrencyError):  # the second worker's save loses: no lost or doubled result
        two.resume_by_token(token, value=[{"id": "w1", "content": "r"}])
    assert cls.restore_from_store(contract.execution_id, store=store).result.answer == "first"


class Forgiving(ig.llm.Executor):
    """A first request that may fail (and is forgiven), then research with tools."""

    provider = "openai"
    model = "m"
    max_retries = 0
    tools = [search]

    def call(self, question):
        try:
            hint = self.complete(f"Hint for {question}")
        except ig.llm.ProviderError:
            hint = "no hint"
        return self.complete_with_tools(f"{question} ({hint})")


def test_a_request_that_failed_before_the_wait_is_asked_again_on_resume(stubs):
    from igniter_nb.llm.testing import StubFailure

    stub = stubs("openai", [StubFailure(400, "bad hint"), StubReply(tool_calls=(("f1", "search", {"query": "x"}),)),
                            StubFailure(400, "bad hint again"), StubReply("answered")])
    contract = contract_class(Forgiving, "ForgivingAsking")(question="q")
    deferred = contract.result.answer
    assert deferred.payload["llm"]["journal"] == []
    contract.resume_by_token(deferred.token, value=[{"id": "f1", "content": "r"}])
    assert contract.result.answer == "answered"
    sent = [r.messages[-1].get("content") for r in stub.requests]
    assert sent == ["Hint for q", "q (no hint)", "Hint for q", "r"]  # the failed one was asked again, not replayed
