"""Deliveries that come too late — the workflow with that correlation finished (cancelled, timed out, failed) before
its event arrived — answered alike by the webhook endpoint and the JSON events route: 404 when the finished workflow
never had that event (the webhook now says which workflow and that it finished, instead of only "no active
workflow"), 409 when it had it under another key, 200 ``replayed`` for the same key."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

import igniter_nb as ig
from igniter_nb.integrations.webhooks import endpoint
from igniter_nb.stores import MemoryStore


class Parcel(ig.Contract):
    def define(c):
        c.correlate_by("order_id")
        c.input("order_id", type=str)
        c.await_event("paid", event="paid", timeout=3600)
        c.await_event("shipped", event="shipped")

        @c.compute
        def label(paid, shipped):
            if shipped == "lost":
                raise ValueError("parcel lost")
            return f"{paid}/{shipped}"

        c.output("label")


@pytest.fixture
def stored() -> Any:
    store = MemoryStore()
    now = dt.datetime.now(dt.UTC)
    Parcel.start(order_id="cancelled", store=store, now=now)
    Parcel.cancel(correlation={"order_id": "cancelled"}, store=store)
    Parcel.start(order_id="timed-out", store=store, now=now - dt.timedelta(hours=2))
    assert len(Parcel.expire_due(store, now=now)) == 1
    Parcel.start(order_id="failed", store=store, now=now)
    Parcel.deliver_event("shipped", correlation={"order_id": "failed"}, payload="lost", store=store,
                         idempotency_key="s-1")
    Parcel.deliver_event("paid", correlation={"order_id": "failed"}, payload=1, store=store, idempotency_key="p-1")
    Parcel.start(order_id="done", store=store, now=now)
    for event, key in (("paid", "p-2"), ("shipped", "s-2")):
        Parcel.deliver_event(event, correlation={"order_id": "done"}, payload=key, store=store, idempotency_key=key)
    return store


def _both(store: Any, order_id: str, key: str, payload: Any = "late") -> tuple[Any, Any]:
    hooks = Starlette(routes=[endpoint(Parcel, event="paid", correlation_from=["order_id"], payload_from="v",
                                       store=store, path="/paid", idempotency_header="Idempotency-Key")])
    api = ig.server.create_app({"parcel": Parcel}, store=store)
    with TestClient(hooks) as hook_client, TestClient(api) as api_client:
        hook = hook_client.post("/paid", json={"order_id": order_id, "v": payload}, headers={"Idempotency-Key": key})
        route = api_client.post("/v1/contracts/parcel/events", json={
            "event": "paid", "correlation": {"order_id": order_id}, "payload": payload, "idempotency_key": key})
    return hook, route


@pytest.mark.parametrize("order_id", ["cancelled", "timed-out"])
def test_an_event_for_a_workflow_that_finished_without_it_is_404_on_both_routes_naming_it(stored: Any,
                                                                                          order_id: str) -> None:
    (latest,) = [r for r in stored.list() if r.correlation == {"order_id": order_id}]
    hook, route = _both(stored, order_id, "late-1")
    assert hook.status_code == route.status_code == 404, (hook.text, route.text)
    assert hook.json()["type"] == route.json()["type"] == "WorkflowNotFoundError"
    status = order_id.replace("-", "_")
    assert f"(the latest one, {latest.execution_id}, is {status})" in route.json()["error"]
    assert hook.json() == {
        "type": "WorkflowNotFoundError", "graph": "Parcel", "event": "paid", "correlation": {"order_id": order_id},
        "execution_id": latest.execution_id, "workflow_status": status,
        "error": f"no active Parcel workflow has this correlation: the latest one, {latest.execution_id}, is "
                 f"{status} and takes no more events (the event came too late)"}
    assert stored.record(latest.execution_id).snapshot["workflow"]["signals"] == []


def test_a_correlation_no_workflow_ever_had_is_a_plain_404_on_both_routes(stored: Any) -> None:
    hook, route = _both(stored, "never", "k-1")
    assert hook.status_code == route.status_code == 404
    assert hook.json()["error"] == "no active Parcel workflow has this correlation"
    assert "workflow_status" not in hook.json()


@pytest.mark.parametrize("order_id", ["done", "failed"])
def test_an_event_a_finished_workflow_already_had_is_409_with_another_key_and_200_with_its_own(
        stored: Any, order_id: str) -> None:
    own_key = "p-2" if order_id == "done" else "p-1"
    own_payload = "p-2" if order_id == "done" else 1
    hook, route = _both(stored, order_id, "another-key", own_payload)
    assert hook.status_code == route.status_code == 409, (hook.text, route.text)
    assert hook.json()["type"] == route.json()["type"] == "DuplicateSignalError"
    hook, route = _both(stored, order_id, own_key, own_payload)
    assert hook.status_code == route.status_code == 200, (hook.text, route.text)
    assert hook.json()["replayed"] is True
