"""Tool-call arguments nested hundreds of levels deep (a model looping, or a hostile tool-call reply): a durable wait
keeps them in the node's pending payload, which the snapshot codec stores at most 200 levels deep. Until 2026-12-04
a stored contract's node failed with the codec's ``SnapshotEncodingError``, its message a path of 200 ``.a`` segments
(over 400 characters) that named neither the tool nor the call. It is now a ``ProviderError`` naming the node, the
tool and the call, with the path cut to a readable length — stored or not, in every provider's wire format."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.llm.testing import StubReply
from igniter_nb.stores import MemoryStore
from tests.llm.conftest import PROVIDERS
from tests.llm.llm_contracts import contract_class, executor_class, search


def _deep(levels: int) -> object:
    value: object = "x"
    for _ in range(levels):
        value = {"a": value}
    return value


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("stored", [True, False])
def test_deep_tool_call_arguments_are_a_clear_error_naming_node_and_tool(provider, stored, stubs):
    stub = stubs(provider, [StubReply("", tool_calls=(("c1", "search", {"query": "dune"}),
                                                      ("c2", "search", {"query": _deep(300)})))])
    store = MemoryStore() if stored else None
    contract = contract_class(executor_class(provider, tools=[search]), store_runner=stored)(
        question="q", **({"store": store} if stored else {}))
    assert contract.status == "failed"
    error = contract.execution.first_error()
    assert isinstance(error, ig.llm.ProviderError), error
    call = "call_2" if provider == "ollama" else "c2"
    text = error.message
    assert "node 'answer'" in text and f"tool 'search' (call {call!r})" in text
    assert "nested 301 levels deep" in text and "at most" in text
    assert "arguments.query.a.a" in text and "…" in text and len(text) < 600
    assert len(stub.requests) == 1
    if stored:
        record = store.record(contract.execution_id)
        assert record.status == "failed"
        assert record.snapshot["states"]["answer"]["error"]["type"] == "ProviderError"


def test_arguments_nested_within_the_limit_still_make_a_durable_wait(stubs):
    stubs("anthropic", [StubReply("", tool_calls=(("c1", "search", {"query": _deep(150)}),)), StubReply("done")])
    store = MemoryStore()
    contract = contract_class(executor_class("anthropic", tools=[search]), store_runner=True)(question="q", store=store)
    assert contract.status == "pending" and store.record(contract.execution_id).status == "pending"
    token = contract.result.answer.token
    again = type(contract).resume_from_store(contract.execution_id, token=token, store=store,
                                             value=[{"id": "c1", "name": "search", "content": "ok"}])
    assert again.result.answer == "done"


def test_outside_a_contract_a_deep_wait_is_returned_as_before(stubs):
    stubs("openai", [StubReply("", tool_calls=(("c1", "search", {"query": _deep(300)}),))])
    deferred = executor_class("openai", tools=[search])().complete_with_tools("q")
    assert isinstance(deferred, ig.DeferredResult) and deferred.payload["tool_calls"][0]["id"] == "c1"


def test_the_path_is_cut_whatever_the_keys_look_like():
    from igniter_nb.llm.conversation import ToolCall
    from igniter_nb.llm.durable import check_storable

    deep: object = "x"
    for i in range(400):
        deep = [deep] if i % 2 else {"<img src=x onerror=alert(1)>" * 50: deep}
    call = ToolCall("<b>id</b>", "search", {"q": deep})
    with pytest.raises(ig.llm.ProviderError) as caught:
        check_storable({"tool_calls": [call.to_dict()]}, [call], "answer", "Owner", "openai")
    text = caught.value.message
    assert text.startswith("Owner (node 'answer'): the model called tool 'search' (call '<b>id</b>')")
    assert "nested 401 levels deep, at arguments.q[0]['<img src=x onerror=…'][0]" in text and len(text) < 600
    assert caught.value.provider == "openai" and caught.value.context["tool"] == "search"


def test_the_path_is_cut_as_the_codec_cuts_paths():
    """``check_storable`` had its own cutter (60 characters, ``…``, the last 39, mid-level, nothing said about what
    was left out); it now cuts as every snapshot error does: before a level where one is near, the characters left
    out counted, odd keys escaped."""
    from igniter_nb.llm.conversation import ToolCall
    from igniter_nb.llm.durable import check_storable

    deep: object = "x"
    for i in range(300):
        deep = {"a": deep} if i % 2 else {"line\nbreak\u202e": deep}
    call = ToolCall("c9", "search", {"q": deep})
    with pytest.raises(ig.llm.ProviderError) as caught:
        check_storable({"tool_calls": [call.to_dict()]}, [call], "answer", "Owner", "openai")
    text = caught.value.message
    assert text.isprintable() and " characters left out … " in text and len(text) < 600
    assert "at arguments.q.a['line\\nbreak\\u202e'].a" in text
