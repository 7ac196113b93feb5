"""The webhook endpoint in a Starlette (and a FastAPI) app, driven in-process over ASGI against real SQLite and
PostgreSQL stores: deliveries, every refusal with its status and JSON body, hostile bodies."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import igniter_nb as ig
from igniter_nb.integrations.webhooks import body_digest_key, endpoint, pick, sign
from igniter_nb.stores import SQLStore
from tests.integrations.int_contracts import OrderWorkflow

SECRET = "whsec_test_secret"



def payment_route(store: Any, **options: Any) -> Route:
    settings: dict[str, Any] = {"event": "payment_received", "correlation_from": ["data.order_id"],
                                "payload_from": "data.payment", "secret": SECRET, "store": store}
    settings.update(options)
    if settings.get("signature_scheme", "stripe") == "stripe":  # keyed by the header these tests send, named: the
        settings.setdefault("idempotency_header", "Idempotency-Key")  # scheme's default is the signed body's "id"
    return endpoint(OrderWorkflow, **settings)


@pytest.fixture
def client(store: Any) -> Iterator[TestClient]:
    app = Starlette(routes=[payment_route(store)])
    with TestClient(app) as test_client:
        yield test_client


def body_for(order_id: Any, amount: Any = 40, **extra: Any) -> bytes:
    return json.dumps({"data": {"order_id": order_id, "payment": {"amount": amount, "currency": "EUR"}}, **extra}).encode()


def post(client: TestClient, body: bytes, *, key: str | None = None, secret: str = SECRET, timestamp: int | None = None,
         headers: dict[str, str] | None = None, path: str = "/webhooks/payment_received") -> httpx.Response:
    sent = {"Content-Type": "application/json", **sign(body, secret, timestamp=timestamp)}
    if key is not None:
        sent["Idempotency-Key"] = key
    sent.update(headers or {})
    return client.post(path, content=body, headers=sent)


def _signals(store: Any, execution_id: str) -> list[dict[str, Any]]:
    return list(store.record(execution_id).snapshot["workflow"]["signals"])


# ------------------------------------------------------------------------------------------------ deliveries
def test_a_signed_post_delivers_the_event_and_answers_200(client: TestClient, store: Any) -> None:
    wf = OrderWorkflow.start(order_id="o-1", store=store)
    response = post(client, body_for("o-1"), key="evt-1")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "delivered", "graph": "OrderWorkflow", "event": "payment_received",
                               "execution_id": wf.execution_id, "workflow_status": "waiting",
                               "idempotency_key": "evt-1", "signal": 1, "replayed": False}
    (signal,) = _signals(store, wf.execution_id)
    assert signal["idempotency_key"] == "evt-1" and signal["node"] == "payment"
    restored = OrderWorkflow.restore_from_store(wf.execution_id, store=store)
    assert restored.execution.states["payment"].value.amount == 40


def test_the_same_idempotency_key_again_is_answered_idempotently(client: TestClient, store: Any) -> None:
    wf = OrderWorkflow.start(order_id="o-2", store=store)
    assert post(client, body_for("o-2"), key="evt-2").json()["replayed"] is False
    again = post(client, body_for("o-2"), key="evt-2")
    assert again.status_code == 200 and again.json()["replayed"] is True and again.json()["signal"] == 1
    assert len(_signals(store, wf.execution_id)) == 1


def test_a_duplicate_with_another_key_is_409(client: TestClient, store: Any) -> None:
    wf = OrderWorkflow.start(order_id="o-3", store=store)
    post(client, body_for("o-3"), key="evt-3")
    response = post(client, body_for("o-3"), key="evt-other")
    assert response.status_code == 409
    body = response.json()
    assert body["type"] == "DuplicateSignalError" and "already delivered" in body["error"]
    assert body["execution_id"] == wf.execution_id and body["event"] == "payment_received"
    assert "source_location" not in body
    assert len(_signals(store, wf.execution_id)) == 1


def test_an_unknown_workflow_is_404_without_naming_other_workflows(client: TestClient, store: Any) -> None:
    OrderWorkflow.start(order_id="o-secret-neighbour", store=store)
    response = post(client, body_for("o-4"))
    assert response.status_code == 404
    body = response.json()
    assert body == {"type": "WorkflowNotFoundError", "graph": "OrderWorkflow", "event": "payment_received",
                    "correlation": {"order_id": "o-4"},
                    "error": "no active OrderWorkflow workflow has this correlation"}
    assert "neighbour" not in response.text


def test_a_payload_that_breaks_the_schema_is_422_listing_the_problems(client: TestClient, store: Any) -> None:
    wf = OrderWorkflow.start(order_id="o-5", store=store)
    response = post(client, body_for("o-5", amount="lots"))
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "PayloadValidationError" and body["node"] == "payment"
    assert [p["loc"] for p in body["problems"]] == ["amount"]
    assert _signals(store, wf.execution_id) == []


@pytest.mark.services
def test_delivery_inline_into_the_default_store(default_store: Any) -> None:
    wf = OrderWorkflow.start(order_id="o-6", store=default_store)
    app = Starlette(routes=[endpoint(OrderWorkflow, event="goods_shipped", correlation_from={"order_id": "order"},
                                     path="/hooks/shipped", idempotency_from=None)])  # (no key: said so)
    with TestClient(app) as test_client:
        response = test_client.post("/hooks/shipped", json={"order": "o-6", "carrier": "DHL"})
    assert response.status_code == 200, response.text
    (signal,) = _signals(default_store, wf.execution_id)
    assert signal["event"] == "goods_shipped" and signal["idempotency_key"] is None
    stored = OrderWorkflow.restore_from_store(wf.execution_id, store=default_store)
    assert stored.execution.states["shipment"].value == {"order": "o-6", "carrier": "DHL"}


def test_the_route_mounts_in_a_fastapi_app(store: Any) -> None:
    import fastapi

    app = fastapi.FastAPI()
    app.router.routes.append(payment_route(store, path="/stripe"))
    wf = OrderWorkflow.start(order_id="o-7", store=store)
    with TestClient(app) as test_client:
        response = post(test_client, body_for("o-7"), path="/stripe")
        refused = test_client.get("/stripe")
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"  # Starlette's own answer
    assert response.status_code == 200 and response.json()["execution_id"] == wf.execution_id


def test_github_scheme_keys_a_delivery_by_its_signed_body_and_labels_it_with_the_delivery_id(store: Any) -> None:
    route = endpoint(OrderWorkflow, event="goods_shipped", correlation_from=["repository.order_id"],
                     secret=["ghs_new", "ghs_old"], signature_scheme="github", store=store, path="/github")
    wf = OrderWorkflow.start(order_id="o-8", store=store)
    body = json.dumps({"repository": {"order_id": "o-8"}, "carrier": "DHL"}).encode()
    headers = {**sign(body, "ghs_old", scheme="github"), "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}
    with TestClient(Starlette(routes=[route])) as test_client:
        first = test_client.post("/github", content=body, headers=headers)
        redelivered = test_client.post("/github", content=body, headers=headers)
        unsigned = test_client.post("/github", content=body, headers={"X-GitHub-Delivery": "x"})
    assert first.status_code == 200 and redelivered.json()["replayed"] is True
    assert first.json()["delivery"] == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert unsigned.status_code == 401 and unsigned.json()["header"] == "X-Hub-Signature-256"
    assert [s["idempotency_key"] for s in _signals(store, wf.execution_id)] == [body_digest_key(body)]


def test_idempotency_key_from_a_body_field_and_payload_from_a_callable(store: Any) -> None:
    route = endpoint(OrderWorkflow, event="goods_shipped", correlation_from=["data.object.metadata.order_id"],
                     payload_from=lambda body: {"carrier": body["data"]["object"]["carrier"]}, idempotency_from="id",
                     store=store)
    wf = OrderWorkflow.start(order_id="o-9", store=store)
    event = {"id": "evt_1Nx", "data": {"object": {"metadata": {"order_id": "o-9"}, "carrier": "UPS"}}}
    with TestClient(Starlette(routes=[route])) as test_client:
        assert test_client.post("/webhooks/goods_shipped", json=event).status_code == 200
        no_carrier = test_client.post("/webhooks/goods_shipped", json={**event, "data": {"object": {
            "metadata": {"order_id": "o-9"}}}})
        no_id = test_client.post("/webhooks/goods_shipped", json={"data": event["data"]})
    assert no_carrier.status_code == 400 and "KeyError" in no_carrier.json()["error"]
    assert no_id.status_code == 400 and no_id.json()["field"] == "id"
    (signal,) = _signals(store, wf.execution_id)
    assert signal["idempotency_key"] == "evt_1Nx"


# ------------------------------------------------------------------------------------------------ signatures
def test_a_missing_wrong_or_expired_signature_is_401_and_delivers_nothing(client: TestClient, store: Any) -> None:
    wf = OrderWorkflow.start(order_id="o-10", store=store)
    body = body_for("o-10")
    unsigned = client.post("/webhooks/payment_received", content=body)
    wrong = post(client, body, secret="whsec_guess")
    expired = post(client, body, timestamp=int(time.time()) - 301)
    malformed = post(client, body, headers={"Stripe-Signature": "t=now"})
    tampered_body = post(client, body, headers=sign(body_for("o-10", amount=1), SECRET))
    for response, reason in ((unsigned, "missing signature header"), (wrong, "does not match"),
                             (expired, "outside the tolerance"), (malformed, "malformed"),
                             (tampered_body, "does not match")):
        assert response.status_code == 401, response.text
        assert reason in response.json()["error"] and response.json()["header"] == "Stripe-Signature"
    assert _signals(store, wf.execution_id) == []


def test_a_replay_of_a_captured_request_outside_the_tolerance_is_refused(client: TestClient, store: Any) -> None:
    wf = OrderWorkflow.start(order_id="o-11", store=store)
    body = body_for("o-11")
    captured = sign(body, SECRET, timestamp=int(time.time()) - 3600)  # as signed an hour ago
    response = client.post("/webhooks/payment_received", content=body, headers=captured)
    assert response.status_code == 401 and "tolerance" in response.json()["error"]
    assert _signals(store, wf.execution_id) == []


# ------------------------------------------------------------------------------------------------ bad requests
@pytest.mark.parametrize("raw, words", [
    (b"{not json", "not valid JSON"),
    (b"", "empty body"),
    (b"   ", "empty body"),
    (b"[1, 2]", "got an array"),
    (b'"text"', "got a string"),
    (b"null", "got null"),
    (b"42", "got a number"),
    (b'{"data": {"order_id": NaN}}', "not valid JSON"),
    (b'{"data": {"order_id": "\xff\xfe"}}', "not valid JSON"),
    (b'{"n": ' + b"9" * 5000 + b"}", "not valid JSON"),
])
def test_bodies_that_are_not_a_json_object_are_400(client: TestClient, raw: bytes, words: str) -> None:
    response = post(client, raw)
    assert response.status_code == 400 and words in response.json()["error"]


@pytest.mark.parametrize("data, words", [
    ({"data": {"payment": {}}}, "missing correlation field 'data.order_id'"),
    ({"other": 1}, "missing correlation field 'data.order_id'"),
    ({"data": ["o-1"]}, "missing correlation field 'data.order_id'"),
    ({"data": {"order_id": {"id": 1}}}, "must be a string or a number, got an object"),
    ({"data": {"order_id": None}}, "got null"),
    ({"data": {"order_id": "  "}}, "is blank"),
    ({"data": {"order_id": "o-1"}}, "missing payload field 'data.payment'"),
])
def test_a_missing_or_unusable_correlation_or_payload_field_is_400_naming_the_path(
        client: TestClient, data: dict[str, Any], words: str) -> None:
    response = post(client, json.dumps(data).encode())
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]


def test_a_blank_or_overlong_idempotency_header_is_400(client: TestClient) -> None:
    assert post(client, body_for("o-1"), key=" ").status_code == 400
    assert "at most 255" in post(client, body_for("o-1"), key="k" * 256).json()["error"]


def test_names_and_values_shaped_like_html_come_back_as_inert_json(client: TestClient, store: Any) -> None:
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    response = post(client, body_for(hostile), key=hostile[:200])
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.json()["correlation"] == {"order_id": hostile}
    missing = post(client, json.dumps({"data": {"<b>order</b>": 1}}).encode())
    assert missing.status_code == 400 and missing.headers["content-type"] == "application/json"


def test_a_deeply_nested_body_is_400_at_any_depth(client: TestClient, store: Any) -> None:
    OrderWorkflow.start(order_id="o-12", store=store)
    for depth in (65, 5_000, 200_000):
        nested = b'{"data": {"order_id": "o-12", "payment": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}}"
        response = post(client, nested)
        assert response.status_code in (400, 413), response.text
        if len(nested) <= 1024 * 1024:
            assert response.status_code == 400 and "nested deeper than 64 levels" in response.json()["error"]


def test_a_huge_body_under_the_limit_is_handled_and_one_over_it_is_413(client: TestClient, store: Any) -> None:
    wf = OrderWorkflow.start(order_id="o-13", store=store)
    big = json.dumps({"data": {"order_id": "o-13", "payment": {"amount": 1, "currency": "EUR",
                                                               "lines": list(range(140_000))}}}).encode()
    assert 900_000 < len(big) < 1024 * 1024
    response = post(client, big)
    assert response.status_code == 200, response.text[:300]  # extra fields are dropped by the schema
    too_big = json.dumps({"data": {"order_id": "o-13", "pad": "x" * (1024 * 1024)}}).encode()
    response = post(client, too_big)
    assert response.status_code == 413
    assert response.json() == {"error": "request body is larger than 1048576 bytes", "limit": 1048576}
    assert len(_signals(store, wf.execution_id)) == 1


def test_an_oversized_chunked_body_is_413_counted_as_it_arrives(store: Any) -> None:
    app = Starlette(routes=[payment_route(store, secret=None, max_body_size=1000)])
    sent = []

    def chunks() -> Iterator[bytes]:
        for _ in range(50):
            sent.append(1)
            yield b'{"pad": "' + b"x" * 100 + b'"}'

    with TestClient(app) as test_client:
        response = test_client.post("/webhooks/payment_received", content=chunks())
    assert response.status_code == 413 and response.json()["limit"] == 1000


# ------------------------------------------------------------------------------------------------ the event loop
def test_store_calls_run_in_a_thread_and_never_block_the_event_loop(tmp_path: Path) -> None:
    """A delivery held inside the store must not stop the app from answering another request meanwhile."""

    class GatedStore(SQLStore):
        def __init__(self, url: str) -> None:
            super().__init__(url)
            self.entered, self.release = threading.Event(), threading.Event()

        def _hold(self) -> None:
            self.entered.set()
            assert self.release.wait(10), "the test never released the store"

        # a delivery reads the workflow with one of these, whichever the store offers
        def find_by_correlation(self, graph: str, correlation: dict[str, Any]) -> Any:
            self._hold()
            return super().find_by_correlation(graph, correlation)

        def record_by_correlation(self, graph: str, correlation: dict[str, Any]) -> Any:
            self._hold()
            return super().record_by_correlation(graph, correlation)

    url = f"sqlite:///{tmp_path / 'gated.db'}"
    plain = SQLStore(url)
    OrderWorkflow.start(order_id="o-14", store=plain)
    plain.close()
    store = GatedStore(url)

    async def ping(request: Any) -> PlainTextResponse:
        return PlainTextResponse("pong")

    app = Starlette(routes=[payment_route(store, secret=None), Route("/ping", ping)])

    async def scenario() -> tuple[int, int, bool]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            delivery = asyncio.create_task(http.post("/webhooks/payment_received", content=body_for("o-14")))
            for _ in range(1000):  # at most 10 s
                if store.entered.is_set():
                    break
                await asyncio.sleep(0.01)
            assert store.entered.is_set(), "the delivery never reached the store"
            ping_response = await asyncio.wait_for(http.get("/ping"), timeout=5)
            still_waiting = not delivery.done()
            store.release.set()
            delivered = await asyncio.wait_for(delivery, timeout=10)
            return ping_response.status_code, delivered.status_code, still_waiting

    try:
        ping_status, delivery_status, still_waiting = asyncio.run(scenario())
    finally:
        store.release.set()
        store.close()
    assert ping_status == 200 and still_waiting and delivery_status in (200, 404)


# ------------------------------------------------------------------------------------------------ configuration
def test_configuration_mistakes_are_refused_when_the_route_is_made(store: Any) -> None:
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"event": "refunded"}, ig.AwaitedEventMismatchError, "does not await event 'refunded'"),
        ({"correlation_from": ["data.order"]}, ValueError, "correlates by"),
        ({"correlation_from": ["a.order_id", "b.order_id"]}, ValueError, "same key twice"),
        ({"correlation_from": ["data..order_id"]}, ValueError, "dotted path"),
        ({"correlation_from": 42}, TypeError, "correlation_from"),
        ({"payload_from": ""}, ValueError, "payload_from"),
        ({"secret": []}, ValueError, "at least one secret"),
        ({"signature_scheme": "paypal"}, ValueError, "signature_scheme"),
        ({"tolerance": 0}, ValueError, "tolerance"),
        ({"max_body_size": 0}, ValueError, "max_body_size"),
        ({"path": "webhooks"}, ValueError, "start with '/'"),
        ({"queue": object()}, ValueError, "queue= or store="),
    ]
    for options, error, words in cases:
        with pytest.raises(error, match=words):
            payment_route(store, **options)
    with pytest.raises(TypeError, match="contract class"):
        endpoint(dict, event="x", correlation_from=["a"])


def test_dotted_paths_walk_objects_and_list_indexes() -> None:
    data = {"data": {"items": [{"id": "a"}, {"id": "b"}], "0": "zero"}}
    assert pick(data, "data.items.1.id") == "b"
    assert pick(data, "data.0") == "zero"
    with pytest.raises(LookupError, match=r"data\.items\.2"):
        pick(data, "data.items.2.id")
    with pytest.raises(LookupError, match=r"^data\.missing$"):
        pick(data, "data.missing.id")


# ------------------------------------------------------------------------------------------------ queue and store faults
@pytest.mark.services
def test_queued_mode_answers_202_and_a_worker_delivers_while_bad_payloads_are_refused_before_enqueueing(
        queue: Any, default_store: Any) -> None:
    from tests.integrations.conftest import run_jobs

    wf = OrderWorkflow.start(order_id="q-1", store=default_store)
    app = Starlette(routes=[payment_route(None, queue=queue)])
    with TestClient(app) as test_client:
        queued = post(test_client, body_for("q-1"), key="q-evt")
        invalid = post(test_client, body_for("q-1", amount="lots"))
        unknown_is_queued_too = post(test_client, body_for("q-404"))
    assert queued.status_code == 202
    assert queued.json()["status"] == "queued" and queued.json()["queue"] == queue.name
    assert invalid.status_code == 422 and unknown_is_queued_too.status_code == 202
    assert queue.count == 2
    run_jobs(queue)
    assert [s["idempotency_key"] for s in _signals(default_store, wf.execution_id)] == ["q-evt"]
    failed = queue.failed_job_registry.get_job_ids()
    assert failed == [unknown_is_queued_too.json()["job_id"]]


def test_an_unreachable_store_is_503_with_retry_after(store: Any) -> None:
    from igniter_nb.stores import RedisStore
    from tests.services import dead_port

    with dead_port() as port:
        dead = RedisStore(f"redis://127.0.0.1:{port}/0", namespace="hooks")
        with TestClient(Starlette(routes=[payment_route(dead)])) as test_client:
            response = post(test_client, body_for("o-15"))
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    # the store names itself and the driver's cause (a StoreError since RedisStore wraps an unreachable server)
    assert response.json() == {"error": "the workflow store is busy or unreachable, try again (StoreError)",
                               "type": "StoreError"}
