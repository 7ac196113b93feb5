"""A query parameter given twice (``?graph=Lead&graph=Price``, ``?limit=1&limit=1000``) was read as its last value,
silently — while a proxy, cache or access rule in front may read the first (HTTP parameter pollution), the same
reason the server refuses a JSON key repeated in a body. Now a parameter a route takes, given more than once, is a
422 ``RequestProblem`` naming it and its values; parameters the route does not take are still ignored, repeated or
not, and a ``Last-Event-ID`` sent twice is refused alike. A real uvicorn on 127.0.0.1, an SQLite store."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import igniter_nb as ig
from tests.server.server_contracts import CONTRACTS


@pytest.fixture
def served(live_app: Any, tmp_path: Any) -> Any:
    store = ig.stores.SQLStore(f"sqlite:///{tmp_path / 'repeat.db'}")
    server = live_app(ig.server.create_app(CONTRACTS, store=store))
    with httpx.Client(base_url=server.url, timeout=10) as http:
        run = http.post("/v1/contracts/price/execute", json={"inputs": {"total": 1}}).json()
        yield http, run["execution_id"]
    server.stop()
    store.close()


def _refused(response: httpx.Response, name: str, values: list[str]) -> None:
    assert response.status_code == 422, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["type"] == "RequestProblem" and body["parameter"] == name and body["values"] == values
    assert f"'{name}'" in body["error"] and "more than once" in body["error"]


@pytest.mark.parametrize(("path", "name", "values"), [
    ("/v1/executions?graph=Lead&graph=Price", "graph", ["Lead", "Price"]),
    ("/v1/executions?limit=1&limit=1000", "limit", ["1", "1000"]),
    ("/v1/executions?status=failed&status=succeeded", "status", ["failed", "succeeded"]),
    ("/v1/executions?total=true&total=false", "total", ["true", "false"]),
    ("/v1/executions?limit=5&graph=Price&limit=5", "limit", ["5", "5"]),  # even the same value twice
    ("/v1/contracts/price?format=svg&format=json", "format", ["svg", "json"]),
    ("/v1/executions/{eid}/history?latest=true&latest=false", "latest", ["true", "false"]),
    ("/v1/executions/{eid}/history?cursor=0&cursor=1", "cursor", ["0", "1"]),
])
def test_a_parameter_given_twice_is_a_422_naming_it(served: Any, path: str, name: str, values: list[str]) -> None:
    http, eid = served
    _refused(http.get(path.format(eid=eid)), name, values)
    assert http.head(path.format(eid=eid)).status_code == 422  # HEAD answers what GET would, without the body


def test_last_event_id_sent_twice_is_a_422(served: Any) -> None:
    http, eid = served
    response = http.get(f"/v1/executions/{eid}/events", headers=[("Last-Event-ID", "1"), ("Last-Event-ID", "8")])
    assert response.status_code == 422, response.text[:300]
    body = response.json()
    assert body["type"] == "RequestProblem" and body["header"] == "Last-Event-ID" and body["values"] == ["1", "8"]


def test_parameters_given_once_and_unknown_ones_still_work(served: Any) -> None:
    http, eid = served
    page = http.get("/v1/executions?graph=Price&limit=5&utm=a&utm=b&_=1").json()  # unknown ones: ignored
    assert [e["execution_id"] for e in page["executions"]] == [eid] and page["limit"] == 5
    assert http.get("/v1/contracts/price?format=mermaid&x=1&x=2").status_code == 200
    assert http.get(f"/v1/executions/{eid}/history?latest=true").json()["versions"][0]["version"] == 1
    assert http.post("/v1/contracts/price/execute?a=1&a=2", json={"inputs": {"total": 2}}).status_code == 200
