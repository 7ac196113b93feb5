"""POST /v1/contracts/{name}/events/dry-run: the EventSimulator's dry run over HTTP — what a delivery would do, every
problem it would be refused for, nothing written. In-process (TestClient) and through the Client on uvicorn."""

from __future__ import annotations

from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.notebook.dry_run import preview_delivery
from tests.server.server_contracts import CONTRACTS, Lead

DRY = "/v1/contracts/lead/events/dry-run"


def _footprint(store: Any) -> dict[str, Any]:
    """Everything a write could change: each execution's versions and latest snapshot."""
    return {r.execution_id: (len(store.history(r.execution_id)), r.version, r.status, r.snapshot) for r in store.list()}


def _lead(client: Any, request_id: str) -> str:
    return str(client.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": request_id}}).json()
               ["execution_id"])


def test_dry_run_says_which_workflow_and_what_would_recompute_and_writes_nothing(client: Any, store: Any) -> None:
    execution_id = _lead(client, "r-1")
    before = _footprint(store)
    answer = client.post(DRY, json={"event": "crm_received", "correlation": {"request_id": "r-1"},
                                    "payload": {"name": "Acme"}})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "contract": "lead", "graph": "Lead", "event": "crm_received", "correlation": {"request_id": "r-1"},
        "ok": True, "execution_id": execution_id, "await_node": "crm", "status_before": "waiting",
        "would_recompute": ["crm_name", "report"], "idempotent": False, "errors": []}
    assert _footprint(store) == before


def test_dry_run_answers_what_the_in_process_simulator_previews(client: Any, store: Any) -> None:
    _lead(client, "r-1")
    _lead(client, "r-2")
    asked = {"event": "crm_received", "correlation": {"request_id": "r-9"}, "payload": {"tier": 1}}
    over_http = client.post(DRY, json=asked).json()
    here = preview_delivery(Lead, store, **asked).to_dict()
    for key in ("execution_id", "await_node", "status_before", "would_recompute", "idempotent", "ok", "errors"):
        assert over_http[key] == here[key], key
    assert [e["type"] for e in over_http["errors"]] == ["PayloadValidationError", "WorkflowNotFoundError"]
    nearest = over_http["errors"][1]["nearest"]
    assert {n["correlation"]["request_id"] for n in nearest} == {"r-1", "r-2"}


def test_dry_run_lists_every_problem_with_the_type_deliver_would_raise(client: Any, store: Any) -> None:
    _lead(client, "r-1")
    client.post("/v1/contracts/lead/events", json={"event": "crm_received", "correlation": {"request_id": "r-1"},
                                                   "payload": {"name": "Acme"}, "idempotency_key": "k-1"})
    before = _footprint(store)

    def problems(**body: Any) -> list[str]:
        answer = client.post(DRY, json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["ok"] is (not answer.json()["errors"])
        return [e["type"] for e in answer.json()["errors"]]

    assert problems(event="crm_updated", correlation={"request_id": "r-1"}) == ["AwaitedEventMismatchError"]
    assert problems(event="crm_received", correlation={"request_id": "r-1"}, payload={"name": "Acme"}) == [
        "DuplicateSignalError"]
    assert problems(event="crm_received", correlation={"request_id": "r-1", "extra": 1}, payload={"name": "A"}) == [
        "WorkflowNotFoundError"]  # a correlation without exactly the contract's keys
    assert problems(event="crm_received", correlation={"request_id": "r-1", "extra": 1}) == [
        "WorkflowNotFoundError", "PayloadValidationError"]  # independent problems are all listed
    checks = client.post(DRY, json={"event": "crm_updated", "correlation": {"request_id": "r-7"}}).json()["errors"]
    assert [(e["check"], e["type"]) for e in checks] == [("event", "AwaitedEventMismatchError"),
                                                         ("workflow", "WorkflowNotFoundError")]
    assert problems(event="crm_received", correlation={"request_id": "r-1"}, payload={"name": "Acme"},
                    idempotency_key="k-1") == []  # a repeat with the same key is answered unchanged
    repeat = client.post(DRY, json={"event": "crm_received", "correlation": {"request_id": "r-1"},
                                    "payload": {"name": "Acme"}, "idempotency_key": "k-1"}).json()
    assert repeat["idempotent"] is True and repeat["would_recompute"] == []
    assert problems(event="billing_received", correlation={"request_id": "r-1"}, payload=[1, {"a": None}]) == []
    assert _footprint(store) == before  # not one of them wrote anything


def test_dry_run_refuses_what_deliver_refuses_before_looking(client: Any) -> None:
    unknown = client.post("/v1/contracts/nope/events/dry-run", json={"event": "e", "correlation": {}})
    assert unknown.status_code == 404 and unknown.json()["type"] == "UnknownContractError"
    plain = client.post("/v1/contracts/price/events/dry-run", json={"event": "e", "correlation": {}})
    assert plain.status_code == 422 and "no correlation keys" in plain.json()["error"]
    shape = client.post(DRY, json={"correlation": {"request_id": "r-1"}})
    assert shape.status_code == 422 and shape.json()["type"] == "RequestValidationError"
    assert client.post(DRY, content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    wrong = client.post(DRY, json={"event": "crm_received", "correlation": {"request_id": "r-1"}, "dry": True})
    assert wrong.status_code == 422  # a misspelt field is an error, never ignored


def test_dry_run_needs_the_token(store: Any) -> None:
    from fastapi.testclient import TestClient

    app = ig.server.create_app(CONTRACTS, store=store, token="s3cret")
    with TestClient(app) as http:
        body = {"event": "crm_received", "correlation": {"request_id": "r-1"}, "payload": {"name": "A"}}
        assert http.post(DRY, json=body).status_code == 401
        ok = http.post(DRY, json=body, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and ok.json()["errors"][0]["type"] == "WorkflowNotFoundError"


def test_an_old_style_dry_run_query_on_the_delivery_route_is_not_a_dry_run(client: Any) -> None:
    # the dry run has its own route on purpose: a query string a server ignores must never turn into a delivery by
    # surprise, and this route is the only one that previews
    _lead(client, "r-1")
    answer = client.post("/v1/contracts/lead/events?dry_run=true", json={
        "event": "crm_received", "correlation": {"request_id": "r-1"}, "payload": {"name": "Acme"}})
    assert answer.status_code == 200 and answer.json()["version"] == 2  # delivered: documented, and tested


@pytest.mark.timeout(60)
def test_client_dry_run_event_over_uvicorn(serve: Any, tmp_path: Any) -> None:
    server = serve(store=f"sqlite:///{tmp_path / 'dry.db'}", token="t0ken")
    with ig.server.Client(server.url, token="t0ken") as http:
        run = http.execute("lead", inputs={"request_id": "r-1"})
        preview = http.dry_run_event("lead", event="crm_received", correlation={"request_id": "r-1"},
                                     payload={"name": "Acme"})
        assert preview["ok"] and preview["execution_id"] == run["execution_id"]
        assert http.status(run["execution_id"])["version"] == 1  # nothing written
        refused = http.dry_run_event("lead", event="crm_received", correlation={"request_id": "r-1"},
                                     payload={"tier": "gold"})
        assert not refused["ok"] and refused["errors"][0]["type"] == "PayloadValidationError"
        with pytest.raises(ig.server.RemoteError) as err:
            http.dry_run_event("nope", event="e", correlation={})
        assert err.value.status_code == 404
