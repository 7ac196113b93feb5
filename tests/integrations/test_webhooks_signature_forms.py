"""Signature headers as real senders write them: a ``Stripe-Signature`` with empty items is read as Stripe's own SDK
reads it (judged by ``stripe.WebhookSignature.verify_header``), and a GitHub delivery signed only with the legacy
sha1 ``X-Hub-Signature`` gets a 401 that says so and what to send instead."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
import stripe
from starlette.applications import Starlette
from starlette.testclient import TestClient

from igniter_nb.integrations.signatures import SignatureRejected, verify
from igniter_nb.integrations.webhooks import endpoint, sign
from tests.integrations.int_contracts import OrderWorkflow

BODY = b'{"id": "evt_1", "data": {"order_id": "o-1"}}'
SECRET = "whsec_forms"


def _forms(now: int) -> dict[str, str]:
    good = sign(BODY, SECRET, timestamp=now)["Stripe-Signature"]
    stamp, v1 = good.split(",")
    return {"an empty item in the middle": f"{stamp},,{v1}",
            "a trailing comma": f"{good},",
            "a leading comma": f",{good}",
            "several empty items and spaces": f"{stamp}, ,,{v1},,",
            "an unknown item without '='": f"{stamp},future,{v1}"}


@pytest.mark.parametrize("form", list(_forms(0)))
def test_a_stripe_header_with_empty_items_is_read_as_stripes_own_sdk_reads_it(form: str) -> None:
    """``t=1,,v1=...`` was refused outright ("expected 't=<timestamp>,v1=<signature>'") while Stripe's SDKs skip the
    empty item and accept it."""
    header = _forms(int(time.time()))[form]
    assert stripe.WebhookSignature.verify_header(BODY.decode(), header, SECRET, tolerance=300)  # the judge
    verify("stripe", header, BODY, (SECRET.encode(),), tolerance=300)


@pytest.mark.parametrize(("header", "why"), [
    ("t={now},,", "no 'v1=<64 hex digits>' signature"),
    (",,,", "exactly one 't=<unix seconds>'"),
    ("t={now},,v1", "'v1' has no '=<value>'"),
    ("t,v1={sig}", "'t' has no '=<value>'"),
    ("t={now},,v1=abc", "no 'v1=<64 hex digits>' signature"),
])
def test_a_stripe_header_with_empty_items_and_no_valid_v1_is_still_refused(header: str, why: str) -> None:
    now = int(time.time())
    text = header.format(now=now, sig="a" * 64)
    with pytest.raises(stripe.SignatureVerificationError):  # Stripe's SDK refuses each of them too
        stripe.WebhookSignature.verify_header(BODY.decode(), text, SECRET, tolerance=300)
    with pytest.raises(SignatureRejected, match="malformed signature header: .*" + re.escape(why)):
        verify("stripe", text, BODY, (SECRET.encode(),), tolerance=300)


def _github_client(store: Any) -> TestClient:
    route = endpoint(OrderWorkflow, event="goods_shipped", correlation_from=["repository.order_id"], secret=SECRET,
                     signature_scheme="github", store=store, path="/github")
    return TestClient(Starlette(routes=[route]))


def _sha1(body: bytes) -> str:
    import hashlib
    import hmac

    return "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()


def test_a_github_delivery_signed_only_with_sha1_is_401_saying_to_send_x_hub_signature_256(store: Any) -> None:
    """It was the generic "missing signature header", which sent the operator looking for a missing secret."""
    wf = OrderWorkflow.start(order_id="g-1", store=store)
    body = json.dumps({"repository": {"order_id": "g-1"}, "carrier": "DHL"}).encode()
    with _github_client(store) as client:
        response = client.post("/github", content=body, headers={"X-Hub-Signature": _sha1(body),
                                                                 "X-GitHub-Delivery": "d-1"})
    assert response.status_code == 401, response.text
    assert response.json() == {
        "header": "X-Hub-Signature-256",
        "error": "invalid webhook signature: the request carries no X-Hub-Signature-256; sha1 signatures "
                 "(X-Hub-Signature) are not accepted: send X-Hub-Signature-256 (sha256=<hex>, HMAC-SHA256), which "
                 "GitHub adds to every delivery of a webhook that has a secret"}
    assert store.record(wf.execution_id).snapshot["workflow"]["signals"] == []


def test_a_sha1_value_in_the_sha256_header_says_sha1_is_not_accepted(store: Any) -> None:
    OrderWorkflow.start(order_id="g-2", store=store)
    body = json.dumps({"repository": {"order_id": "g-2"}, "carrier": "DHL"}).encode()
    with _github_client(store) as client:
        response = client.post("/github", content=body, headers={"X-Hub-Signature-256": _sha1(body)})
    assert response.status_code == 401
    assert response.json()["error"].startswith("invalid webhook signature: malformed signature header: sha1 "
                                               "signatures (X-Hub-Signature) are not accepted")


def test_a_delivery_with_both_headers_is_checked_by_its_sha256_one(store: Any) -> None:
    """GitHub sends both: the sha1 one is ignored, the sha256 one decides."""
    wf = OrderWorkflow.start(order_id="g-3", store=store)
    body = json.dumps({"repository": {"order_id": "g-3"}, "carrier": "DHL"}).encode()
    with _github_client(store) as client:
        good = client.post("/github", content=body, headers={"X-Hub-Signature": _sha1(body),
                                                             **sign(body, SECRET, scheme="github")})
        forged = client.post("/github", content=body, headers={"X-Hub-Signature": _sha1(body),
                                                               **sign(body, "other", scheme="github")})
    assert good.status_code == 200, good.text
    assert forged.status_code == 401 and "does not match" in forged.json()["error"]
    assert len(store.record(wf.execution_id).snapshot["workflow"]["signals"]) == 1
