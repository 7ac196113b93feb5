"""A webhook body declared in a charset other than UTF-8 (``Content-Type: application/json; charset=latin-1``) was
read as UTF-8 all the same: latin-1 text that happens to be valid UTF-8 (``Ã©``, the bytes C3 A9) was delivered as
another text (``é``) — to another workflow's correlation. Now it is the 400 the server's routes answer (one check,
``integrations/body_charset.py``), naming the charset; nothing is written. The signature is checked first: an
unsigned or forged request learns nothing but the 401."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from igniter_nb.integrations.webhooks import sign
from tests.integrations.int_contracts import OrderWorkflow
from tests.integrations.test_webhooks import SECRET, payment_route

PATH = "/webhooks/payment_received"


def _latin1_body() -> bytes:
    """``order_id`` ``cafÃ©`` in latin-1: the bytes of ``café`` in UTF-8."""
    body = json.dumps({"data": {"order_id": "cafÃ©", "payment": {"amount": 40, "currency": "EUR"}}},
                      ensure_ascii=False).encode("latin-1")
    assert "café".encode() in body
    return body


def _signals(store: Any, execution_id: str) -> list[Any]:
    return list(store.record(execution_id).snapshot["workflow"]["signals"])


@pytest.mark.parametrize("charset", ["latin-1", "ISO-8859-1", '"windows-1252"', "utf-16"])
@pytest.mark.parametrize("scheme", ["stripe", "github"])
def test_a_body_declared_in_another_charset_is_the_servers_400_and_nothing_is_delivered(
        store: Any, charset: str, scheme: str) -> None:
    wf = OrderWorkflow.start(order_id="café", store=store)  # what the latin-1 bytes read as UTF-8 say
    body = _latin1_body()
    headers = {"Content-Type": f"application/json; charset={charset}", **sign(body, SECRET, scheme=scheme)}
    with TestClient(Starlette(routes=[payment_route(store, signature_scheme=scheme)])) as client:
        response = client.post(PATH, content=body, headers=headers)
    assert response.status_code == 400, response.text
    shown = charset.strip('"')
    assert response.json() == {
        "error": f"the body is declared charset={shown}: JSON is read as UTF-8 (RFC 8259) — send it in UTF-8, with "
                 "charset=utf-8 or no charset",
        "charset": shown}
    assert _signals(store, wf.execution_id) == []


@pytest.mark.parametrize("forged", [False, True])
def test_the_signature_is_checked_first_an_unsigned_request_learns_only_the_401(store: Any, forged: bool) -> None:
    wf = OrderWorkflow.start(order_id="café", store=store)
    body = _latin1_body()
    headers = {"Content-Type": "application/json; charset=latin-1",
               **(sign(body, "not-the-secret") if forged else {})}
    with TestClient(Starlette(routes=[payment_route(store)])) as client:
        response = client.post(PATH, content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert "charset" not in response.text
    assert _signals(store, wf.execution_id) == []


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/json; charset=UTF8",
                                          'application/json; charset="utf-8"', "application/json;charset=utf-8",
                                          "application/json"])
def test_utf8_may_be_declared(store: Any, content_type: str) -> None:
    wf = OrderWorkflow.start(order_id="café", store=store)
    body = json.dumps({"data": {"order_id": "café", "payment": {"amount": 40, "currency": "EUR"}}},
                      ensure_ascii=False).encode()
    with TestClient(Starlette(routes=[payment_route(store)])) as client:
        response = client.post(PATH, content=body, headers={"Content-Type": content_type, **sign(body, SECRET)})
    assert response.status_code == 200, response.text
    assert len(_signals(store, wf.execution_id)) == 1
