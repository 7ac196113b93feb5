"""A path with a trailing slash (``POST /v1/contracts/price/execute/``, ``GET /v1/health/``) was answered by
Starlette's ``redirect_slashes``: a ``307`` with an empty body (not the JSON every other answer is), before the
token check, whose ``Location`` is built from the request's ``Host`` header — ``Host: evil.example`` got
``Location: http://evil.example/v1/contracts/price/execute``, an open redirect a cache in front can serve to
others, and a 307 tells a client that follows it to send the same body (and, some clients, the same token) there.
Now it is the JSON 404 of any unknown route, naming the route without the slash; nothing is stored. A real uvicorn
on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import igniter_nb as ig
from tests.server.server_contracts import CONTRACTS


@pytest.mark.parametrize(("method", "path", "meant"), [
    ("POST", "/v1/contracts/price/execute/", "/v1/contracts/price/execute"),
    ("GET", "/v1/health/", "/v1/health"),
    ("GET", "/v1/executions/", "/v1/executions"),
])
def test_a_trailing_slash_is_a_json_404_naming_the_route_never_a_redirect(live_app: Any, method: str, path: str,
                                                                          meant: str) -> None:
    store = ig.stores.MemoryStore()
    server = live_app(ig.server.create_app(CONTRACTS, store=store, token="secret"))
    headers = {"host": "evil.example", "authorization": "Bearer secret"}
    with httpx.Client(base_url=server.url, timeout=10) as http:
        answer = http.request(method, path, json={"inputs": {"total": 1}} if method == "POST" else None,
                              headers=headers)
    assert answer.status_code == 404, (answer.status_code, answer.headers, answer.text)
    assert "location" not in answer.headers and answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["type"] == "NotFound" and f"{method} {path}" in body["error"] and f"({meant} " in body["error"]
    assert store.list() == []
    with httpx.Client(base_url=server.url, timeout=10) as http:  # without the slash: the route
        assert http.request(method, meant, json={"inputs": {"total": 1}} if method == "POST" else None,
                            headers={"authorization": "Bearer secret"}).status_code == 200
