"""The LLM layer's own records in the user's store — resume leases (``igniter_nb.llm_resume``) and cached replies
(``igniter_nb.llm_cache``) — are not listed or counted as executions (``model/reserved.py``); the LLM layer still
finds them by id, and by their graph's name."""

from __future__ import annotations

import igniter_nb as ig
from igniter_nb.llm.cache import CACHE_GRAPH
from igniter_nb.llm.lease import LEASE_GRAPH
from igniter_nb.llm.testing import StubReply
from igniter_nb.stores import SQLStore
from tests.llm.llm_contracts import contract_class, executor_class, search

RESULTS = [{"id": "toolu_01", "name": "search", "content": "DUNE RESULTS"}]


def test_leases_and_cached_replies_are_not_listed_beside_the_executions(stubs, tmp_path):
    stub = stubs("anthropic", [StubReply("", tool_calls=(("toolu_01", "search", {"query": "dune"}),)),
                               StubReply("Dune and Dune Messiah.")])
    store = SQLStore(f"sqlite:///{tmp_path / 'llm.db'}")
    researcher = executor_class("anthropic", "ListedResearcher", tools=[search], cache=ig.llm.StoreCache(store))
    contract_cls = contract_class(researcher, "ListedResearch", store_runner=True)
    contract = contract_cls(question="Which Dune books exist?", store=store)
    contract.resume_by_token(contract.result.answer.token, value=RESULTS)
    assert contract.result.answer == "Dune and Dune Messiah." and len(stub.requests) == 2

    # the user's view: their one execution
    assert [r.execution_id for r in store.list()] == [contract.execution_id]
    assert store.count() == 1 and store.count(status="succeeded") == 1
    assert [r.execution_id for r in store.list_page(limit=1)[0]] == [contract.execution_id]
    assert list(ig.nb.store_frame(store)["execution_id"]) == [contract.execution_id]
    assert len(ig.nb.llm_frame(store)) == 2  # the execution's two calls, nothing read from the cache records
    # the LLM layer's view: both cached replies and the lease, by graph and by id
    assert store.count(graph=CACHE_GRAPH) == 2 and len(store.list(graph=LEASE_GRAPH)) == 1
    again = contract_cls(question="Which Dune books exist?", store=store)  # re-running the cell: from the cache
    again.resume_by_token(again.result.answer.token, value=RESULTS)
    assert again.result.answer == "Dune and Dune Messiah." and len(stub.requests) == 2
    assert store.count() == 2 and ig.llm.lease.sweep(store, older_than=0) == 2
    assert store.count(graph=LEASE_GRAPH) == 0 and store.count() == 2
