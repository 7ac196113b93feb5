"""Hostile webhook requests that once got a 500 or a misleading answer: lone UTF-16 surrogates in the JSON, a key
repeated in one object, a correlation value of the wrong type, signature timestamps in non-ASCII digits, a valid request replayed."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from igniter_nb.integrations.signatures import SignatureRejected, verify
from igniter_nb.integrations.webhooks import endpoint
from tests.integrations.int_contracts import OrderWorkflow
from tests.integrations.test_webhooks import SECRET, body_for, payment_route, post


def _signals(store: Any, execution_id: str) -> list[dict[str, Any]]:
    return list(store.record(execution_id).snapshot["workflow"]["signals"])


@pytest.mark.parametrize("raw", [
    b'{"data": {"order_id": "\\ud800", "payment": {"amount": 1, "currency": "EUR"}}}',
    b'{"data": {"order_id": "h-1", "payment": {"amount": 1, "currency": "\\udfff"}}}',
    b'{"data": {"order_id": "h-1", "payment": {"amount": 1, "currency": "EUR"}}, "\\ud83d": 1}',
])
def test_a_lone_surrogate_escape_is_400_and_writes_nothing(store: Any, raw: bytes) -> None:
    wf = OrderWorkflow.start(order_id="h-1", store=store)
    with TestClient(Starlette(routes=[payment_route(store)]), raise_server_exceptions=False) as client:
        response = post(client, raw)
        paired = post(client, b'{"data": {"order_id": "h-1", "payment": {"amount": 1, "currency": "\\ud83d\\ude00"}}}')
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    assert "unpaired UTF-16 surrogate" in response.json()["error"]
    assert response.json()["field"] in ("body.data.order_id", "body.data.payment.currency", "body (a key)")
    assert paired.status_code == 200, paired.text  # a surrogate *pair* is an ordinary character (here an emoji)
    assert len(_signals(store, wf.execution_id)) == 1


@pytest.mark.parametrize(("raw", "key", "where"), [
    (b'{"data": {"order_id": "r-1", "payment": {"amount": 1, "currency": "EUR"}}, "data": {"order_id": "r-2"}}',
     "data", "body"),
    (b'{"data": {"order_id": "r-1", "payment": {"amount": 1, "currency": "EUR", "amount": 1000}}}', "amount",
     "body.data.payment"),
    (b'{"data": {"order_id": "r-1", "order_id": "r-2", "payment": {"amount": 1, "currency": "EUR"}}}', "order_id",
     "body.data"),
    (b'{"data": {"order_id": "r-1", "payment": {"amount": 1, "currency": "EUR"}}, "items": [{}, {"a": 1, "a": 2}]}',
     "a", "body.items[1]"),
])
def test_a_key_repeated_in_one_object_is_400_naming_it_and_where(store: Any, raw: bytes, key: str,
                                                                  where: str) -> None:
    """json keeps the last value, while whatever read the body before (a gateway, a log, the sender's own checks)
    may have read the first: refused as the server's request reader refuses it, and nothing is delivered."""
    wf = OrderWorkflow.start(order_id="r-1", store=store)
    with TestClient(Starlette(routes=[payment_route(store)]), raise_server_exceptions=False) as client:
        response = post(client, raw)
        unsigned = post(client, raw, secret="not-the-secret")
    assert response.status_code == 400, response.text
    assert response.json() == {"error": f"body repeats the key {key!r} in {where}: each key may appear once",
                               "field": where, "key": key}
    assert unsigned.status_code == 401  # the signature is checked first, on the raw bytes, as before
    assert _signals(store, wf.execution_id) == []


@pytest.mark.parametrize("value, got", [(5, "int"), (True, "bool"), (1.5, "float")])
def test_a_correlation_value_of_the_wrong_type_is_400_naming_the_key(store: Any, value: Any, got: str) -> None:
    body = json.dumps({"data": {"order_id": value, "payment": {"amount": 1, "currency": "EUR"}}}).encode()
    with TestClient(Starlette(routes=[payment_route(store)])) as client:
        response = post(client, body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["type"] == "WorkflowNotFoundError" and answer["field"] == "data.order_id"
    assert "correlation key 'order_id'" in answer["error"] and answer["got"] == got


@pytest.mark.services
def test_queued_a_correlation_value_of_the_wrong_type_is_400_and_nothing_is_enqueued(queue: Any) -> None:
    body = json.dumps({"data": {"order_id": 7, "payment": {"amount": 1, "currency": "EUR"}}}).encode()
    with TestClient(Starlette(routes=[payment_route(None, queue=queue)])) as client:
        response = post(client, body)
        lone = post(client, b'{"data": {"order_id": "q", "payment": {"amount": 1, "currency": "\\ud800"}}}')
    assert response.status_code == 400 and "correlation key 'order_id'" in response.json()["error"]
    assert lone.status_code == 400
    assert queue.count == 0


@pytest.mark.parametrize("stamp", ["\u00b2", "\u0661\u0662\u0663", "\uff11\uff12"])
def test_a_signature_timestamp_in_other_digits_is_malformed(stamp: str) -> None:
    with pytest.raises(SignatureRejected, match="malformed"):
        verify("stripe", f"t={stamp},v1={'a' * 64}", b"{}", (SECRET.encode(),), tolerance=300)


def test_a_valid_request_replayed_inside_the_tolerance_is_applied_once(store: Any) -> None:
    """The signature's timestamp stops replays after ``tolerance``; inside it, the idempotency key answers a
    replay as one (200, replayed), and without a key the repeat is a 409 duplicate: applied once either way."""
    wf = OrderWorkflow.start(order_id="h-2", store=store)
    shipped = OrderWorkflow.start(order_id="h-3", store=store)
    body = json.dumps({"data": {"order_id": "h-2", "payment": {"amount": 3, "currency": "EUR"}}}).encode()
    no_key = json.dumps({"data": {"order_id": "h-3", "payment": {"amount": 3, "currency": "EUR"}}}).encode()
    stamp = int(time.time())
    with TestClient(Starlette(routes=[payment_route(store)])) as client:
        first, again = (post(client, body, key="evt-h2", timestamp=stamp) for _ in range(2))
        once, twice = (post(client, no_key, timestamp=stamp) for _ in range(2))
    assert first.status_code == again.status_code == 200
    assert (first.json()["replayed"], again.json()["replayed"]) == (False, True)
    assert once.status_code == 200 and twice.status_code == 409 and twice.json()["type"] == "DuplicateSignalError"
    assert len(_signals(store, wf.execution_id)) == len(_signals(store, shipped.execution_id)) == 1


def test_a_delivery_after_retry_workflow_reopened_the_await_is_reported_as_new(store: Any) -> None:
    """The first signal for the event was retracted by ``retry_workflow`` (its value could not be stored): the
    answer describes the new signal, not the retracted one."""
    import threading

    OrderWorkflow.start(order_id="h-4", store=store)
    failed = OrderWorkflow.deliver_event("goods_shipped", correlation={"order_id": "h-4"},
                                         payload={"carrier": threading.Lock()}, store=store, idempotency_key="s-1")
    assert failed.workflow_status == "failed"
    assert OrderWorkflow.retry_workflow(correlation={"order_id": "h-4"}, store=store).workflow_status == "waiting"
    route = endpoint(OrderWorkflow, event="goods_shipped", correlation_from=["order_id"], store=store, path="/ship",
                     idempotency_header="Idempotency-Key")
    with TestClient(Starlette(routes=[route])) as client:
        first = client.post("/ship", json={"order_id": "h-4", "carrier": "DHL"}, headers={"Idempotency-Key": "s-2"})
        again = client.post("/ship", json={"order_id": "h-4", "carrier": "DHL"}, headers={"Idempotency-Key": "s-2"})
    assert first.status_code == 200, first.text
    assert (first.json()["signal"], first.json()["replayed"]) == (2, False)
    assert (again.json()["signal"], again.json()["replayed"]) == (2, True)


@pytest.mark.parametrize(("number", "said"), [
    (b"1e999", "number 1e999 is too large for a float"),
    (b"-1e999", "number -1e999 is too large for a float"),
    (b"NaN", "NaN is not a JSON number"),
    (b"Infinity", "Infinity is not a JSON number"),
    (b"-Infinity", "-Infinity is not a JSON number"),
])
@pytest.mark.parametrize("where", ["payload", "elsewhere"])
def test_a_number_json_has_not_is_400_naming_it_and_writes_nothing(store: Any, number: bytes, said: str,
                                                                     where: str) -> None:
    """Python's ``json`` reads ``1e999`` as infinity and ``NaN``/``Infinity`` as floats; JSON has none of them. The
    webhook reads its body as the server reads its requests (``loads_strict``), and says which number it refused."""
    wf = OrderWorkflow.start(order_id="n-1", store=store)
    amount, extra = (number, b"1") if where == "payload" else (b"1", number)
    raw = b'{"data": {"order_id": "n-1", "payment": {"amount": ' + amount + b', "currency": "EUR"}}, "x": ' + extra + b"}"
    with TestClient(Starlette(routes=[payment_route(store)])) as client:
        response = post(client, raw)
        bom = post(client, b"\xef\xbb\xbf" + body_for("n-1", big=2.5e300))  # a finite large float, a UTF-8 BOM: as before
    assert response.status_code == 400, response.text
    assert response.json() == {"error": f"body is not valid JSON: {said}", "token": number.decode()}
    assert bom.status_code == 200, bom.text
    assert len(_signals(store, wf.execution_id)) == 1


def test_the_404_for_an_unknown_correlation_echoes_a_bounded_part_of_it(store: Any) -> None:
    long_id = "o-" + "9" * 500_000  # a near-1 MiB body used to come back whole in the 404
    with TestClient(Starlette(routes=[payment_route(store)]), raise_server_exceptions=False) as client:
        response = post(client, body_for(long_id))
        short = post(client, body_for("o-unknown"))
    assert response.status_code == 404, response.text[:300]
    body = response.json()
    assert body["type"] == "WorkflowNotFoundError" and body["graph"] == "OrderWorkflow"
    shown = body["correlation"]["order_id"]  # the key stays; the value's start, enough to recognise it
    assert shown.startswith("o-999") and shown.endswith("(499,803 more characters)")
    assert len(response.content) < 1_000
    assert short.json()["correlation"] == {"order_id": "o-unknown"}  # a short value comes back as it was
