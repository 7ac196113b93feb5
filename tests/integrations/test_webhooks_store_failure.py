"""A store that fails a delivery for its own reasons (a read-only store refusing the write, a damaged file, a
folder it cannot move): the events route answers the documented 503 ``StoreUnavailable`` with ``Retry-After`` since
2026-12-05, but the webhook endpoint still raised it as a fault of the service, a bare 500. It is now the same
503, the store's message (its paths) in the log only. Real files, a read-only ``FileStore``."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

import igniter_nb as ig
from igniter_nb.integrations.webhooks import endpoint
from tests.integrations.test_webhooks_too_late import Parcel


def test_a_read_only_store_refusing_a_delivery_is_a_503_on_the_webhook_as_on_the_events_route(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "files"
    Parcel.start(order_id="o-1", store=ig.stores.FileStore(root, fsync=False))
    store = ig.stores.FileStore(root, read_only=True)
    hooks = Starlette(routes=[endpoint(Parcel, event="paid", correlation_from=["order_id"], payload_from="v",
                                       store=store, path="/paid", idempotency_header="Idempotency-Key")])
    api = ig.server.create_app({"parcel": Parcel}, store=store)
    with caplog.at_level(logging.ERROR), TestClient(hooks, raise_server_exceptions=False) as hook_client, \
            TestClient(api) as api_client:
        hook = hook_client.post("/paid", json={"order_id": "o-1", "v": 1}, headers={"Idempotency-Key": "k-1"})
        route = api_client.post("/v1/contracts/parcel/events", json={
            "event": "paid", "correlation": {"order_id": "o-1"}, "payload": 1, "idempotency_key": "k-1"})
    assert route.status_code == 503, route.text
    assert hook.status_code == 503, hook.text
    assert hook.json()["type"] == "StoreUnavailable" and hook.headers["retry-after"] == "1"
    assert str(tmp_path) not in hook.text
    assert str(root) in caplog.text and "read-only" in caplog.text  # the operator sees what and where
