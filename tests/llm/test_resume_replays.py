"""A resume sent twice (an HTTP client retrying ``POST .../resume`` whose answer it lost, a script run again): the
second one finds no node pending on its token once the first went through — also when ``call`` makes a second
tool request that waits in its first round, with calls the provider numbered alike (Ollama has no ids: ``call_1``
in each new conversation). That wait had the first one's token, so the replay was taken as its results and the
model was sent the first request's tool output as the answer to another call."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.llm.testing import StubReply
from tests.llm.conftest import PROVIDERS
from tests.llm.llm_contracts import search


class TwoQuestions(ig.llm.Executor):
    provider = "ollama"
    model = "m"
    tools = [search]

    def call(self, question):  # type: ignore[no-untyped-def]
        first = self.complete_with_tools(question)
        if isinstance(first, ig.DeferredResult):
            return first
        second = self.complete_with_tools("And by Asimov?")
        if isinstance(second, ig.DeferredResult):
            return second
        return [first, second]


def _contract_class(provider: str) -> type[ig.Contract]:
    executor = type(f"TwoQuestions{provider.title()}", (TwoQuestions,), {"provider": provider})

    class Library(ig.Contract):
        def define(c):
            c.input("question", type=str)
            c.compute("answer", call=executor)
            c.output("answer")

    return Library


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_replayed_resume_is_refused_when_a_later_request_waits(provider, stubs):
    stub = stubs(provider, [StubReply("", tool_calls=(("c1", "search", {"query": "dune"}),)), StubReply("Dune: 3."),
                            StubReply("", tool_calls=(("c1", "search", {"query": "asimov"}),)), StubReply("Asimov: 9.")])
    contract = _contract_class(provider)(question="Books by Herbert?")
    first = contract.result.answer
    assert first.token.startswith(f"{contract.execution_id}:answer:tool-calls-1:")  # the first request's: as documented
    results = [{"id": first.payload["tool_calls"][0]["id"], "name": "search", "content": "DUNE RESULTS"}]
    contract.resume_by_token(first.token, value=results)
    second = contract.result.answer
    assert contract.status == "pending" and second.payload["tool_calls"][0]["arguments"] == {"query": "asimov"}
    assert second.token.startswith(f"{contract.execution_id}:answer:request-2:tool-calls-1:")
    with pytest.raises(ig.IgniterError, match="tool-calls-1"):
        contract.resume_by_token(first.token, value=results)  # the replay
    assert contract.status == "pending" and len(stub.requests) == 3
    contract.resume_by_token(second.token, value=[{"id": second.payload["tool_calls"][0]["id"], "name": "search",
                                                   "content": "ASIMOV RESULTS"}])
    assert contract.status == "succeeded" and contract.result.answer == ["Dune: 3.", "Asimov: 9."]
    assert "ASIMOV RESULTS" in str(stub.requests[-1].body) and "DUNE RESULTS" not in str(stub.requests[-1].body)


_STATE = {"request": 0, "round": 1, "fingerprint": "f", "journal": [],
          "conversation": {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "",
                                                                           "tool_calls": [{"id": "c1", "name": "search"}]}]}}


@pytest.mark.parametrize(("damage", "words"), [
    ({"request": "zero"}, "'request' must be an int >= 0, got 'zero'"),
    ({"request": None}, "'request' must be an int >= 0, got None"),
    ({"request": -5}, "'request' must be an int >= 0, got -5"),
    ({"round": [1]}, "'round' must be an int >= 1, got [1]"),
    ({"fingerprint": 7}, "'fingerprint' must be text, got int"),
    ({"journal": {"a": 1}}, "'journal' must be a list of"),
    ({"journal": ["x"]}, "'journal' must be a list of"),
])
def test_a_damaged_pending_state_is_a_configuration_error_naming_the_field(damage, words):
    """A saved ``DeferredResult.to_dict()`` (or a store record) edited by hand or cut short gave a bare ``KeyError``,
    ``ValueError`` or ``TypeError`` from ``int()`` — or went on to ask the provider with a journal it could not read."""
    payload = {"tool_calls": [{"id": "c1", "name": "search", "arguments": {}}], "llm": {**_STATE, **damage}}
    with pytest.raises(ig.llm.ConfigurationError, match=r"the pending LLM state \(payload\['llm'\]\) is damaged: "
                                                        + words.replace("[", r"\[").replace("(", r"\(")):
        TwoQuestions().continue_with_tool_results({"token": "t", "payload": payload},
                                                  [{"id": "c1", "content": "x"}])


@pytest.mark.parametrize("saved", [{"token": 5, "payload": 3}, {"token": "t", "payload": "x"}, {"token": "t", "payload": None}])
def test_a_saved_deferred_that_is_not_one_is_a_configuration_error(saved):
    """A ``DeferredResult.to_dict()`` damaged by hand gave a bare ``TypeError`` from inside ``DeferredResult``."""
    with pytest.raises(ig.llm.ConfigurationError, match=r"continue_with_tool_results\(\) needs the DeferredResult"):
        TwoQuestions().continue_with_tool_results(saved, [{"id": "c1", "content": "x"}])
