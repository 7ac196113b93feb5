"""A reply cut at the output limit while a reasoning model was thinking (``finish_reason: length``, ``content:
null``, its text in ``reasoning_content``) fails with an error naming that field. A *replayed* reply — kept in a
tool wait's journal and replayed on resume, or answered from the response cache — fails with the same message: it
keeps the field and how many characters went there (``Reply.reasoning``), never the text. It used to lose them, so
the replayed error said only that the output limit was reached. Real stub server on 127.0.0.1, the official SDK."""

from __future__ import annotations

import json

import igniter_nb as ig
from igniter_nb.llm.testing import StubReply
from tests.llm.llm_contracts import executor_class, search
from tests.llm.test_openai_null_content import _answer

THOUGHT = "SECRET-THOUGHT: the user asks q; I should answer 42, but first..."
NAMED = f"its {len(THOUGHT)} characters of output are all in 'reasoning_content'"


class CarriesOn(ig.llm.Executor):
    """Asks a first question, keeps its error's message when it is cut, then waits on a tool call."""

    provider = "openai"
    model = "m"
    max_retries = 0
    tools = [search]

    def call(self, question):  # type: ignore[no-untyped-def]
        try:
            first = self.complete(question)
        except ig.llm.OutputValidationError as exc:
            first = str(exc)
        found = self.complete_with_tools("now search")
        if isinstance(found, ig.DeferredResult):
            return found
        return [first, found]


class CarriesOnContract(ig.Contract):
    def define(c):  # type: ignore[no-untyped-def]
        c.input("question", type=str)
        c.compute("answer", call=CarriesOn)
        c.output("answer")


def test_a_cut_reply_replayed_from_the_journal_names_the_reasoning_field_as_the_live_one_did(stubs):
    stub = stubs("openai", [_answer(None, "length", reasoning_content=THOUGHT),
                            StubReply(tool_calls=(("c1", "search", {"query": "dune"}),)),
                            StubReply("Dune."), StubReply("asked again: a different answer")])
    contract = CarriesOnContract(question="q")
    waiting = contract.result.answer
    assert isinstance(waiting, ig.DeferredResult)
    stored = json.dumps(contract.snapshot(), default=str)
    assert THOUGHT not in stored  # (the journal keeps the field's name and size, not the thinking)
    contract.resume_by_token(waiting.token, value=[{"id": "c1", "name": "search", "content": "Dune"}])
    assert contract.status == "succeeded", contract.execution.states["answer"].error
    replayed, found = contract.result.answer
    assert found == "Dune." and len(stub.requests) == 3  # the first question came from the journal
    assert NAMED in replayed and "output limit" in replayed
    live = _live_message(stubs)
    assert replayed == live


def _live_message(stubs) -> str:  # type: ignore[no-untyped-def]
    stubs("openai", [_answer(None, "length", reasoning_content=THOUGHT)])
    try:
        CarriesOn().complete("q")
    except ig.llm.OutputValidationError as exc:
        return str(exc)
    raise AssertionError("the cut reply was taken")


def test_a_cut_reply_answered_from_the_cache_names_the_reasoning_field(stubs):
    stub = stubs("openai", [_answer(None, "length", reasoning_content=THOUGHT), StubReply("asked again")])
    cls = executor_class("openai", max_retries=0, cache=ig.llm.MemoryCache())
    messages = []
    for _ in range(2):
        try:
            cls().complete("q")
        except ig.llm.OutputValidationError as exc:
            messages.append(str(exc))
    assert len(stub.requests) == 1  # the second answer came from the cache
    assert len(messages) == 2 and NAMED in messages[0]
    assert messages[1] == messages[0]


def test_a_reply_keeps_its_reasoning_through_to_dict_only_when_it_has_some() -> None:
    reply = ig.llm.Reply("", stop_reason="length", reasoning=(("reasoning_content", 12),))
    data = json.loads(json.dumps(reply.to_dict()))
    assert ig.llm.Reply.from_dict(data) == reply
    plain = ig.llm.Reply("42", stop_reason="stop")
    assert "reasoning" not in plain.to_dict()  # (records and cache entries of other replies are as they were)
