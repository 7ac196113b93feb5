"""One limit for an idempotency key wherever it enters: the HTTP events route took at most 200 characters while a
webhook and ``enqueue_deliver_event`` took 255, so a delivery retried through the route with the key a webhook had
used (201–255 characters) was refused with a 422. The route now takes the same
``igniter_nb.integrations.idempotency_keys.MAX_IDEMPOTENCY_KEY`` (255), and ``/openapi.json`` says so.

The engine takes any length: every store keeps the key inside the workflow's JSON snapshot (text), no column of
its own, and memory, file, SQLite, PostgreSQL and Redis stores hold a 1,000,000-character key alike."""

from __future__ import annotations

from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.integrations.idempotency_keys import MAX_IDEMPOTENCY_KEY
from tests.server.server_contracts import CONTRACTS

EVENTS = "/v1/contracts/lead/events"
BILLING = {"event": "billing_received", "correlation": {"request_id": "r-1"}, "payload": {"plan": "pro"}}


def _footprint(store: Any) -> list[tuple[str, int, str]]:
    return sorted((r.execution_id, r.version, r.status) for r in store.list())


@pytest.mark.parametrize("unit", ["k", "🔑", "<", "é"], ids=["ascii", "astral", "html", "accent"])
def test_a_key_of_the_longest_length_is_delivered_and_its_repeat_answered_unchanged(client: Any, store: Any,
                                                                                   unit: str) -> None:
    """Characters as Python counts them (code points), as the webhook counts them: 255 emoji are 255 characters,
    though 510 UTF-16 units and 1,020 UTF-8 bytes."""
    assert MAX_IDEMPOTENCY_KEY == 255
    key = "<b>" + unit * (MAX_IDEMPOTENCY_KEY - 3) if unit == "<" else unit * MAX_IDEMPOTENCY_KEY
    assert client.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "r-1"}}).status_code == 200
    first = client.post(EVENTS, json={**BILLING, "idempotency_key": key})
    assert first.status_code == 200, first.text
    after = _footprint(store)
    again = client.post(EVENTS, json={**BILLING, "idempotency_key": key})
    assert again.status_code == 200 and again.json() == first.json()
    assert _footprint(store) == after
    [signal] = store.record(first.json()["execution_id"]).snapshot["workflow"]["signals"]
    assert signal["idempotency_key"] == key


@pytest.mark.parametrize("unit", ["k", "🔑"], ids=["ascii", "astral"])
@pytest.mark.parametrize("route", [EVENTS, f"{EVENTS}/dry-run"])
def test_a_longer_key_is_422_naming_the_field_and_the_limit_and_stores_nothing(client: Any, store: Any,
                                                                             route: str, unit: str) -> None:
    assert client.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "r-1"}}).status_code == 200
    before = _footprint(store)
    answer = client.post(route, json={**BILLING, "idempotency_key": unit * (MAX_IDEMPOTENCY_KEY + 1)})
    assert answer.status_code == 422, answer.text
    assert "idempotency_key" in answer.text and str(MAX_IDEMPOTENCY_KEY) in answer.text
    assert _footprint(store) == before


def test_openapi_states_the_one_limit(store: Any) -> None:
    schema = ig.server.create_app(CONTRACTS, store=store).openapi()["components"]["schemas"]["EventRequest"]
    field = schema["properties"]["idempotency_key"]
    [text] = [option for option in field.get("anyOf", [field]) if option.get("type") == "string"]
    assert text["maxLength"] == MAX_IDEMPOTENCY_KEY and text["minLength"] == 1
