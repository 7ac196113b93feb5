"""Resuming a node whose ``call`` made requests before the one that waited: they are replayed from the pending
state, and the replay gives ``call`` what the first run gave it — the same value and the same ``last_context`` —
so a ``call`` that passes ``self.last_context`` on makes the same waiting request again.

Before, a structured reply was journaled as pydantic's compact dump instead of the text the model sent: any reply
not byte-identical to that dump (``{"n": 1}`` with its space) changed the replayed ``last_context``, so the
resume failed the node with "made a different request" and the tool results were lost; a model with an
``exclude=True`` field could not be validated again from its dump at all. Tool rounds run here before the wait
were missing from the replayed context the same way."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

import igniter_nb as ig
from igniter_nb.llm.testing import StubReply
from igniter_nb.stores import SQLStore
from tests.llm.conftest import PROVIDERS
from tests.llm.llm_contracts import lookup_price, search


class Plan(pydantic.BaseModel):
    topic: str
    note: str = pydantic.Field(default="", exclude=True)  # not in model_dump_json()


def _contract(provider_name: str, first: str) -> type[ig.Contract]:
    class Researcher(ig.llm.Executor):
        provider = provider_name
        model = "m"
        tools = [search]

        def call(self, question: str) -> Any:
            if first == "structured":
                plan = self.complete(question, response_model=Plan)
                prompt = f"Research {plan.topic} ({plan.note})"
            else:  # a request whose tools run here, before the one that waits
                self.complete_with_tools(question, tools=[lookup_price], tools_run="auto")
                prompt = "Now search."
            return self.complete_with_tools(prompt, context=self.last_context)

    class Chained(ig.Contract):
        def define(c: Any) -> None:
            c.run_with("store")
            c.input("question", type=str)
            c.compute("answer", call=Researcher)
            c.output("answer")

    return Chained


@pytest.mark.parametrize("first", ["structured", "auto tools"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_call_that_passes_last_context_on_resumes_after_its_earlier_requests_are_replayed(provider, first, stubs,
                                                                                             tmp_path):
    opening = ([StubReply('{"topic": "Dune",  "note": "classic"}')] if first == "structured" else
               [StubReply("", tool_calls=(("p1", "lookup_price", {"title": "Dune"}),)), StubReply("It costs 12.5.")])
    stub = stubs(provider, [*opening, StubReply("", tool_calls=(("s1", "search", {"query": "dune"}),)),
                            StubReply("Dune, 1965.")])
    store = SQLStore(f"sqlite:///{tmp_path / 'runs.db'}")
    contract = _contract(provider, first)
    started = contract(question="What about Dune?", store=store)
    waiting = started.result.answer
    asked = len(stub.requests)
    ident = waiting.payload["tool_calls"][0]["id"]
    done = contract.resume_from_store(started.execution_id, token=waiting.token, store=store,
                                      value=[{"id": ident, "content": "Dune (1965)"}])
    assert done.status == "succeeded", done.execution.states["answer"].error
    assert done.result.answer == "Dune, 1965."
    assert len(stub.requests) == asked + 1  # the earlier requests were replayed, not asked again
    sent = stub.requests[-1].messages
    assert sent[: len(stub.requests[-2].messages)] == stub.requests[-2].messages  # the same conversation, continued
    if first == "structured":
        assert any("Research Dune (classic)" in str(m.get("content")) for m in sent)
