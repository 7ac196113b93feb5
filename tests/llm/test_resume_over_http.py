"""A tool call resumed over HTTP: the served contract waits on its tool calls (the ids shown in the execution
view), ``POST /v1/executions/{id}/resume`` hands in the results, and the follow-up request carries the ids in
the provider's wire format — the same durable wait as in a new process, through the server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

import igniter_nb as ig
from igniter_nb.llm.testing import StubReply
from igniter_nb.stores import SQLStore
from tests.llm import llm_contracts
from tests.llm.conftest import PROVIDERS


@pytest.mark.parametrize("provider", PROVIDERS)
def test_tool_results_resume_the_served_contract_over_http(provider: str, stubs: Any, tmp_path: Any) -> None:
    stub = stubs(provider, [
        StubReply(tool_calls=(("toolu_01", "search", {"query": "dune"}),), input_tokens=30, output_tokens=7),
        StubReply("Dune (1965).", input_tokens=50, output_tokens=4),
    ])
    contract = getattr(llm_contracts, f"Durable{provider.capitalize()}")
    store = SQLStore(f"sqlite:///{tmp_path / 'served.db'}")
    app = ig.server.create_app({"research": contract}, store=store)
    with TestClient(app, raise_server_exceptions=False) as client:
        started = client.post("/v1/contracts/research/execute", json={"inputs": {"question": "Dune?"}})
        assert started.status_code == 200, started.text
        view = started.json()
        assert view["status"] == "pending"
        [pending] = view["pending"]
        call_id = "call_1" if provider == "ollama" else "toolu_01"
        assert pending["node"] == "answer"
        assert [(c["id"], c["name"]) for c in pending["payload"]["tool_calls"]] == [(call_id, "search")]

        results = [{"id": call_id, "name": "search", "content": "Dune (1965)"}]
        wrong = client.post(f"/v1/executions/{view['execution_id']}/resume",
                            json={"token": pending["token"] + "-not", "value": results})
        assert wrong.status_code == 409 and pending["token"] in wrong.json()["error"], wrong.text
        assert len(stub.requests) == 1 and store.record(view["execution_id"]).status == "pending"

        done = client.post(f"/v1/executions/{view['execution_id']}/resume",
                           json={"token": pending["token"], "value": results})
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "succeeded"
        assert done.json()["outputs"] == {"answer": "Dune (1965)."}

        again = client.post(f"/v1/executions/{view['execution_id']}/resume",
                            json={"token": pending["token"], "value": results})
        assert again.status_code == 409, again.text  # already resumed: nothing sent to the provider again

    assert len(stub.requests) == 2
    follow_up = stub.requests[1].messages
    if provider == "anthropic":
        assert [b["id"] for b in follow_up[1]["content"] if b["type"] == "tool_use"] == [call_id]
        assert [b["tool_use_id"] for b in follow_up[2]["content"]] == [call_id]
    elif provider == "openai":
        assert [c["id"] for c in follow_up[2]["tool_calls"]] == [call_id]
        assert [(m["role"], m["tool_call_id"]) for m in follow_up[3:]] == [("tool", call_id)]
    else:
        assert [(m["role"], m["tool_name"], m["content"]) for m in follow_up[3:]] == [("tool", "search", "Dune (1965)")]
    assert store.record(view["execution_id"]).status == "succeeded"
    store.close()


def test_the_http_answers_show_the_tool_calls_not_the_conversation(stubs: Any, tmp_path: Any) -> None:
    """A pending LLM node's stored state holds the whole conversation (the system prompt, the user's prompt, earlier
    replies): what the executor needs to continue. A client needs the tool calls to run: ``execute``, ``GET
    /v1/executions/{id}`` and the live stream's ``node_pending`` event show ``{"tool_calls": [...]}`` only, while the
    store keeps the state and the resume continues from it."""
    stub = stubs("openai", [StubReply(tool_calls=(("toolu_01", "search", {"query": "dune"}),)), StubReply("Dune.")])
    store = SQLStore(f"sqlite:///{tmp_path / 'served.db'}")
    calls = [{"id": "toolu_01", "name": "search", "arguments": {"query": "dune"}}]
    with TestClient(ig.server.create_app({"research": llm_contracts.DurableOpenai}, store=store)) as client:
        started = client.post("/v1/contracts/research/execute", json={"inputs": {"question": "Dune?"}})
        eid = started.json()["execution_id"]
        looked = client.get(f"/v1/executions/{eid}")
        for answer in (started, looked):
            assert answer.status_code == 200, answer.text
            [pending] = answer.json()["pending"]
            assert pending["payload"] == {"tool_calls": calls}
            assert "You answer from the catalogue." not in answer.text and '"llm"' not in answer.text
        stored = store.record(eid).snapshot
        assert "You answer from the catalogue." in json.dumps(stored)  # kept where the resume reads it
        done = client.post(f"/v1/executions/{eid}/resume", json={"token": pending["token"], "value": [
            {"id": "toolu_01", "name": "search", "content": "Dune (1965)"}]})
        assert done.status_code == 200 and done.json()["outputs"] == {"answer": "Dune."}, done.text
        with client.stream("GET", f"/v1/executions/{eid}/events") as stream:
            text = "".join(stream.iter_text())
    messages = [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]
    [shown] = [m["payload"] for m in messages if m.get("type") == "node_pending"]
    assert shown["payload"] == {"tool_calls": calls} and shown["token"] == pending["token"]
    assert "You answer from the catalogue." not in text
    assert stub.requests[1].messages[0] == {"role": "system", "content": "You answer from the catalogue."}
    store.close()


def test_diagnostics_hide_only_the_pending_llm_payload(stubs: Any, tmp_path: Any) -> None:
    """``diagnostics`` shows a pending LLM node's payload as ``{"tool_calls": [...]}`` only, and a user's own output
    of that very shape (``llm`` holding a conversation, beside ``tool_calls``) whole: the cleanup applies to the
    payloads of deferred outputs, not to every dict with both keys."""
    stubs("openai", [StubReply(tool_calls=(("toolu_01", "search", {"query": "dune"}),))])
    store = SQLStore(f"sqlite:///{tmp_path / 'served.db'}")
    with TestClient(ig.server.create_app({"research": llm_contracts.DurableWithLookalike}, store=store)) as client:
        started = client.post("/v1/contracts/research/execute", json={"inputs": {"question": "Dune?"}})
        assert started.status_code == 200, started.text
        assert started.json()["outputs"] == {"mine": llm_contracts.LOOKALIKE}
        looked = client.get(f"/v1/executions/{started.json()['execution_id']}")
    assert looked.status_code == 200, looked.text
    diagnostics = looked.json()["diagnostics"]
    assert diagnostics["outputs"]["mine"] == llm_contracts.LOOKALIKE
    pending = diagnostics["outputs"]["answer"]
    assert pending["status"] == "pending" and pending["payload"] == {
        "tool_calls": [{"id": "toolu_01", "name": "search", "arguments": {"query": "dune"}}]}
    assert "You answer from the catalogue." not in looked.text
    assert looked.json()["outputs"] == {"mine": llm_contracts.LOOKALIKE}
    store.close()
