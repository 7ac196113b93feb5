"""A hostile sender and a careless operator, second pass (2026-12-05): picking callables that meet a body of another
shape, a compressed body, a Content-Length no number type should have to hold. Each once answered 500 or a
misleading 400; each now gets a 4xx naming what was wrong, and nothing is written."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from igniter_nb.integrations.webhooks import sign
from tests.integrations.int_contracts import OrderWorkflow
from tests.integrations.test_webhooks import SECRET, body_for, payment_route, post


def _signals(store: Any, execution_id: str) -> list[dict[str, Any]]:
    return list(store.record(execution_id).snapshot["workflow"]["signals"])


@pytest.mark.parametrize("option", ["correlation_from", "payload_from"])
def test_a_picking_callable_raising_attribute_error_is_400_not_500(store: Any, option: str) -> None:
    """``body["data"].get(...)`` on a body whose ``data`` is a list raises AttributeError: the body's shape, not a
    fault of the service (it was a 500, while KeyError, TypeError and ValueError were 400)."""
    wf = OrderWorkflow.start(order_id="a-1", store=store)
    pickers = {"correlation_from": lambda body: {"order_id": body["data"].get("order_id")},
               "payload_from": lambda body: body["data"].get("payment")}
    route = payment_route(store, **{option: pickers[option]})
    if option == "correlation_from":
        raw = json.dumps({"data": ["a-1"]}).encode()
    else:  # the correlation's path is found in the list ("data.order_id" does not walk it): use another path
        route = payment_route(store, correlation_from={"order_id": "order_id"}, payload_from=pickers[option])
        raw = json.dumps({"order_id": "a-1", "data": [{"amount": 1, "currency": "EUR"}]}).encode()
    with TestClient(Starlette(routes=[route]), raise_server_exceptions=False) as client:
        response = post(client, raw)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(f"could not read the {option.split('_')[0]} from the body: "
                                               "AttributeError: ")
    assert _signals(store, wf.execution_id) == []


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_a_compressed_body_is_415_naming_its_content_encoding(store: Any, coding: str) -> None:
    """The signature covers the bytes sent, and the endpoint reads them as JSON text: a gzip body was refused as
    "not UTF-8 text (byte 1 is invalid)", which says nothing of the compression."""
    wf = OrderWorkflow.start(order_id="z-1", store=store)
    raw = gzip.compress(body_for("z-1"))
    with TestClient(Starlette(routes=[payment_route(store)]), raise_server_exceptions=False) as client:
        response = post(client, raw, headers={"Content-Encoding": coding})
        plain = post(client, body_for("z-1"), headers={"Content-Encoding": "identity"})
    assert response.status_code == 415, response.text
    assert response.json() == {"error": f"the body is sent with Content-Encoding {coding!r}, which this endpoint "
                                        "does not decode: send it uncompressed", "content_encoding": coding}
    assert plain.status_code == 200, plain.text  # "identity" is no encoding at all
    assert len(_signals(store, wf.execution_id)) == 1


def test_a_content_encoding_sent_twice_is_read_whole(store: Any) -> None:
    """``identity`` first and ``gzip`` second: the first value alone said "not encoded"."""
    wf = OrderWorkflow.start(order_id="z-2", store=store)
    raw = gzip.compress(body_for("z-2"))
    headers = {"Content-Type": "application/json", **sign(raw, SECRET)}
    with TestClient(Starlette(routes=[payment_route(store)]), raise_server_exceptions=False) as client:
        response = client.post("/webhooks/payment_received", content=raw,
                               headers=[*headers.items(), ("Content-Encoding", "identity"), ("Content-Encoding", "gzip")])
    assert response.status_code == 415, response.text
    assert response.json()["content_encoding"] == "identity, gzip"
    assert _signals(store, wf.execution_id) == []


@pytest.mark.parametrize("zeros", [False, True])
def test_a_content_length_of_thousands_of_digits_is_read_not_500(store: Any, zeros: bool) -> None:
    """An ASGI server may pass the header as sent (uvicorn's own parsers refuse it first): ``int()`` of 5000 digits
    raised Python's "Exceeds the limit (4300 digits)" ValueError, a 500. 5000 nines are over the limit (413);
    5000 zeros before the body's true length are that length (delivered)."""
    wf = OrderWorkflow.start(order_id="c-1", store=store)
    app = Starlette(routes=[payment_route(store)])
    raw = body_for("c-1")
    declared = "0" * 5000 + str(len(raw)) if zeros else "9" * 5000
    headers = {"content-type": "application/json", "content-length": declared, **sign(raw, SECRET)}
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/webhooks/payment_received", "raw_path": b"/webhooks/payment_received", "query_string": b"",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1)}
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": raw, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    if zeros:
        assert sent[0]["status"] == 200, sent[1]["body"]
        assert len(_signals(store, wf.execution_id)) == 1
    else:
        assert sent[0]["status"] == 413
        assert json.loads(sent[1]["body"]) == {"limit": 1024 * 1024,
                                               "error": "request body is larger than 1048576 bytes"}
        assert _signals(store, wf.execution_id) == []


def test_an_idempotency_header_contradicting_the_signed_body_field_is_400_and_writes_nothing(store: Any) -> None:
    """The body is signed, the ``Idempotency-Key`` header is not: anyone replaying a captured request within the
    tolerance could set the header, and the header won — the event was applied under the replayer's key and the
    sender's own delivery (and each of its retries) answered 409 as a duplicate. Both present and different is now
    refused; both the same, or either alone, is taken as before."""
    wf = OrderWorkflow.start(order_id="i-1", store=store)
    route = payment_route(store, idempotency_from="id")
    raw = body_for("i-1", id="evt_1")
    with TestClient(Starlette(routes=[route]), raise_server_exceptions=False) as client:
        forged = post(client, raw, key="attacker-chosen")
        assert forged.status_code == 400, forged.text
        assert forged.json() == {
            "error": "the header Idempotency-Key says 'attacker-chosen' but the field 'id' says 'evt_1': send one "
                     "idempotency key (the signed body's, or the same in both)",
            "header": "Idempotency-Key", "field": "id"}
        assert _signals(store, wf.execution_id) == []
        same = post(client, raw, key="evt_1")
        alone = post(client, raw)
    assert (same.status_code, same.json()["idempotency_key"], same.json()["replayed"]) == (200, "evt_1", False)
    assert (alone.status_code, alone.json()["idempotency_key"], alone.json()["replayed"]) == (200, "evt_1", True)
    assert [s["idempotency_key"] for s in _signals(store, wf.execution_id)] == ["evt_1"]


@pytest.mark.parametrize(("sent", "got"), [
    ({"id": "k" * 300}, "a str of 300 characters"),
    ({"id": {"evt": 1}}, "dict {'evt': 1}"),
    ({"id": 1.5}, "float 1.5"),
    ({"id": "  "}, "a blank str"),
])
def test_an_unusable_idempotency_field_is_400_saying_what_it_got_and_where(store: Any, sent: dict[str, Any],
                                                                            got: str) -> None:
    """The answer gave the rule only ("must be a non-blank string of at most 255 characters"): a sender whose ids are
    objects or floats could not tell which of the rule's parts it broke."""
    wf = OrderWorkflow.start(order_id="u-1", store=store)
    with TestClient(Starlette(routes=[payment_route(store, idempotency_from="id")]),
                    raise_server_exceptions=False) as client:
        response = post(client, body_for("u-1", **sent))
        long_header = post(client, body_for("u-1"), key="h" * 256)
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "idempotency key from field 'id' must be a non-blank string of at most 255 "
                                        f"characters, got {got}", "field": "id"}
    assert long_header.json() == {"error": "idempotency key from header Idempotency-Key must be a non-blank string of "
                                           "at most 255 characters, got a str of 256 characters",
                                  "header": "Idempotency-Key"}
    assert _signals(store, wf.execution_id) == []


