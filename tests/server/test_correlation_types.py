"""A delivered correlation value of the wrong type (`{"request_id": 5}` for a `type=str` key, a list, a dict) can
match no workflow — a workflow's correlation comes from its inputs, checked strictly — so it is a malformed
correlation: 422 over HTTP naming the key, the expected type and what came (it was a 404 "no active workflow",
and a list or dict a 422 from the store naming no graph), `WorkflowNotFoundError` with the same words in-process
(the engine's word for a malformed correlation), and nothing stored changes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.server.server_contracts import CONTRACTS, Lead

EVENTS = "/v1/contracts/lead/events"


class Ticket(ig.Contract):
    """An int correlation key beside an untyped one."""

    def define(c):
        c.correlate_by("ticket_no", "shard")
        c.input("ticket_no", type=int)
        c.input("shard")
        c.await_event("closed", event="ticket_closed")
        c.output("closed")


SERVED = {**CONTRACTS, "ticket": Ticket}


def _footprint(store: Any) -> list[tuple[str, int, str]]:
    return sorted((r.execution_id, r.version, r.status) for r in store.list())


@pytest.mark.parametrize(("value", "got"), [(5, "int"), (5.5, "float"), (True, "bool"), ([1], "list"),
                                            ({"a": 1}, "dict")])
def test_a_wrong_type_correlation_value_is_422_over_uvicorn_and_changes_nothing(live_app: Any, value: Any,
                                                                              got: str) -> None:
    store = MemoryStore()
    server = live_app(ig.server.create_app(SERVED, store=store))
    with httpx.Client(base_url=server.url) as http:
        assert http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "r-1"}}).status_code == 200
        before = _footprint(store)
        answer = http.post(EVENTS, json={"event": "billing_received", "correlation": {"request_id": value},
                                         "payload": {"plan": "pro"}})
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/json"
        body = answer.json()
        assert body["type"] == "RequestProblem"
        assert (body["graph"], body["node"], body["expected"], body["got"]) == ("Lead", "request_id", "str", got)
        assert body["error"].startswith(f"correlation key 'request_id' of Lead must be of type str, got {got} ")
        assert _footprint(store) == before
        # the right value still delivers
        ok = http.post(EVENTS, json={"event": "billing_received", "correlation": {"request_id": "r-1"},
                                     "payload": {"plan": "pro"}})
        assert ok.status_code == 200 and ok.json()["waiting_for"] == ["crm_received"]


def test_a_well_typed_correlation_nobody_has_is_still_404(client: Any) -> None:
    client.post("/v1/contracts/ticket/execute", json={"inputs": {"ticket_no": 7, "shard": "eu"}})
    answer = client.post("/v1/contracts/ticket/events", json={"event": "ticket_closed",
                                                               "correlation": {"ticket_no": 8, "shard": "eu"}})
    assert answer.status_code == 404 and answer.json()["type"] == "WorkflowNotFoundError", answer.text


@pytest.fixture
def client(store: Any) -> Any:
    from fastapi.testclient import TestClient

    with TestClient(ig.server.create_app(SERVED, store=store), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize(("correlation", "key", "expected", "got"), [
    ({"ticket_no": "7", "shard": "eu"}, "ticket_no", "int", "str"),
    ({"ticket_no": True, "shard": "eu"}, "ticket_no", "int", "bool"),
    ({"ticket_no": 7.0, "shard": "eu"}, "ticket_no", "int", "float"),
    # an untyped key still takes only what a workflow's correlation can hold: a string or number
    ({"ticket_no": 7, "shard": ["eu"]}, "shard", "str, int, float or bool", "list"),
    ({"ticket_no": 7, "shard": {"eu": 1}}, "shard", "str, int, float or bool", "dict"),
])
def test_int_and_untyped_keys(client: Any, store: Any, correlation: dict[str, Any], key: str, expected: str,
                              got: str) -> None:
    client.post("/v1/contracts/ticket/execute", json={"inputs": {"ticket_no": 7, "shard": "eu"}})
    before = _footprint(store)
    answer = client.post("/v1/contracts/ticket/events", json={"event": "ticket_closed", "correlation": correlation})
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert (body["graph"], body["node"], body["expected"], body["got"]) == ("Ticket", key, expected, got)
    assert _footprint(store) == before


def test_in_process_delivery_raises_naming_graph_key_expected_and_got(store: Any) -> None:
    Lead.start({"request_id": "r-1"}, store=store)
    before = _footprint(store)
    with pytest.raises(ig.WorkflowNotFoundError) as raised:
        Lead.deliver_event("billing_received", correlation={"request_id": 5}, payload=1, store=store)
    err = raised.value
    assert "correlation key 'request_id' of Lead must be of type str, got int 5" in err.message
    assert (err.context["graph"], err.context["node"], err.context["expected"], err.context["got"]) == (
        "Lead", "request_id", "str", "int")
    assert "nearest" not in err.context  # refused before any store lookup
    assert _footprint(store) == before


def test_dry_run_lists_the_wrong_type_as_a_correlation_problem(client: Any, store: Any) -> None:
    client.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "r-1"}})
    answer = client.post(EVENTS + "/dry-run", json={"event": "billing_received", "correlation": {"request_id": 5}})
    assert answer.status_code == 200, answer.text
    errors = answer.json()["errors"]
    assert [(e["type"], e["check"]) for e in errors] == [("WorkflowNotFoundError", "correlation")]
    assert "must be of type str, got int 5" in errors[0]["message"]
