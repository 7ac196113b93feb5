"""The stripe scheme keys a delivery by the signed body's ``id`` (Stripe's event id, ``evt_…``), not by the unsigned
``Idempotency-Key`` header, which was its default: Stripe signs only the body, so whoever replayed a signed body
chose the key — a second application of the same event under another key (or a 409 for the sender's own delivery),
or a key chosen to collide with another event's. A body without an ``id`` is a 400 saying so; a header is used only
when the endpoint names it. The github scheme has the same question (``X-GitHub-Delivery`` is unsigned) and already
keys by the body's digest: pinned here too."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from igniter_nb.integrations.webhooks import body_digest_key, endpoint, sign
from tests.integrations.int_contracts import OrderWorkflow

SECRET = "whsec_event_id"


def _route(store: Any, **options: Any) -> Any:
    return endpoint(OrderWorkflow, event="goods_shipped", correlation_from=["data.object.metadata.order_id"],
                    payload_from="data.object", secret=SECRET, store=store, path="/stripe", **options)


def _event(order_id: str, event_id: Any = "evt_1", **extra: Any) -> bytes:
    body: dict[str, Any] = {"object": "event", "type": "charge.succeeded",
                            "data": {"object": {"metadata": {"order_id": order_id}, "carrier": "DHL"}}, **extra}
    if event_id is not None:
        body["id"] = event_id
    return json.dumps(body).encode()


def _post(client: TestClient, body: bytes, key: str | None = None, secret: str = SECRET, **sign_options: Any) -> Any:
    headers = {"Content-Type": "application/json", **sign(body, secret, **sign_options)}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/stripe", content=body, headers=headers)


def _keys(store: Any, execution_id: str) -> list[Any]:
    return [s["idempotency_key"] for s in store.record(execution_id).snapshot["workflow"]["signals"]]


def test_a_delivery_is_keyed_by_the_signed_event_id_and_a_replay_cannot_choose_another_key(store: Any) -> None:
    wf = OrderWorkflow.start(order_id="s-1", store=store)
    body = _event("s-1", "evt_1")
    with TestClient(Starlette(routes=[_route(store)])) as client:
        first = _post(client, body)
        replayed = _post(client, body, key="attacker-chosen")  # the same signed body, a header of the replayer's
        retried = _post(client, body)  # Stripe's own retry (it sends no Idempotency-Key header)
    assert first.status_code == 200 and first.json()["idempotency_key"] == "evt_1"
    assert (replayed.status_code, replayed.json()["idempotency_key"], replayed.json()["replayed"]) == (200, "evt_1", True)
    assert (retried.status_code, retried.json()["replayed"]) == (200, True)
    assert _keys(store, wf.execution_id) == ["evt_1"]


def test_a_replay_first_cannot_take_the_event_under_a_key_colliding_with_another_event(store: Any) -> None:
    """The replayer gets there before the sender, naming another event's id as the key: the signal is still
    recorded under the body's own id, so the sender's delivery is the replay it is, not a 409."""
    wf = OrderWorkflow.start(order_id="s-2", store=store)
    body = _event("s-2", "evt_2")
    with TestClient(Starlette(routes=[_route(store)])) as client:
        sneaked = _post(client, body, key="evt_other")
        own = _post(client, body)
    assert sneaked.status_code == 200 and sneaked.json()["idempotency_key"] == "evt_2"
    assert (own.status_code, own.json()["replayed"]) == (200, True)
    assert _keys(store, wf.execution_id) == ["evt_2"]


@pytest.mark.parametrize(("event_id", "says"), [
    (None, "missing idempotency field 'id': the stripe scheme keys each delivery by its signed body's event id"),
    ({"evt": 1}, "idempotency key from field 'id' must be a non-blank string of at most 255 characters, got dict"),
    ("  ", "idempotency key from field 'id' must be a non-blank string of at most 255 characters, got a blank str"),
])
def test_a_body_without_a_usable_id_is_400_and_writes_nothing(store: Any, event_id: Any, says: str) -> None:
    wf = OrderWorkflow.start(order_id="s-3", store=store)
    before = store.record(wf.execution_id)
    with TestClient(Starlette(routes=[_route(store)])) as client:
        refused = _post(client, _event("s-3", event_id), key="k-1")  # (a header does not stand in for it)
    assert refused.status_code == 400 and refused.json()["field"] == "id"
    assert refused.json()["error"].startswith(says)
    after = store.record(wf.execution_id)
    assert (after.version, after.snapshot) == (before.version, before.snapshot)


def test_a_header_named_by_the_endpoint_is_the_key_as_asked(store: Any) -> None:
    wf = OrderWorkflow.start(order_id="s-4", store=store)
    with TestClient(Starlette(routes=[_route(store, idempotency_header="Idempotency-Key")])) as client:
        answer = _post(client, _event("s-4", event_id=None), key="k-4")
    assert answer.status_code == 200 and _keys(store, wf.execution_id) == ["k-4"]


def test_idempotency_from_none_delivers_without_a_key(store: Any) -> None:
    wf = OrderWorkflow.start(order_id="s-5", store=store)
    with TestClient(Starlette(routes=[_route(store, idempotency_from=None)])) as client:
        answer = _post(client, _event("s-5", event_id=None), key="ignored")
    assert answer.status_code == 200 and _keys(store, wf.execution_id) == [None]


def test_the_github_scheme_keys_by_the_body_digest_whatever_headers_say(store: Any) -> None:
    wf = OrderWorkflow.start(order_id="g-1", store=store)
    route = endpoint(OrderWorkflow, event="goods_shipped", correlation_from=["repository.order_id"], secret=SECRET,
                     signature_scheme="github", store=store, path="/github")
    body = json.dumps({"id": 7, "repository": {"order_id": "g-1"}}).encode()
    headers = {"Content-Type": "application/json", **sign(body, SECRET, scheme="github"),
               "X-GitHub-Delivery": "d-1", "Idempotency-Key": "k-1"}
    with TestClient(Starlette(routes=[route])) as client:
        answer = client.post("/github", content=body, headers=headers)
    assert answer.status_code == 200 and _keys(store, wf.execution_id) == [body_digest_key(body)]
