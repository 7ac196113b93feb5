"""Over HTTP a delivery that misses a workflow, or repeats a delivered event, only by an invisible character in
the correlation or the idempotency key gets the engine's words in its documented 404 / 409 body: which key, which
index, which code point (workflow/lookalikes.py). Served by real uvicorn."""

from __future__ import annotations

import warnings
from typing import Any

import httpx

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.server.server_contracts import CONTRACTS

EVENTS = "/v1/contracts/lead/events"


def test_invisible_characters_are_pointed_out_in_the_404_and_409_bodies(live_app: Any) -> None:
    store = MemoryStore()
    server = live_app(ig.server.create_app(CONTRACTS, store=store))
    with httpx.Client(base_url=server.url) as http:
        assert http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "r-1"}}).status_code == 200
        missed = http.post(EVENTS, json={"event": "billing_received", "correlation": {"request_id": "r-1\u200b"},
                                         "payload": {"plan": "pro"}})
        assert missed.status_code == 404, missed.text
        body = missed.json()
        assert body["type"] == "WorkflowNotFoundError"
        assert ("differs in request_id: the same text but for invisible characters: the given value has U+200B "
                "(ZERO WIDTH SPACE) at index 3") in body["error"], body
        first = http.post(EVENTS, json={"event": "billing_received", "correlation": {"request_id": "r-1"},
                                        "payload": {"plan": "pro"}, "idempotency_key": "evt-1"})
        assert first.status_code == 200, first.text
        repeat = http.post(EVENTS, json={"event": "billing_received", "correlation": {"request_id": "r-1"},
                                         "payload": {"plan": "pro"}, "idempotency_key": "evt-1\ufeff"})
        assert repeat.status_code == 409, repeat.text
        body = repeat.json()
        assert body["type"] == "DuplicateSignalError"
        assert ("is not the recorded one: the same text but for invisible characters: the given value has U+FEFF "
                "(ZERO WIDTH NO-BREAK SPACE) at index 5") in body["error"], body


def test_a_correlation_of_only_invisible_characters_is_a_422_naming_the_code_points(live_app: Any) -> None:
    store = MemoryStore()
    server = live_app(ig.server.create_app(CONTRACTS, store=store))
    with httpx.Client(base_url=server.url) as http:
        started = http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "\u200b\ufeff"}})
        assert started.status_code == 422, started.text
        body = started.json()
        assert body["type"] == "InputError"
        assert ("Correlation key 'request_id' of Lead is blank: it holds only invisible characters (U+200B "
                "(ZERO WIDTH SPACE) at index 0, U+FEFF (ZERO WIDTH NO-BREAK SPACE) at index 1)") in body["error"], body
        delivered = http.post(EVENTS, json={"event": "billing_received", "correlation": {"request_id": "\u2060"},
                                            "payload": {"plan": "pro"}})
        assert delivered.status_code == 422, delivered.text
        assert "blank request_id: it holds only invisible characters (U+2060 (WORD JOINER) at index 0)" in (
            delivered.json()["error"])
    assert store.list() == []


def test_a_start_beside_a_lookalike_is_a_200_and_a_409_when_warnings_are_errors(live_app: Any) -> None:
    """The start answer carries no warning (docs/workflows.md says why); a server whose warning filter makes
    ``LookalikeCorrelationWarning`` an error refuses such a start with a 409 naming the active twin, not a 500."""
    store = MemoryStore()
    server = live_app(ig.server.create_app(CONTRACTS, store=store))
    with httpx.Client(base_url=server.url) as http:
        first = http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "r-1"}})
        assert first.status_code == 200, first.text
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ig.LookalikeCorrelationWarning)
            second = http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "r-1\u200b"}})
        assert second.status_code == 200, second.text
        assert second.json()["correlation"] == {"request_id": "r-1\u200b"}
        with warnings.catch_warnings():
            warnings.simplefilter("error", ig.LookalikeCorrelationWarning)
            third = http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "\ufeffr-1"}})
        assert third.status_code == 409, third.text
        body = third.json()
        assert body["type"] == "LookalikeCorrelationWarning"
        assert body["existing_execution_id"] == first.json()["execution_id"]
        assert body["differs_in"] == {"request_id": "the same text but for invisible characters: the given value has "
                                                    "U+FEFF (ZERO WIDTH NO-BREAK SPACE) at index 0"}
    assert len(store.list()) == 2
