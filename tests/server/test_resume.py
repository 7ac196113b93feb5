"""``POST /v1/executions/{id}/resume``: a pending node resumed by its token over HTTP (what workers, remote
callbacks and tool results use) — saved with compare-and-set, refused with the documented 4xx, and applied once
under concurrent callers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

import igniter_nb as ig
from igniter_nb.server import RemoteError
from igniter_nb.stores import SQLStore
from tests.server.server_contracts import CONTRACTS, Deferred


def test_resume_by_token_finishes_and_stores_the_execution(client: Any, store: Any) -> None:
    run = client.post("/v1/contracts/deferred/execute", json={"inputs": {"total": 5}}).json()
    assert run["pending"][0]["token"] == "quote-5"
    done = client.post(f"/v1/executions/{run['execution_id']}/resume", json={"token": "quote-5", "value": 21})
    assert done.status_code == 200, done.text
    view = done.json()
    assert view["status"] == "succeeded" and view["outputs"] == {"doubled": 42} and view["pending"] == []
    assert view["version"] == 2 and store.record(run["execution_id"]).status == "succeeded"
    restored = Deferred.restore_from_store(run["execution_id"], store=store)
    assert restored.result.doubled == 42


def test_resume_refusals_are_documented_4xx_and_write_nothing(client: Any, store: Any) -> None:
    run = client.post("/v1/contracts/deferred/execute", json={"inputs": {"total": 5}}).json()
    eid = run["execution_id"]
    unknown = client.post(f"/v1/executions/{eid}/resume", json={"token": "quote-6", "value": 1})
    assert unknown.status_code == 409 and "quote-5" in unknown.json()["error"]
    assert client.post("/v1/executions/nope/resume", json={"token": "t"}).status_code == 404
    assert client.post(f"/v1/executions/{eid}/resume", json={"value": 1}).status_code == 422
    assert client.post(f"/v1/executions/{eid}/resume", json={"token": "quote-5", "extra": 1}).status_code == 422
    assert client.post(f"/v1/executions/{eid}/resume", content=b"{", headers={"Content-Type": "application/json"}
                       ).status_code == 400
    assert store.record(eid).version == 1
    assert client.post(f"/v1/executions/{eid}/resume", json={"token": "quote-5", "value": 1}).status_code == 200
    again = client.post(f"/v1/executions/{eid}/resume", json={"token": "quote-5", "value": 1})
    assert again.status_code == 409 and "pending tokens: none" in again.json()["error"]
    assert store.record(eid).version == 2


def test_resume_refuses_an_awaited_events_token(client: Any, store: Any) -> None:
    run = client.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "r-1"}}).json()
    token = f"{run['execution_id']}:crm"
    refused = client.post(f"/v1/executions/{run['execution_id']}/resume", json={"token": token, "value": {}})
    assert refused.status_code == 422
    body = refused.json()
    assert "deliver the event" in body["error"] and body["event"] == "crm_received"
    assert store.record(run["execution_id"]).version == 1


def test_resume_of_a_workflow_refreshes_its_status_and_events(client: Any, store: Any) -> None:
    started = client.post("/v1/contracts/quoted_order/execute", json={"inputs": {"order_id": "o-1", "total": 4}})
    run = started.json()
    assert run["status"] == "waiting" and run["pending"][0]["token"] == "quote-4"
    resumed = client.post(f"/v1/executions/{run['execution_id']}/resume", json={"token": "quote-4", "value": 40})
    assert resumed.json()["status"] == "waiting" and resumed.json()["pending"] == []
    done = client.post("/v1/contracts/quoted_order/events",
                       json={"event": "approved", "correlation": {"order_id": "o-1"}, "payload": True}).json()
    assert done["status"] == "succeeded" and done["outputs"]["done"] == {"quote": 40, "approved": True}
    types = [v["snapshot"]["events"] for v in client.get(f"/v1/executions/{run['execution_id']}/history")
             .json()["versions"]][-1]
    assert [e["type"] for e in types].count("workflow_resumed") == 2


def test_resume_of_a_finished_workflow_is_a_409(client: Any) -> None:
    run = client.post("/v1/contracts/quoted_order/execute", json={"inputs": {"order_id": "o-2", "total": 1}}).json()
    client.post("/v1/contracts/quoted_order/events",
                json={"event": "approved", "correlation": {"order_id": "o-2"}, "payload": True})
    client.post(f"/v1/executions/{run['execution_id']}/resume", json={"token": "quote-1", "value": 1})
    late = client.post(f"/v1/executions/{run['execution_id']}/resume", json={"token": "quote-1", "value": 1})
    assert late.status_code == 409


def test_resume_requires_the_token(store: Any) -> None:
    from fastapi.testclient import TestClient

    with TestClient(ig.server.create_app(CONTRACTS, store=store, token="s3cret")) as anonymous:
        assert anonymous.post("/v1/executions/x/resume", json={"token": "t"}).status_code == 401


def test_concurrent_resumes_apply_once(live_app: Any, tmp_path: Any) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 'resume.db'}")
    server = live_app(ig.server.create_app(CONTRACTS, store=store))
    with ig.server.Client(server.url) as client:
        eid = client.execute("deferred", {"total": 3})["execution_id"]

    def resume(value: int) -> int:
        return httpx.post(f"{server.url}/v1/executions/{eid}/resume", json={"token": "quote-3", "value": value},
                          timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(resume, range(8)))
    assert codes == [200] + [409] * 7
    history = store.history_records(eid)
    assert [r.version for r in history] == [1, 2] and history[-1].status == "succeeded"
    store.close()


def test_client_resume(live_app: Any, store: Any) -> None:
    server = live_app(ig.server.create_app(CONTRACTS, store=store))
    with ig.server.Client(server.url) as client:
        eid = client.execute("deferred", {"total": 2})["execution_id"]
        assert client.resume(eid, "quote-2", 8)["outputs"] == {"doubled": 16}
        with pytest.raises(RemoteError) as caught:
            client.resume(eid, "quote-2", 8)
        assert caught.value.status_code == 409
