"""The routes of PRODUCT §10 driven in-process (FastAPI's TestClient): what each answers, and the reference's
server bugs L-36…L-40 not repeated."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import igniter_nb as ig
from tests.server import server_contracts
from tests.server.server_contracts import CONTRACTS, Lead, Price


def _start_lead(client: Any, request_id: str = "r-1") -> dict[str, Any]:
    response = client.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": request_id}})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_health_names_served_contracts_and_store(client: Any) -> None:
    body = client.get("/v1/health").json()
    assert body == {"status": "ok", "version": ig.__version__, "contracts": list(CONTRACTS), "store": "MemoryStore"}


def test_contracts_lists_inputs_outputs_correlation_and_events(client: Any) -> None:
    contracts = {c["name"]: c for c in client.get("/v1/contracts").json()["contracts"]}
    assert set(contracts) == set(CONTRACTS)
    lead = contracts["lead"]
    assert lead["graph"] == "Lead"
    assert lead["correlation_keys"] == ["request_id"]
    assert lead["events"] == ["crm_received", "billing_received"]
    assert lead["outputs"] == ["crm_name", "report"]
    price_inputs = {i["name"]: i for i in contracts["price"]["inputs"]}
    assert price_inputs["total"] == {"name": "total", "type": "numeric", "required": True, "default": None,
                                     "has_default": False}
    assert price_inputs["rate"]["default"] == 0.2 and price_inputs["rate"]["required"] is False


def test_contract_graph_as_json_svg_and_mermaid(client: Any) -> None:
    graph = client.get("/v1/contracts/lead").json()
    assert graph["contract"] == "lead" and graph["name"] == "Lead"
    assert {n["name"] for n in graph["nodes"]} >= {"request_id", "crm", "billing", "report"}
    svg = client.get("/v1/contracts/lead?format=svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.lstrip().startswith("<svg") and "crm_received" in svg.text
    mermaid = client.get("/v1/contracts/lead", params={"format": "mermaid"})
    assert mermaid.headers["content-type"].startswith("text/plain")
    assert mermaid.text.startswith("graph TD") and "crm_received" in mermaid.text
    bad = client.get("/v1/contracts/lead?format=png")
    assert bad.status_code == 422 and "format" in bad.json()["error"]


def test_execute_plain_contract_returns_outputs_and_is_stored_L38(client: Any, store: Any) -> None:
    body = client.post("/v1/contracts/price/execute", json={"inputs": {"total": 100}}).json()
    assert body["status"] == "succeeded" and body["outputs"] == {"gross": 120.0}
    assert body["contract"] == "price" and body["graph"] == "Price" and body["version"] == 1
    # every execution the server ran can be read back, also plain (non-workflow) ones
    assert store.record(body["execution_id"]).status == "succeeded"
    again = client.get(f"/v1/executions/{body['execution_id']}").json()
    assert again["status"] == "succeeded" and again["outputs"] == {"gross": 120.0}
    assert again["diagnostics"]["outputs"] == {"gross": 120.0}


def test_execute_without_body_means_no_inputs(client: Any) -> None:
    response = client.post("/v1/contracts/odd/execute")
    assert response.status_code == 200 and response.json()["status"] == "succeeded"


def test_missing_and_wrong_type_inputs_are_reported_alike_L39(client: Any, store: Any) -> None:
    for name in ("price", "lead"):
        missing = client.post(f"/v1/contracts/{name}/execute", json={"inputs": {}})
        wrong = client.post(f"/v1/contracts/{name}/execute",
                            json={"inputs": {"total": "100"} if name == "price" else {"request_id": 7}})
        assert missing.status_code == wrong.status_code == 422, (missing.text, wrong.text)
        assert missing.json()["type"] == wrong.json()["type"] in ("InputError",)
        # nothing was stored: the answer names no execution id (GET of it would be a 404)
        assert "execution_id" not in missing.json() and "execution_id" not in wrong.json(), wrong.text
    unknown = client.post("/v1/contracts/price/execute", json={"inputs": {"total": 1, "totl": 2}})
    assert unknown.status_code == 422 and "execution_id" not in unknown.json(), unknown.text
    # an unknown input points at the contract's definition, not at the server's thread (a framework file)
    assert unknown.json()["source_location"].startswith(f"{server_contracts.__file__}:"), unknown.text
    for workflow in ("lead", "price"):
        answer = client.post(f"/v1/contracts/{workflow}/execute", json={"inputs": {"request_id": "r", "total": 1,
                                                                                  "nosuch": 1}}).json()
        assert "site-packages" not in answer.get("source_location", ""), answer
    assert "Missing required input: total" in client.post("/v1/contracts/price/execute", json={}).json()["error"]
    assert store.list() == []  # refused before anything ran or was stored


def test_failing_plain_contract_is_a_failed_body(client: Any) -> None:
    body = client.post("/v1/contracts/failing/execute", json={"inputs": {"n": 3}}).json()
    assert body["status"] == "failed" and body["outputs"] == {}
    assert body["error"]["node"] == "boom" and body["error"]["message"] == "RuntimeError: boom 3"
    assert body["error"]["context"]["cause_type"] == "RuntimeError"


def test_failing_workflow_start_is_stored_failed_not_422_L39(client: Any, store: Any) -> None:
    response = client.post("/v1/contracts/failing_workflow/execute", json={"inputs": {"order_id": "o-1"}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "failed" and body["error"]["node"] == "check"
    assert "order o-1 is blocked" in body["error"]["message"]
    assert store.record(body["execution_id"]).status == "failed"

    # it takes no more events (a delivery is a 404), so it advertises none, on start and on every read
    assert body["waiting_for"] == [] and body["waiting_on"] == []
    read = client.get(f"/v1/executions/{body['execution_id']}").json()
    assert read["status"] == "failed" and read["waiting_for"] == [] and read["waiting_on"] == []
    refused = client.post("/v1/contracts/failing_workflow/events", json={
        "event": "payment_received", "correlation": {"order_id": "o-1"}, "payload": 1})
    assert refused.status_code == 404, refused.text


def test_deferred_execution_reports_its_token_and_is_resumable(client: Any, store: Any) -> None:
    body = client.post("/v1/contracts/deferred/execute", json={"inputs": {"total": 5}}).json()
    assert body["status"] == "pending"
    assert body["pending"] == [{"node": "quote", "token": "quote-5", "payload": {"total": 5}}]
    assert body["waiting_for"] == []
    # a worker resumes it from the same store; the server then reads the finished execution
    from tests.server.server_contracts import Deferred

    Deferred.resume_from_store(body["execution_id"], token="quote-5", value=21, store=store)
    done = client.get(f"/v1/executions/{body['execution_id']}").json()
    assert done["status"] == "succeeded" and done["outputs"] == {"doubled": 42}


def test_workflow_start_deliver_and_finish(client: Any, store: Any) -> None:
    started = _start_lead(client)
    assert started["status"] == "waiting" and started["correlation"] == {"request_id": "r-1"}
    corr = {"request_id": "r-1"}
    first = client.post("/v1/contracts/lead/events",
                        json={"event": "crm_received", "correlation": corr, "payload": {"name": "Acme"}}).json()
    assert first["status"] == "waiting" and first["waiting_for"] == ["billing_received"]
    assert first["outputs"] == {"crm_name": "Acme"} and first["version"] == 2
    last = client.post("/v1/contracts/lead/events",
                       json={"event": "billing_received", "correlation": corr, "payload": {"plan": "pro"}}).json()
    assert last["status"] == "succeeded"
    assert last["outputs"]["report"] == {"crm": "Acme", "billing": {"plan": "pro"}}
    assert last["execution_id"] == started["execution_id"]
    assert store.record(started["execution_id"]).status == "succeeded"


def test_waiting_for_lists_each_event_once_L36(client: Any) -> None:
    started = _start_lead(client, "r-36")
    # crm_name and report are both blocked on the CRM event: the event is still listed once
    assert started["waiting_for"] == ["crm_received", "billing_received"]
    assert started["waiting_on"] == [{"node": "crm", "event": "crm_received"},
                                     {"node": "billing", "event": "billing_received"}]
    detail = client.get(f"/v1/executions/{started['execution_id']}").json()
    assert detail["waiting_for"] == ["crm_received", "billing_received"]


def test_idempotent_redelivery_returns_the_workflow_and_a_new_key_is_409(client: Any) -> None:
    _start_lead(client, "r-idem")
    event = {"event": "crm_received", "correlation": {"request_id": "r-idem"}, "payload": {"name": "A"},
             "idempotency_key": "evt-1"}
    first = client.post("/v1/contracts/lead/events", json=event)
    again = client.post("/v1/contracts/lead/events", json=event)
    assert first.status_code == again.status_code == 200
    assert again.json()["version"] == first.json()["version"]
    other = client.post("/v1/contracts/lead/events", json={**event, "idempotency_key": "evt-2"})
    assert other.status_code == 409 and other.json()["type"] == "DuplicateSignalError"


def test_duplicate_workflow_is_409_with_the_existing_id(client: Any) -> None:
    started = _start_lead(client, "r-dup")
    again = client.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "r-dup"}})
    assert again.status_code == 409
    assert again.json()["type"] == "DuplicateWorkflowError"
    assert again.json()["existing_execution_id"] == started["execution_id"]


def test_unknown_workflow_is_404_with_nearest_correlations(client: Any) -> None:
    _start_lead(client, "r-near")
    response = client.post("/v1/contracts/lead/events",
                           json={"event": "crm_received", "correlation": {"request_id": "r-far"},
                                 "payload": {"name": "A"}})
    assert response.status_code == 404
    body = response.json()
    assert body["type"] == "WorkflowNotFoundError"
    assert body["nearest"][0]["correlation"] == {"request_id": "r-near"}


def test_event_errors_map_to_422(client: Any) -> None:
    _start_lead(client, "r-422")
    corr = {"request_id": "r-422"}
    cases = [
        ({"event": "nope", "correlation": corr}, "AwaitedEventMismatchError"),
        ({"event": "crm_received", "correlation": corr, "payload": {"tier": "x"}}, "PayloadValidationError"),
        ({"event": "crm_received", "correlation": {"order": "x"}}, "RequestProblem"),
        ({"event": "crm_received", "correlation": {"request_id": " "}}, "RequestProblem"),
        # a value no workflow can have: refused with the other malformed correlations, naming the key
        ({"event": "crm_received", "correlation": {"request_id": {"nested": 1}}, "payload": {"name": "A"}},
         "RequestProblem"),
    ]
    for body, kind in cases:
        response = client.post("/v1/contracts/lead/events", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["type"] == kind, (body, response.json())
    payload_error = client.post("/v1/contracts/lead/events", json=cases[1][0]).json()
    assert payload_error["problems"][0]["loc"] == "name"
    no_events = client.post("/v1/contracts/price/events", json={"event": "x", "correlation": {"a": 1}})
    assert no_events.status_code == 422 and "no correlation keys" in no_events.json()["error"]


def test_server_uses_the_configured_default_store_L40(client: Any) -> None:
    from igniter_nb.stores import MemoryStore

    shared = MemoryStore()
    ig.configure(store=shared)
    try:
        from fastapi.testclient import TestClient

        with TestClient(ig.server.create_app(CONTRACTS)) as default_client:
            started = _start_lead(default_client, "r-40")
        assert shared.record(started["execution_id"]).status == "waiting"
        # and the process's own calls see the server's workflow
        done = Lead.deliver_event("crm_received", correlation={"request_id": "r-40"}, payload={"name": "N"})
        assert done.execution_id == started["execution_id"]
    finally:
        ig.configure(None)


def test_execution_detail_has_diagnostics_and_unknown_id_is_404_L38(client: Any) -> None:
    started = _start_lead(client, "r-detail")
    detail = client.get(f"/v1/executions/{started['execution_id']}").json()
    assert detail["status"] == "waiting" and detail["version"] == 1 and detail["updated_at"]
    assert detail["diagnostics"]["workflow_status"] == "waiting"
    assert detail["diagnostics"]["waiting_on"] == started["waiting_on"]
    for unknown in ("no-such-id", "..", "a" * 300, "<script>alert(1)</script>", "ü"):
        response = client.get(f"/v1/executions/{quote(unknown, safe='')}")
        assert response.status_code == 404, (unknown, response.text)
        assert response.headers["content-type"] == "application/json"


def test_reading_an_execution_writes_nothing(client: Any, store: Any) -> None:
    started = _start_lead(client, "r-read")
    for _ in range(3):
        client.get(f"/v1/executions/{started['execution_id']}")
    assert [r.version for r in store.history_records(started["execution_id"])] == [1]


def test_execution_of_a_graph_this_server_does_not_serve(store: Any) -> None:
    from fastapi.testclient import TestClient

    other = Price(total=1, store=store)
    other.resolve_all()
    from igniter_nb.runtime.store_runner import persist

    persist(other.execution, store)
    with TestClient(ig.server.create_app({"lead": Lead}, store=store)) as client:
        body = client.get(f"/v1/executions/{other.execution_id}").json()
    assert body["graph"] == "Price" and body["contract"] is None and body["status"] == "succeeded"
    assert body["diagnostics"] is None and "does not serve" in body["diagnostics_note"]


def test_history_lists_every_version(client: Any) -> None:
    started = _start_lead(client, "r-hist")
    client.post("/v1/contracts/lead/events",
                json={"event": "crm_received", "correlation": {"request_id": "r-hist"}, "payload": {"name": "H"}})
    versions = client.get(f"/v1/executions/{started['execution_id']}/history").json()["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    assert [v["status"] for v in versions] == ["waiting", "waiting"]
    assert versions[0]["snapshot"]["format"] == "igniter_nb.snapshot/1"
    assert client.get("/v1/executions/unknown/history").status_code == 404


def test_executions_are_filtered_and_paged_newest_first(client: Any) -> None:
    ids = [_start_lead(client, f"r-page-{i}")["execution_id"] for i in range(5)]
    client.post("/v1/contracts/price/execute", json={"inputs": {"total": 1}})
    page = client.get("/v1/executions", params={"graph": "lead", "status": "waiting", "limit": 2,
                                                "total": "true"}).json()
    assert page["total"] == 5 and page["next_offset"] == 2 and page["next_cursor"]
    assert [e["execution_id"] for e in page["executions"]] == ids[::-1][:2]
    assert set(page["executions"][0]) == {"execution_id", "graph", "status", "correlation", "version", "updated_at"}
    assert client.get("/v1/executions?graph=lead&limit=2").json()["total"] is None  # counted only when asked
    last = client.get("/v1/executions?graph=Lead&limit=2&offset=4").json()  # graph name works too
    assert [e["execution_id"] for e in last["executions"]] == [ids[0]] and last["next_offset"] is None
    assert last["next_cursor"] is None
    assert client.get("/v1/executions?status=succeeded&total=true").json()["total"] == 1
    assert client.get("/v1/executions?graph=&status=&total=1").json()["total"] == 6  # empty filters filter nothing
    assert client.get("/v1/executions?status=nope").status_code == 422
    assert client.get("/v1/executions?limit=0").status_code == 422


def test_executions_are_paged_by_cursor(client: Any) -> None:
    ids = [_start_lead(client, f"r-cursor-{i}")["execution_id"] for i in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"graph": "lead", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/executions", params=params).json()
        seen += [e["execution_id"] for e in page["executions"]]
        pages += 1
        assert page["next_offset"] is None or cursor is None  # offsets only while paging by offset
        cursor = page["next_cursor"]
        if pages == 1:  # an execution started between two pages is newer: it is not in the later pages
            added = _start_lead(client, "r-cursor-late")["execution_id"]
        if cursor is None:
            break
    assert seen == ids[::-1] and pages == 3 and added not in seen
    # an offset page continues by cursor from where it ended
    middle = client.get("/v1/executions", params={"graph": "lead", "limit": 2, "offset": 1}).json()
    assert [e["execution_id"] for e in middle["executions"]] == [ids[4], ids[3]]
    after = client.get("/v1/executions", params={"graph": "lead", "limit": 2, "cursor": middle["next_cursor"]}).json()
    assert [e["execution_id"] for e in after["executions"]] == [ids[2], ids[1]]


def test_bad_cursors_are_422(client: Any) -> None:
    _start_lead(client, "r-bad-cursor")
    for cursor in ("nope", "%%%", "YWJj", "MTIzOi4u", "x" * 401, ""):
        answer = client.get("/v1/executions", params={"cursor": cursor})
        assert answer.status_code == 422, (cursor, answer.text)
        assert "cursor" in answer.json()["error"]
    good = client.get("/v1/executions?limit=1").json()
    both = client.get("/v1/executions", params={"cursor": good["next_cursor"] or "MTox", "offset": 3})
    assert both.status_code == 422 and "cursor or offset" in both.json()["error"]


def test_outputs_are_made_json_safe(client: Any) -> None:
    body = client.post("/v1/contracts/odd/execute", json={"inputs": {"x": 1}}).json()
    assert body["status"] == "succeeded" and body["version"] == 1
    assert client.get(f"/v1/executions/{body['execution_id']}").json()["outputs"] == body["outputs"]
    values = body["outputs"]["values"]
    assert values == {
        "when": "2024-05-01T12:00:00+00:00",
        "money": "10.50",
        "id": "00000000-0000-0000-0000-000000000001",
        "tags": ["a", "b"],
        "nan": "NaN",
        "inf": "Infinity",
        "raw": "/wA=",
        "pair": [1, 2],
        "7": "int key",
    }


def test_a_value_no_store_can_hold_fails_its_node_and_is_stored(client: Any) -> None:
    body = client.post("/v1/contracts/odd/execute", json={"inputs": {"x": 2}}).json()
    assert body["status"] == "failed" and body["version"] == 1
    error = body["error"]
    assert error["type"] == "SnapshotEncodingError" and error["node"] == "values"
    assert "server_contracts.Odd" in error["message"]
    stored = client.get(f"/v1/executions/{body['execution_id']}").json()
    assert stored["status"] == "failed" and stored["error"]["node"] == "values"


def test_names_are_url_decoded_L37(client: Any) -> None:
    for name in ("ціна знижка", '<price> & "co"?#'):
        path = f"/v1/contracts/{quote(name, safe='')}"
        assert client.get(path).json()["contract"] == name
        run = client.post(f"{path}/execute", json={"inputs": {"total": 10}})
        assert run.status_code == 200 and run.json()["contract"] == name and run.json()["outputs"] == {"gross": 12.0}


def test_query_strings_work_on_every_route_L37(client: Any) -> None:
    started = _start_lead(client, "r-query")
    eid = started["execution_id"]
    routes = [
        ("GET", "/v1/health"), ("GET", "/v1/contracts"), ("GET", "/v1/contracts/price"),
        ("GET", "/v1/executions"), ("GET", f"/v1/executions/{eid}"), ("GET", f"/v1/executions/{eid}/history"),
    ]
    for method, path in routes:
        assert client.request(method, f"{path}?x=1&y=%20").status_code == 200, path
    run = client.post("/v1/contracts/price/execute?trace=1", json={"inputs": {"total": 1}})
    assert run.status_code == 200
    event = client.post("/v1/contracts/lead/events?src=test",
                        json={"event": "crm_received", "correlation": {"request_id": "r-query"},
                              "payload": {"name": "Q"}})
    assert event.status_code == 200


def test_router_and_app_keep_their_error_mapping_inside_another_app(store: Any) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from starlette.applications import Starlette
    from starlette.routing import Mount

    parent = FastAPI()  # a FastAPI app includes the router...
    parent.include_router(ig.server.create_router({"price": Price}, store=store, token="t0k"), prefix="/igniter")
    # ...a Starlette app mounts the whole app (FastAPI routes need FastAPI's own middleware around them)
    plain = Starlette(routes=[Mount("/igniter", app=ig.server.create_app({"price": Price}, store=store, token="t0k"))])
    for app in (parent, plain):
        with TestClient(app) as client:
            assert client.get("/igniter/v1/health").status_code == 401
            auth = {"Authorization": "Bearer t0k"}
            bad = client.post("/igniter/v1/contracts/price/execute", content=b"{", headers=auth)
            assert bad.status_code == 400 and bad.json()["type"] == "BadRequest"
            shape = client.post("/igniter/v1/contracts/price/execute", json={"inputs": []}, headers=auth)
            assert shape.status_code == 422 and shape.json()["problems"][0]["loc"] == "body.inputs"
            ok = client.post("/igniter/v1/contracts/price/execute", json={"inputs": {"total": 2}}, headers=auth)
            assert ok.json()["outputs"] == {"gross": 2.4}


def test_cors_is_off_unless_origins_are_given(store: Any) -> None:
    from fastapi.testclient import TestClient

    preflight = {"Origin": "https://ops.example", "Access-Control-Request-Method": "POST"}
    with TestClient(ig.server.create_app(CONTRACTS, store=store)) as client:
        assert "access-control-allow-origin" not in client.get("/v1/health", headers={"Origin": "https://x"}).headers
    app = ig.server.create_app(CONTRACTS, store=store, cors_origins=["https://ops.example"])
    with TestClient(app) as client:
        answer = client.options("/v1/contracts/price/execute", headers=preflight)
        assert answer.headers["access-control-allow-origin"] == "https://ops.example"
        other = client.get("/v1/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_a_refused_cors_preflight_is_a_json_400_naming_what_was_refused(store: Any) -> None:
    from fastapi.testclient import TestClient

    app = ig.server.create_app(CONTRACTS, store=store, cors_origins=["https://ops.example"])
    with TestClient(app) as client:
        refused = client.options("/v1/contracts/price/execute", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, x-forged"})
        assert refused.status_code == 400 and refused.headers["content-type"] == "application/json", refused.text
        body = refused.json()
        assert body["type"] == "BadRequest" and body["refused"] == ["origin", "headers"], body
        assert "https://ops.example" in body["error"] and body["origin"] == "https://evil.example"
        assert "access-control-allow-origin" not in refused.headers
        # a script following the stream with fetch() resumes with Last-Event-ID: allowed
        resumed = client.options("/v1/executions/x/events", headers={
            "Origin": "https://ops.example", "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, last-event-id"})
        assert resumed.status_code == 200, resumed.text
        assert resumed.headers["access-control-allow-origin"] == "https://ops.example"


def test_create_app_rejects_bad_contract_collections() -> None:
    import pytest

    with pytest.raises(TypeError, match="contract class"):
        ig.server.create_app({"x": dict})
    with pytest.raises(ValueError, match="'/'"):
        ig.server.create_app({"a/b": Price})
    with pytest.raises(TypeError, match="contracts="):
        ig.server.create_app(42)
    with pytest.raises(ValueError, match="token"):
        ig.server.create_app({"p": Price}, token="")
    for unusable in ("s3cret ", " s3cret", "s3cret\n", "s3\tcret", "s3cret\x00"):  # no client could send it
        with pytest.raises(ValueError, match="whitespace") as refused:
            ig.server.create_app({"p": Price}, token=unusable)
        assert "s3cret" not in str(refused.value)
    served = ig.server.create_app([Price, Lead])  # a list serves classes under their names
    from fastapi.testclient import TestClient

    with TestClient(served) as client:
        assert client.get("/v1/health").json()["contracts"] == ["Price", "Lead"]
