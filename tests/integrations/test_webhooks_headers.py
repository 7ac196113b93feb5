"""Hostile headers and shapes at the webhook endpoint: a signature or idempotency header sent twice, a body sent as
a form or as text, a ``correlation_from`` callable handed a body of the wrong shape. Each is a 4xx naming what
was wrong, and nothing is written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from igniter_nb.integrations.webhooks import sign
from tests.integrations.int_contracts import OrderWorkflow
from tests.integrations.test_webhooks import SECRET, body_for, payment_route

PATH = "/webhooks/payment_received"


def _signals(store: Any, execution_id: str) -> list[dict[str, Any]]:
    return list(store.record(execution_id).snapshot["workflow"]["signals"])


@pytest.mark.parametrize("good_first", [True, False])
@pytest.mark.parametrize("scheme", ["stripe", "github"])
def test_a_signature_header_sent_twice_is_401_whichever_comes_first(store: Any, good_first: bool, scheme: str) -> None:
    """Which of two values counts is not defined (a proxy or a log in front may have checked the other one), so a
    request carrying a valid signature beside a forged one was delivered when the valid one came first."""
    wf = OrderWorkflow.start(order_id="d-1", store=store)
    body = body_for("d-1")
    ((name, good),) = sign(body, SECRET, scheme=scheme).items()
    ((_, forged),) = sign(body, "not-the-secret", scheme=scheme).items()
    pair = [(name, good), (name.lower(), forged)] if good_first else [(name, forged), (name.upper(), good)]
    route = payment_route(store, signature_scheme=scheme)
    with TestClient(Starlette(routes=[route])) as client:
        response = client.post(PATH, content=body, headers=[("Content-Type", "application/json"), *pair])
    assert response.status_code == 401, response.text
    assert response.json() == {"error": f"invalid webhook signature: malformed signature header: the header {name} "
                                        "is given 2 times: send it once", "header": name}
    assert _signals(store, wf.execution_id) == []


@pytest.mark.parametrize("scheme, header", [("stripe", "Idempotency-Key"), ("github", "X-GitHub-Delivery")])
def test_an_idempotency_header_sent_twice_is_400_naming_it(store: Any, scheme: str, header: str) -> None:
    """The first value was taken silently; a replay carrying the other one first was a second delivery's key."""
    wf = OrderWorkflow.start(order_id="d-2", store=store)
    body = body_for("d-2")
    sent = [("Content-Type", "application/json"), *sign(body, SECRET, scheme=scheme).items(), (header, "evt-1"),
            (header.lower(), "evt-2")]
    with TestClient(Starlette(routes=[payment_route(store, signature_scheme=scheme)])) as client:
        response = client.post(PATH, content=body, headers=sent)
        once = client.post(PATH, content=body, headers=sent[:-1])
    assert response.status_code == 400, response.text
    assert response.json() == {"error": f"the header {header} is given 2 times: send it once", "header": header}
    said = "delivery" if scheme == "github" else "idempotency_key"  # (github: a label; the key is the body's digest)
    assert once.status_code == 200 and once.json()[said] == "evt-1", once.text
    assert len(_signals(store, wf.execution_id)) == 1


@pytest.mark.parametrize(("content_type", "hint"), [
    ("text/plain", False), ("application/x-www-form-urlencoded", True), ("multipart/form-data; boundary=x", True),
    ("application/xml", False), ("", False),
])
def test_a_body_sent_with_a_non_json_content_type_is_400_naming_it(store: Any, content_type: str, hint: bool) -> None:
    """The server refuses these; the webhook read any body as JSON, and a GitHub webhook set to send a form got
    "Expecting value: line 1 column 1" for its ``payload=...`` body."""
    wf = OrderWorkflow.start(order_id="d-3", store=store)
    body = body_for("d-3")
    with TestClient(Starlette(routes=[payment_route(store)])) as client:
        response = client.post(PATH, content=body, headers={"Content-Type": content_type, **sign(body, SECRET)})
        unsigned = client.post(PATH, content=body, headers={"Content-Type": content_type})
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["error"].startswith(f"send the body as JSON (Content-Type: application/json), not {content_type!r}")
    assert answer["content_type"] == content_type
    assert ("on GitHub" in answer["error"]) is hint
    assert unsigned.status_code == 401  # the signature is checked first, as for every refusal
    assert _signals(store, wf.execution_id) == []


@pytest.mark.parametrize("content_type", [None, "application/json", "application/json; charset=utf-8",
                                          "Application/JSON", "application/vnd.github+json"])
