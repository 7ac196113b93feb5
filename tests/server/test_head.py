"""HEAD on every GET route (RFC 9110 9.3.2) under a real uvicorn: the status and headers GET would answer, no body;
the token is checked as for GET; the live stream answers HEAD with its headers and never opens; /openapi.json
does not list the HEAD routes; POST-only routes still answer HEAD with a JSON 405."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.server.server_contracts import CONTRACTS

AUTH = {"Authorization": "Bearer s3cret"}


@pytest.fixture
def served(live_app: Any) -> Any:
    store = MemoryStore()
    server = live_app(ig.server.create_app(CONTRACTS, store=store, token="s3cret"))
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=10) as http:
        execution_id = http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "r-1"}}).json()[
            "execution_id"]
        yield http, execution_id, store


@pytest.mark.parametrize("path", ["/v1/health", "/v1/contracts", "/v1/contracts/lead",
                                  "/v1/contracts/lead?format=svg", "/v1/contracts/lead?format=mermaid",
                                  "/v1/executions", "/v1/executions?limit=1", "/v1/executions/{id}",
                                  "/v1/executions/{id}/history", "/v1/executions/no-such-execution",
                                  "/v1/contracts/nope", "/v1/executions?limit=0", "/openapi.json"])
def test_head_answers_what_get_answers_without_the_body(served: Any, path: str) -> None:
    http, execution_id, _ = served
    path = path.replace("{id}", execution_id)
    got = http.get(path)
    head = http.head(path)
    assert head.status_code == got.status_code and head.status_code != 405, (path, head.status_code)
    assert head.content == b""
    for name in ("content-type", "content-length"):
        assert head.headers.get(name) == got.headers.get(name), (path, name)


def test_head_checks_the_token(served: Any) -> None:
    http, _, _ = served
    answer = httpx.head(str(http.base_url.join("/v1/health")))
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/json" and answer.content == b""


def test_head_on_the_live_stream_gives_its_headers_and_never_opens_it(served: Any) -> None:
    http, execution_id, store = served
    before = [(r.execution_id, r.version) for r in store.list()]
    head = http.head(f"/v1/executions/{execution_id}/events")  # returns at once: a stream would not end
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"].startswith("text/event-stream")
    assert http.head("/v1/executions/nope/events").status_code == 404
    assert http.head(f"/v1/executions/{execution_id}/events", headers={"Last-Event-ID": "999"}).status_code == 422
    assert [(r.execution_id, r.version) for r in store.list()] == before


def test_post_routes_still_refuse_head_with_json_405(served: Any) -> None:
    http, _, _ = served
    answer = http.head("/v1/contracts/lead/execute")
    assert answer.status_code == 405 and answer.headers["content-type"] == "application/json"
    assert answer.headers["allow"] == "POST"


def test_a_405_names_every_method_of_the_path_head_too(served: Any) -> None:
    http, _, _ = served
    answer = http.post("/v1/contracts")
    assert answer.status_code == 405 and answer.json()["type"] == "MethodNotAllowed"
    assert answer.headers["allow"] == "GET, HEAD"


def test_openapi_lists_no_head_operations(served: Any) -> None:
    http, _, _ = served
    paths = http.get("/openapi.json").json()["paths"]
    assert not [p for p, ops in paths.items() if "head" in ops]
    assert "get" in paths["/v1/executions/{execution_id}/events"]


def test_create_router_has_head_too() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    app = FastAPI()
    app.include_router(ig.server.create_router(CONTRACTS, store=MemoryStore(), token="s3cret"), prefix="/igniter")
    with TestClient(app) as client:
        assert client.head("/igniter/v1/health", headers=AUTH).status_code == 200
        assert client.head("/igniter/v1/health").status_code == 401
