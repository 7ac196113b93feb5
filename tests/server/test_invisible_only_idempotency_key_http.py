"""Over HTTP an idempotency key of invisible characters only passed the route's ``\\S`` pattern (U+200B is not
whitespace to a regex either) and was recorded; the engine now refuses it as blank: the events route answers the
documented 422 naming the code points, the dry-run route its report with ``ok: false`` and that error (as it reports
every refusal of the engine's checks); neither stores anything."""

from __future__ import annotations

from typing import Any

EVENTS = "/v1/contracts/lead/events"
BILLING = {"event": "billing_received", "correlation": {"request_id": "r-1"}, "payload": {"plan": "pro"}}


def _footprint(store: Any) -> list[tuple[str, int, str]]:
    return sorted((r.execution_id, r.version, r.status) for r in store.list())


NAMED = ("it holds only invisible characters (U+FEFF (ZERO WIDTH NO-BREAK SPACE) at index 0, U+200B (ZERO WIDTH "
         "SPACE) at index 1)")


def test_a_key_of_only_invisible_characters_is_422_naming_them(client: Any, store: Any) -> None:
    assert client.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "r-1"}}).status_code == 200
    before = _footprint(store)
    answer = client.post(EVENTS, json={**BILLING, "idempotency_key": "\ufeff\u200b"})
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["type"] == "WorkflowArgumentError", body
    assert NAMED in body["error"], body
    assert _footprint(store) == before


def test_the_dry_run_reports_it_as_not_ok(client: Any, store: Any) -> None:
    assert client.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "r-1"}}).status_code == 200
    before = _footprint(store)
    answer = client.post(f"{EVENTS}/dry-run", json={**BILLING, "idempotency_key": "\ufeff\u200b"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ok"] is False
    [error] = body["errors"]
    assert error["type"] == "WorkflowArgumentError" and NAMED in error["message"], body
    assert _footprint(store) == before