@pytest.mark.parametrize("lookalike", ["cafe\u0301", "ｃａｆé", "CAFÉ", "café\u200b"])
def test_a_correlation_equal_to_another_only_after_unicode_normalisation_reaches_no_workflow(
        store: Any, lookalike: str) -> None:
    """Correlation values are compared as sent, code point by code point: "café" in NFD, in full-width letters, in
    capitals or with a zero-width space is not the NFC "café" another sender's workflow is correlated by."""
    wf = OrderWorkflow.start(order_id="café", store=store)
    with TestClient(Starlette(routes=[payment_route(store)]), raise_server_exceptions=False) as client:
        response = post(client, body_for(lookalike))
    assert response.status_code == 404, response.text
    assert response.json()["correlation"] == {"order_id": lookalike}
    assert _signals(store, wf.execution_id) == []


def test_no_answer_or_log_line_carries_the_secret(store: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Every refusal a signature can get, and an accepted delivery, with every log record kept: the secret (and its
    HMAC key bytes) appears in none of them."""
    OrderWorkflow.start(order_id="s-1", store=store)
    raw = body_for("s-1")
    good = sign(raw, SECRET)["Stripe-Signature"]
    stamp, mac = good.split(",")
    attempts: list[dict[str, str]] = [
        {}, {"Stripe-Signature": ""}, {"Stripe-Signature": stamp}, {"Stripe-Signature": f"{stamp},v1={mac[3:40]}"},
        {"Stripe-Signature": f"{stamp},v1={'0' * 64}"}, {"Stripe-Signature": f"t=1,{mac}"},
        {"Stripe-Signature": f"{stamp},v1=" + base64.b64encode(bytes.fromhex(mac[3:])).decode()},
        sign(raw, SECRET + "x"), sign(raw, SECRET)]
    caplog.set_level("DEBUG")
    with TestClient(Starlette(routes=[payment_route(store)]), raise_server_exceptions=False) as client:
        answers = [client.post("/webhooks/payment_received", content=raw,
                               headers={"Content-Type": "application/json", **headers}) for headers in attempts]
    assert [a.status_code for a in answers] == [401] * 8 + [200]
    seen = " ".join(a.text + str(dict(a.headers)) for a in answers) + caplog.text
    assert SECRET not in seen and "whsec" not in seen


def test_a_repeated_key_hundreds_of_levels_deep_is_named_in_a_bounded_answer(store: Any) -> None:
    """The repeat is found while parsing, before the depth is checked: its place, 900 levels down, was echoed whole,
    twice (a 3.7 KB answer to a 6 KB body). It is cut as the 404 cuts a correlation, its head kept."""
    OrderWorkflow.start(order_id="d-1", store=store)
    raw = b'{"x":' * 900 + b'{"a":1,"a":2}' + b"}" * 900
    with TestClient(Starlette(routes=[payment_route(store)]), raise_server_exceptions=False) as client:
        response = post(client, raw)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["key"] == "a"
    assert answer["field"].startswith("body.x.x.x") and answer["field"].endswith(" … (1,605 more characters)")
    assert len(response.content) < 700