def test_json_content_types_and_none_are_still_read(store: Any, content_type: str | None) -> None:
    wf = OrderWorkflow.start(order_id="d-4", store=store)
    body = body_for("d-4")
    headers = {**sign(body, SECRET), **({"Content-Type": content_type} if content_type is not None else {})}
    with TestClient(Starlette(routes=[payment_route(store)])) as client:
        response = client.post(PATH, content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert len(_signals(store, wf.execution_id)) == 1


@pytest.mark.parametrize("picked", [[{"order_id": "d-5"}], "d-5", 5, None])
def test_a_correlation_callable_returning_no_mapping_is_400_not_500(store: Any, picked: Any) -> None:
    """``correlation_from=lambda body: body["meta"]`` returns what the sender put there: a list was a 500."""
    wf = OrderWorkflow.start(order_id="d-5", store=store)
    route = payment_route(store, correlation_from=lambda body: body["meta"])
    body = json.dumps({"meta": picked, "data": {"payment": {"amount": 1, "currency": "EUR"}}}).encode()
    good = json.dumps({"meta": {"order_id": "d-5"}, "data": {"payment": {"amount": 1, "currency": "EUR"}}}).encode()
    with TestClient(Starlette(routes=[route]), raise_server_exceptions=False) as client:
        response = client.post(PATH, content=body, headers={"Content-Type": "application/json", **sign(body, SECRET)})
        delivered = client.post(PATH, content=good, headers={"Content-Type": "application/json", **sign(good, SECRET)})
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "could not read the correlation from the body: correlation_from returned "
                                        f"{type(picked).__name__}, not a mapping {{key: value}}"}
    assert delivered.status_code == 200, delivered.text
    assert len(_signals(store, wf.execution_id)) == 1


def test_an_unreachable_queue_is_503_naming_the_queue_not_the_store() -> None:
    """In queued mode the store is not touched: "the workflow store is busy or unreachable" sent the operator to
    look at the wrong server."""
    from igniter_nb.integrations.rq import make_queue
    from tests.services import dead_port

    body = body_for("d-6")
    with dead_port() as port:
        queue = make_queue("hooks-dead", connection=f"redis://127.0.0.1:{port}/0")
        with TestClient(Starlette(routes=[payment_route(None, queue=queue)])) as client:
            response = client.post(PATH, content=body,
                                   headers={"Content-Type": "application/json", **sign(body, SECRET)})
    assert response.status_code == 503 and response.headers["retry-after"] == "1", response.text
    assert response.json() == {"error": "the job queue 'hooks-dead' (Redis) is busy or unreachable, try again "
                                        "(ConnectionError)", "type": "ConnectionError"}


@pytest.mark.parametrize("key", ["clé-1", "注文-7", "evt-ascii"])
def test_an_idempotency_header_is_read_as_utf_8_and_stored_as_sent(store: Any, key: str) -> None:
    """Starlette decodes header values as latin-1: "clé-1" sent as UTF-8 bytes was stored as "clÃ©-1", a key the
    sender never sent (and which a repeat through the Python API with the real key did not match)."""
    wf = OrderWorkflow.start(order_id="u-1", store=store)
    body = body_for("u-1")
    sent = [("Content-Type", "application/json"), *sign(body, SECRET).items(),
            ("Idempotency-Key", key.encode("utf-8"))]
    with TestClient(Starlette(routes=[payment_route(store)])) as client:
        first = client.post(PATH, content=body, headers=sent)
        again = client.post(PATH, content=body, headers=sent)
    assert first.status_code == 200 and first.json()["idempotency_key"] == key, first.text
    assert again.status_code == 200 and again.json()["replayed"] is True, again.text
    assert [s["idempotency_key"] for s in _signals(store, wf.execution_id)] == [key]


def _post_raw(app: Any, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, Any]:
    """POST ``body`` to ``app`` with ``headers`` as bytes, exactly (Starlette's TestClient re-encodes header values
    as UTF-8 text, so it cannot send a value that is not UTF-8); the answer's status and JSON."""
    import asyncio

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": PATH, "raw_path": PATH.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"content-length", str(len(body)).encode()), *headers],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    sent: list[dict[str, Any]] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))


def test_an_idempotency_header_that_is_not_utf_8_is_400_naming_it_and_nothing_is_written(store: Any) -> None:
    wf = OrderWorkflow.start(order_id="u-2", store=store)
    body = body_for("u-2")
    signed = [(name.lower().encode(), value.encode()) for name, value in sign(body, SECRET).items()]
    sent = [(b"content-type", b"application/json"), *signed, (b"idempotency-key", "clé-1".encode("latin-1"))]
    status, answer = _post_raw(Starlette(routes=[payment_route(store)]), sent, body)
    assert status == 400, answer
    assert answer == {"error": "the header Idempotency-Key is not UTF-8 text (byte 2 is invalid): send the key as "
                               "UTF-8", "header": "Idempotency-Key", "byte": 2}
    assert _signals(store, wf.execution_id) == []
    utf8 = [*sent[:-1], (b"idempotency-key", "clé-1".encode())]  # the same request, its key as UTF-8: delivered
    assert _post_raw(Starlette(routes=[payment_route(store)]), utf8, body)[0] == 200
    assert [s["idempotency_key"] for s in _signals(store, wf.execution_id)] == ["clé-1"]
