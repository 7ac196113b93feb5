"""A captured GitHub delivery replayed with another ``X-GitHub-Delivery``: GitHub signs the body only, so the delivery
id is whatever the replayer writes. The github scheme's default key is the signed body's digest: the replay is the
same delivery (200, ``replayed``), never a signal under a key of the replayer's, and the sender's own delivery is
never refused as a duplicate of it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.applications import Starlette
from starlette.testclient import TestClient

from igniter_nb.integrations.webhooks import body_digest_key, endpoint, sign
from tests.integrations.int_contracts import OrderWorkflow

SECRET = "ghs_replay"


def _route(store: Any, **options: Any) -> Any:
    return endpoint(OrderWorkflow, event="goods_shipped", correlation_from=["repository.order_id"], secret=SECRET,
                    signature_scheme="github", store=store, path="/github", **options)


def _signals(store: Any, execution_id: str) -> list[dict[str, Any]]:
    return list(store.record(execution_id).snapshot["workflow"]["signals"])


def _delivery(order_id: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"action": "closed", "repository": {"order_id": order_id}, "carrier": "DHL"}).encode()
    return body, {"Content-Type": "application/json", **sign(body, SECRET, scheme="github")}


def test_a_replay_sent_before_the_senders_own_delivery_cannot_choose_its_key(store: Any) -> None:
    """A replayer who captured the request in flight and got there first had it applied under a key of its
    choosing, and GitHub's own delivery (and each redelivery) was then refused 409 as a duplicate."""
    wf = OrderWorkflow.start(order_id="gh-1", store=store)
    body, headers = _delivery("gh-1")
    with TestClient(Starlette(routes=[_route(store)])) as client:
        replayed = client.post("/github", content=body, headers={**headers, "X-GitHub-Delivery": "chosen-by-replayer"})
        own = client.post("/github", content=body, headers={**headers, "X-GitHub-Delivery": "d-1"})
        redelivered = client.post("/github", content=body, headers={**headers, "X-GitHub-Delivery": "d-1"})
    assert replayed.status_code == own.status_code == redelivered.status_code == 200, (replayed.text, own.text)
    assert [r.json()["replayed"] for r in (replayed, own, redelivered)] == [False, True, True]
    assert {r.json()["idempotency_key"] for r in (replayed, own, redelivered)} == {
        "sha256:" + hashlib.sha256(body).hexdigest()}
    assert [r.json()["delivery"] for r in (replayed, own)] == ["chosen-by-replayer", "d-1"]  # a label, as sent
    assert [s["idempotency_key"] for s in _signals(store, wf.execution_id)] == [body_digest_key(body)]


def test_a_replay_after_the_delivery_with_fresh_delivery_ids_is_answered_as_the_same_delivery(store: Any) -> None:
    """Each replay with a new id was a 409 duplicate: applied once, but a sender or monitor could not tell a replay
    from a second event. Now each is the same delivery, and the workflow holds one signal."""
    wf = OrderWorkflow.start(order_id="gh-2", store=store)
    body, headers = _delivery("gh-2")
    with TestClient(Starlette(routes=[_route(store)])) as client:
        answers = [client.post("/github", content=body, headers={**headers, "X-GitHub-Delivery": f"id-{n}"})
                   for n in range(4)]
        no_id = client.post("/github", content=body, headers=headers)
    assert [a.status_code for a in answers] + [no_id.status_code] == [200] * 5, [a.text for a in answers]
    assert [a.json()["replayed"] for a in answers] + [no_id.json()["replayed"]] == [False] + [True] * 4
    assert "delivery" not in no_id.json()
    assert len(_signals(store, wf.execution_id)) == 1


def test_another_body_is_another_delivery_and_a_signed_field_or_a_chosen_header_still_wins(store: Any) -> None:
    """The digest is only the default: ``idempotency_from`` (a signed field) and an ``idempotency_header`` the
    operator names are used as before."""
    first = OrderWorkflow.start(order_id="gh-3", store=store)
    body, headers = _delivery("gh-3")
    other = body.replace(b'"DHL"', b'"UPS"')
    by_field = OrderWorkflow.start(order_id="gh-4", store=store)
    field_body = json.dumps({"hook_id": "h-9", "repository": {"order_id": "gh-4"}, "carrier": "DHL"}).encode()
    by_header = OrderWorkflow.start(order_id="gh-5", store=store)
    header_body, header_headers = _delivery("gh-5")
    app = Starlette(routes=[_route(store), endpoint(
        OrderWorkflow, event="goods_shipped", correlation_from=["repository.order_id"], secret=SECRET,
        signature_scheme="github", store=store, path="/by-field", idempotency_from="hook_id"), endpoint(
        OrderWorkflow, event="goods_shipped", correlation_from=["repository.order_id"], secret=SECRET,
        signature_scheme="github", store=store, path="/by-header", idempotency_header="X-GitHub-Delivery")])
    with TestClient(app) as client:
        assert client.post("/github", content=body, headers=headers).status_code == 200
        changed = client.post("/github", content=other, headers=sign(other, SECRET, scheme="github"))
        field = client.post("/by-field", content=field_body, headers=sign(field_body, SECRET, scheme="github"))
        header = client.post("/by-header", content=header_body, headers={**header_headers, "X-GitHub-Delivery": "d-5"})
    assert changed.status_code == 409 and changed.json()["type"] == "DuplicateSignalError"  # a second event
    assert len(_signals(store, first.execution_id)) == 1
    assert field.json()["idempotency_key"] == "h-9" and header.json()["idempotency_key"] == "d-5"
    assert [s["idempotency_key"] for s in _signals(store, by_field.execution_id)] == ["h-9"]
    assert [s["idempotency_key"] for s in _signals(store, by_header.execution_id)] == ["d-5"]
