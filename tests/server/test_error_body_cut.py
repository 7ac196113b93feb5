"""A server's error body sent ``err.context`` whole: a 5 MB correlation value a client sent (or one stored, named
as the nearest active correlation) came back whole in a 404's body. Each context value is now cut
(``routing.shown_value``): texts to their head and tail, lists and objects to their first items, the whole value
to ``routing.VALUE_SHOWN`` characters; the key names stay. Served by real uvicorn."""

from __future__ import annotations

from typing import Any

import httpx

import igniter_nb as ig
from igniter_nb.errors import CONTEXT_SHOWN
from igniter_nb.server.routing import ITEMS_SHOWN, VALUE_SHOWN, shown_value
from igniter_nb.stores import MemoryStore
from tests.server.server_contracts import CONTRACTS

BIG = "x" * 5_000_000
EVENT = {"event": "crm_received", "payload": {"name": "Ada"}}


def _server(live_app: Any) -> Any:
    return live_app(ig.server.create_app(CONTRACTS, store=MemoryStore(), max_body_bytes=12_000_000))


def test_a_5_mb_correlation_sent_comes_back_cut_in_the_404(live_app: Any) -> None:
    server = _server(live_app)
    answer = httpx.post(f"{server.url}/v1/contracts/lead/events", json={**EVENT, "correlation": {"request_id": BIG}},
                        timeout=60)
    assert answer.status_code == 404, answer.text[:500]
    assert len(answer.content) < 2_000, len(answer.content)
    body = answer.json()
    assert body["type"] == "WorkflowNotFoundError" and body["graph"] == "Lead"
    shown = body["correlation"]["request_id"]  # the key names stay; the value is its head and tail
    assert shown.startswith("xxxx") and shown.endswith("xxxx") and "5,000,000" not in shown
    assert "characters left out" in shown and len(shown) <= CONTEXT_SHOWN + 60


def test_a_5_mb_stored_correlation_named_as_the_nearest_comes_back_cut(live_app: Any) -> None:
    server = _server(live_app)
    started = httpx.post(f"{server.url}/v1/contracts/lead/execute", json={"inputs": {"request_id": BIG}}, timeout=60)
    assert started.status_code == 200
    answer = httpx.post(f"{server.url}/v1/contracts/lead/events", json={**EVENT, "correlation": {"request_id": "r"}},
                        timeout=60)
    assert answer.status_code == 404, answer.text[:500]
    assert len(answer.content) < 4_000, len(answer.content)
    assert answer.json()["correlation"] == {"request_id": "r"}  # short values stay whole


def test_shown_value_bounds_lists_objects_and_the_whole_value() -> None:
    assert shown_value({"a": [1, 2], "b": "short"}) == {"a": [1, 2], "b": "short"}
    many = shown_value(list(range(10_000)))
    assert many[:ITEMS_SHOWN] == list(range(ITEMS_SHOWN)) and many[-1] == "… 9,950 more items left out"
    keys = shown_value({f"k{i}": i for i in range(1_000)})
    assert len(keys) == ITEMS_SHOWN + 1 and keys["…"] == "950 more keys left out"
    wide = shown_value([["y" * 200] * ITEMS_SHOWN] * ITEMS_SHOWN)  # each text short, the whole value not
    assert isinstance(wide, str) and len(wide) <= VALUE_SHOWN + 60 and "characters left out" in wide
