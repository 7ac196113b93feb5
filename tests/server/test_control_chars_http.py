"""Over HTTP (a real uvicorn on 127.0.0.1): a start whose correlation value holds a control character is the
documented 422 naming the key, the character and its index (never a 500, nothing stored); a delivery with one is
the 404 whose message names it; the webhook endpoint's 404 names it too, without naming other workflows."""

from __future__ import annotations

import json

import httpx
from starlette.applications import Starlette

import igniter_nb as ig
from igniter_nb.integrations.webhooks import endpoint, sign
from igniter_nb.stores import MemoryStore
from tests.server.live_server import LiveServer
from tests.server.server_contracts import CONTRACTS

CASES = [("r-1\n", "\\x0a", 3), ("\x00", "\\x00", 0), ("r\x1b[31m", "\\x1b", 1), ("r-\x7f", "\\x7f", 2),
         ("r-\x9b", "\\x9b", 2)]


def test_a_start_with_a_control_character_is_a_422_naming_it() -> None:
    store = MemoryStore()
    with LiveServer(ig.server.create_app(CONTRACTS, store=store)) as server, httpx.Client(base_url=server.url) as http:
        answers = [http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": value}}) for value, _, _ in CASES]
    for started, (_, escape, index) in zip(answers, CASES, strict=True):
        assert started.status_code == 422, started.text
        body = started.json()
        assert body["type"] == "InputError"
        assert body["error"].startswith(f"Correlation key 'request_id' of Lead holds the control character {escape} ("), body
        assert f"at index {index}: correlation values may not hold control characters" in body["error"], body
        assert (body["node"], body["character"], body["index"]) == ("request_id", escape, index)
    assert store.list() == []


def test_a_delivery_with_a_control_character_is_a_404_whose_message_names_it() -> None:
    store = MemoryStore()
    with LiveServer(ig.server.create_app(CONTRACTS, store=store)) as server, httpx.Client(base_url=server.url) as http:
        assert http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "r-1"}}).status_code == 200
        missed = http.post("/v1/contracts/lead/events", json={
            "event": "billing_received", "correlation": {"request_id": "r-1\t"}, "payload": {"plan": "pro"}})
    assert missed.status_code == 404, missed.text
    assert missed.json()["type"] == "WorkflowNotFoundError"
    assert "(differs in request_id: the same text but for control characters: the given value has the control " \
           "character \\x09 (HT) at index 3)" in missed.json()["error"], missed.text


def test_the_webhook_404_names_a_control_character_in_the_value_sent() -> None:
    store = MemoryStore()
    route = endpoint(CONTRACTS["lead"], event="billing_received", correlation_from=["request_id"], payload_from="plan",
                     secret="whsec_cc", store=store, path="/hook")
    CONTRACTS["lead"].start(request_id="r-2", store=store)
    body = json.dumps({"id": "evt_cc", "request_id": "r-2\r", "plan": "pro"}).encode()  # (the key: its id)
    with LiveServer(Starlette(routes=[route])) as server, httpx.Client(base_url=server.url) as http:
        missed = http.post("/hook", content=body, headers={"Content-Type": "application/json",
                                                           **sign(body, "whsec_cc")})
    assert missed.status_code == 404, missed.text
    assert missed.json() == {
        "type": "WorkflowNotFoundError", "graph": "Lead", "event": "billing_received",
        "correlation": {"request_id": "r-2\r"},
        "error": "no active Lead workflow has this correlation (request_id holds the control character \\x0d (CR) at "
                 "index 3; correlation values are matched exactly)"}
