"""A node waiting on tool calls whose inputs change (``contract.update_inputs``) runs again and may wait again, on
calls that look alike (Ollama numbers them ``call_1`` in every conversation; a stub gives the ids it is told). Until
2026-12-04 that new wait had the OLD wait's token (``<execution>:<node>:tool-calls-1``), so a client that ran the
tools for the old inputs resumed the new wait with them — on the contract or through the store, as another process does —
and the model was sent the old inputs' tool output as the answer to the new question: a silent wrong answer.

A wait's token now ends with a digest of what it waits on (the conversation up to the tool calls, arguments
included), so a new wait with other calls has a token of its own, while the same wait made again (the same inputs,
answered from the response cache) has the same token and a token stored before the change still resumes."""

from __future__ import annotations

import json
import pathlib
import re

import pytest

import igniter_nb as ig
from igniter_nb.llm.testing import StubReply
from igniter_nb.stores import MemoryStore, SQLStore
from tests.llm.conftest import PROVIDERS
from tests.llm.llm_contracts import DurableAnthropic, contract_class, executor_class, search

DATA = pathlib.Path(__file__).parent / "data"


def _calls(query: str) -> StubReply:
    return StubReply("", tool_calls=(("c1", "search", {"query": query}),))


def _results(deferred: ig.DeferredResult, content: str) -> list[dict[str, str]]:
    return [{"id": deferred.payload["tool_calls"][0]["id"], "name": "search", "content": content}]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_results_for_the_old_inputs_do_not_answer_the_wait_of_the_new_ones(provider, stubs, tmp_path):
    stub = stubs(provider, [_calls("dune"), _calls("asimov"), StubReply("Asimov wrote Foundation.")])
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    asking = contract_class(executor_class(provider, tools=[search]), store_runner=True)
    contract = asking(question="Books by Herbert?", store=SQLStore(url))
    old = contract.result.answer
    assert old.payload["tool_calls"][0]["arguments"] == {"query": "dune"}
    contract.update_inputs(question="Books by Asimov?")
    new = contract.result.answer
    assert contract.status == "pending" and new.payload["tool_calls"][0]["arguments"] == {"query": "asimov"}
    assert new.token != old.token
    assert re.fullmatch(rf"{contract.execution_id}:answer:tool-calls-1:[0-9a-f]{{12}}", new.token)
    # the client that ran the tools for Herbert resumes: on this contract, and from the store (a store object of
    # its own, as another process has)
    with pytest.raises(ig.IgniterError, match="pending"):
        contract.resume_by_token(old.token, value=_results(old, "DUNE RESULTS"))
    with pytest.raises(ig.IgniterError, match="pending"):
        asking.resume_from_store(contract.execution_id, token=old.token, value=_results(old, "DUNE RESULTS"),
                                 store=SQLStore(url))
    assert len(stub.requests) == 2  # nothing was sent for the stale results
    stored = SQLStore(url).record(contract.execution_id)
    assert stored.status == "pending" and stored.snapshot["states"]["answer"]["value"]["value"]["token"] == new.token
    done = asking.resume_from_store(contract.execution_id, token=new.token, value=_results(new, "ASIMOV RESULTS"),
                                    store=SQLStore(url))
    assert done.status == "succeeded" and done.result.answer == "Asimov wrote Foundation."
    assert "ASIMOV RESULTS" in str(stub.requests[-1].body) and "DUNE RESULTS" not in str(stub.requests[-1].body)


def test_the_same_wait_made_again_has_the_same_token(stubs):
    """Back to the first inputs, the response cache answers the request as before: the same calls with the same
    arguments, so the same token, and the results run for them are the right answer."""
    stub = stubs("ollama", [_calls("dune"), _calls("asimov"), StubReply("Dune: 3 copies.")])
    cache = ig.llm.StoreCache(MemoryStore())
    contract = contract_class(executor_class("ollama", tools=[search], cache=cache))(question="Books by Herbert?")
    first = contract.result.answer
    contract.update_inputs(question="Books by Asimov?")
    other = contract.result.answer
    contract.update_inputs(question="Books by Herbert?")
    again = contract.result.answer
    assert len(stub.requests) == 2 and again.payload == first.payload
    assert again.token == first.token != other.token
    contract.resume_by_token(first.token, value=_results(first, "DUNE RESULTS"))
    assert contract.result.answer == "Dune: 3 copies." and "DUNE RESULTS" in str(stub.requests[-1].body)


def test_the_store_cache_never_answers_new_inputs_with_the_old_reply(stubs):
    """The cache key covers the messages, so the question the inputs make is part of it."""
    stub = stubs("anthropic", [StubReply("About Herbert."), StubReply("About Asimov.")])
    cache = ig.llm.StoreCache(MemoryStore())
    contract = contract_class(executor_class("anthropic", cache=cache))(question="Books by Herbert?")
    assert contract.result.answer == "About Herbert."
    contract.update_inputs(question="Books by Asimov?")
    assert contract.result.answer == "About Asimov." and len(stub.requests) == 2
    contract.update_inputs(question="Books by Herbert?")
    assert contract.result.answer == "About Herbert." and len(stub.requests) == 2  # from the cache, rightly


def test_a_wait_stored_before_the_digest_still_resumes(stubs):
    """``data/wait_stored_before_wait_digests.json``: the snapshot the previous version saved for a node waiting on
    tool calls, token ``stored-before-upgrade:answer:tool-calls-1``; resumed by that token after the upgrade."""
    stub = stubs("anthropic", [StubReply("Dune, Dune Messiah.")])
    store = MemoryStore()
    snapshot = json.loads((DATA / "wait_stored_before_wait_digests.json").read_text())
    store.save(snapshot, graph="DurableAnthropic", status="pending", expected_version=0)
    token = "stored-before-upgrade:answer:tool-calls-1"
    done = DurableAnthropic.resume_from_store("stored-before-upgrade", token=token, store=store,
                                              value=[{"id": "toolu_01", "name": "search", "content": "DUNE RESULTS"}])
    assert done.status == "succeeded" and done.result.answer == "Dune, Dune Messiah."
    assert len(stub.requests) == 1 and "DUNE RESULTS" in str(stub.requests[0].body)
    assert store.record("stored-before-upgrade").status == "succeeded"
