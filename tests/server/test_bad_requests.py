"""Hand-written bad requests (BARS R3): each gets its documented 4xx with a JSON body naming the problem, never
a 500 — in-process here, and against a real uvicorn where the transport matters (chunked bodies, raw paths)."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import igniter_nb as ig
from tests.server.server_contracts import CONTRACTS

EXECUTE = "/v1/contracts/price/execute"
EVENTS = "/v1/contracts/lead/events"
JSON = {"content-type": "application/json"}


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert isinstance(body["error"], str) and body["error"] and isinstance(body["type"], str)
    return dict(body)


@pytest.mark.parametrize("raw", [b"{", b'{"inputs": }', b'{"inputs": {}} trailing', b"{'inputs': {}}", b"\x00"])
def test_invalid_json_is_400(client: Any, raw: bytes) -> None:
    body = _error(client.post(EXECUTE, content=raw, headers=JSON), 400)
    assert body["error"].startswith("Invalid JSON") and body["type"] == "BadRequest"


def test_non_utf8_body_is_400(client: Any) -> None:
    body = _error(client.post(EXECUTE, content=b'{"inputs": {"total": "\xff\xfe"}}', headers=JSON), 400)
    assert "not UTF-8" in body["error"]


@pytest.mark.parametrize(("path", "raw", "where"), [
    ("/v1/contracts/lead/execute", b'{"inputs": {"request_id": "r\\ud800"}}', "body.inputs.request_id"),
    (EXECUTE, b'{"inputs": {"total": 1, "\\uDC00x": 2}}', "body.inputs (a key)"),
    (EVENTS, b'{"event": "billing_received", "correlation": {"request_id": "s"}, "payload": ["ok", "\\udfff"]}',
     "body.payload[1]"),
])
def test_unpaired_surrogates_are_400_and_store_nothing(client: Any, store: Any, path: str, raw: bytes,
                                                        where: str) -> None:
    # an escaped lone surrogate is JSON syntax but not text: once stored it broke every answer that showed it
    client.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "s"}})
    before = [(r.execution_id, r.version) for r in store.list()]
    body = _error(client.post(path, content=raw, headers=JSON), 400)
    assert "unpaired UTF-16 surrogate" in body["error"] and where in body["error"], body
    assert [(r.execution_id, r.version) for r in store.list()] == before
    assert client.get("/v1/executions").status_code == 200


@pytest.mark.parametrize(("raw", "key", "where"), [
    (b'{"inputs": {"total": 1}, "inputs": {"total": 2}}', "inputs", "body"),
    (b'{"inputs": {"total": 1, "rate": 0.1, "total": 1000}}', "total", "body.inputs"),
    (b'{"inputs": {"total": 1, "x": [0, {"k": {"a": 1, "a": 2}}]}}', "a", "body.inputs.x[1].k"),
    (b'{"inputs": {"total": 1, "total": 2}, "x": }', "total", "one object"),  # read again: a syntax error after it
])
def test_a_key_repeated_in_one_object_is_400_and_runs_nothing(client: Any, store: Any, raw: bytes, key: str,
                                                              where: str) -> None:
    # json keeps the last value, a proxy or validator in front may have checked the first: refuse both readings
    body = _error(client.post(EXECUTE, content=raw, headers=JSON), 400)
    assert body["error"] == f"request body repeats the key {key!r} in {where}: each key may appear once", body
    assert store.list() == []


def test_escaped_surrogate_pairs_are_text(client: Any) -> None:
    response = client.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "\U0001f600"}})
    assert response.status_code == 200 and response.json()["correlation"] == {"request_id": "\U0001f600"}


def test_stored_text_with_an_unpaired_surrogate_is_answered_escaped_not_500(client: Any, store: Any) -> None:
    # Python code can store what no request can bring in; reading it back must still work
    lead = CONTRACTS["lead"].start({"request_id": "bad\ud800"}, store=store)
    for path in ("/v1/executions", f"/v1/executions/{lead.execution_id}",
                 f"/v1/executions/{lead.execution_id}/history"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        assert b"\\ud800" in response.content
    assert client.get(f"/v1/executions/{lead.execution_id}").json()["correlation"] == {"request_id": "bad\ud800"}
    near = client.post(EVENTS, json={"event": "crm_received", "correlation": {"request_id": "bad"},
                                     "payload": {"name": "A"}})
    assert near.status_code == 404 and near.json()["type"] == "WorkflowNotFoundError", near.text


@pytest.mark.parametrize("raw", [b'{"inputs": {"total": NaN}}', b'{"inputs": {"total": Infinity}}',
                                 b'{"inputs": {"total": -Infinity}}', b'{"inputs": {"total": 1e999}}',
                                 b'{"inputs": {"total": ' + b"9" * 5000 + b"}}"])
def test_numbers_json_cannot_hold_are_400(client: Any, raw: bytes) -> None:
    _error(client.post(EXECUTE, content=raw, headers=JSON), 400)


def test_big_but_valid_numbers_are_accepted(client: Any) -> None:
    response = client.post(EXECUTE, json={"inputs": {"total": 10**300}})
    assert response.status_code == 200 and response.json()["outputs"]["gross"] == pytest.approx(1.2e300)


@pytest.mark.parametrize("depth", [65, 100, 5000, 100_000])
def test_deep_nesting_is_400(client: Any, depth: int) -> None:
    raw = b'{"inputs": {"total": ' + b"[" * depth + b"]" * depth + b"}}"
    body = _error(client.post(EXECUTE, content=raw, headers=JSON), 400)
    assert "nests deeper than 64" in body["error"]


@pytest.mark.parametrize(("depth", "refused"), [(64, False), (65, True)])
def test_the_nesting_limit_counts_every_level_of_the_body(client: Any, depth: int, refused: bool) -> None:
    # the body itself and "inputs" are two levels: the limit is on the whole body, exactly at 64
    inner = depth - 2
    raw = b'{"inputs": {"total": ' + b"[" * inner + b"]" * inner + b"}}"
    response = client.post(EXECUTE, content=raw, headers=JSON)
    assert (response.status_code == 400 and "nests deeper than 64" in response.json()["error"]) is refused, \
        response.text


def test_brackets_inside_strings_are_not_nesting(client: Any) -> None:
    response = client.post("/v1/contracts/lead/execute",
                           json={"inputs": {"request_id": "[" * 100 + "{" * 100}})
    assert response.status_code == 200, response.text


def test_nesting_within_the_limit_is_fine(client: Any) -> None:
    client.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "deep"}})
    payload: Any = "leaf"
    for _ in range(55):
        payload = {"d": payload}
    response = client.post(EVENTS, json={"event": "billing_received", "correlation": {"request_id": "deep"},
                                         "payload": payload})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"inputs"', b"42", b"true"])
def test_a_body_that_is_not_an_object_is_422(client: Any, raw: bytes) -> None:
    body = _error(client.post(EXECUTE, content=raw, headers=JSON), 422)
    assert body["type"] == "RequestValidationError" and body["problems"][0]["loc"] == "body"


@pytest.mark.parametrize(("path", "payload", "where"), [
    (EXECUTE, {"inputs": [1]}, "body.inputs"),
    (EXECUTE, {"inputs": {}, "input": {"total": 1}}, "body.input"),
    (EVENTS, {"event": 7, "correlation": {"request_id": "x"}}, "body.event"),
    (EVENTS, {"event": "", "correlation": {"request_id": "x"}}, "body.event"),
    (EVENTS, {"event": "crm_received", "correlation": ["x"]}, "body.correlation"),
    (EVENTS, {"event": "crm_received"}, "body.correlation"),
    (EVENTS, {"event": "crm_received", "correlation": {"request_id": "x"}, "idempotency_key": "  "},
     "body.idempotency_key"),
    (EVENTS, {"event": "crm_received", "correlation": {"request_id": "x"}, "idempotency_key": 5},
     "body.idempotency_key"),
])
def test_wrong_shapes_and_types_are_422_naming_the_field(client: Any, path: str, payload: Any, where: str) -> None:
    body = _error(client.post(path, json=payload), 422)
    assert where in [p["loc"] for p in body["problems"]], body


def test_events_without_a_body_is_422(client: Any) -> None:
    body = _error(client.post(EVENTS), 422)
    assert body["problems"][0]["loc"] == "body"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_a_body_not_sent_as_json_is_400(client: Any, content_type: str) -> None:
    body = _error(client.post(EXECUTE, content=b'{"inputs": {"total": 1}}', headers={"content-type": content_type}),
                  400)
    assert "application/json" in body["error"]


def test_json_body_without_content_type_is_read_as_json(client: Any) -> None:
    request = client.build_request("POST", EXECUTE, content=b'{"inputs": {"total": 1}}')
    assert "content-type" not in request.headers
    assert client.send(request).json()["outputs"] == {"gross": 1.2}


@pytest.mark.parametrize("name", ["nope", "<script>alert(1)</script>", "Price", "ціна", "a b", "..", "%00"])
def test_unknown_contracts_are_404(client: Any, name: str) -> None:
    from urllib.parse import quote

    segment = quote(name, safe="")
    for method, path in (("GET", f"/v1/contracts/{segment}"), ("POST", f"/v1/contracts/{segment}/execute"),
                         ("POST", f"/v1/contracts/{segment}/events")):
        payload = {"event": "e", "correlation": {"k": "v"}} if path.endswith("events") else {"inputs": {}}
        body = _error(client.request(method, path, json=payload), 404)
        assert body["type"] in ("UnknownContractError", "NotFound"), body


@pytest.mark.parametrize("path", ["/v1/contracts/a/b", "/v1/contracts/a%2Fb/execute", "/v1/nothing", "/v2/health",
                                  "/v1/executions/a/b/c"])
def test_unknown_routes_are_404_json(client: Any, path: str) -> None:
    body = _error(client.get(path), 404)
    assert "no such route" in body["error"]


def test_wrong_method_is_405_json(client: Any) -> None:
    body = _error(client.delete("/v1/contracts/price"), 405)
    assert body["type"] == "MethodNotAllowed"


def test_unknown_execution_and_event(client: Any) -> None:
    _error(client.get("/v1/executions/0f2c0000-0000-0000-0000-000000000000"), 404)
    _error(client.get("/v1/executions/..%2F..%2Fetc%2Fpasswd"), 404)
    client.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "ev"}})
    body = _error(client.post(EVENTS, json={"event": "<b>nope</b>", "correlation": {"request_id": "ev"}}), 422)
    assert body["type"] == "AwaitedEventMismatchError" and body["event"] == "<b>nope</b>"


def test_bad_query_parameters_are_422(client: Any) -> None:
    for query in ("limit=abc", "limit=-1", "limit=100000", "offset=-5", "status=done", f"graph={'g' * 201}",
                  "format=png"):
        path = "/v1/contracts/price" if query.startswith("format") else "/v1/executions"
        body = _error(client.get(f"{path}?{query}"), 422)
        assert body["problems"][0]["loc"].startswith("query."), body
    _error(client.get("/v1/executions", params={"graph": "bad\x01graph"}), 422)


# ----------------------------------------------------------------------------------------------- body size


@pytest.fixture
def small_client(store: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(ig.server.create_app(CONTRACTS, store=store, max_body_bytes=100)) as test_client:
        yield test_client


def test_a_2mb_body_is_413_L41(client: Any) -> None:
    big = {"inputs": {"total": 1, "pad": "x" * 2_000_000}}
    body = _error(client.post(EXECUTE, json=big), 413)
    assert body == {"error": "request body is larger than the limit of 1000000 bytes", "type": "ContentTooLarge",
                    "limit": 1_000_000}


def test_body_at_the_limit_passes_and_one_byte_more_is_413(small_client: Any) -> None:
    payload = b'{"inputs": {"total": 1}}'
    exact = payload + b" " * (100 - len(payload))
    assert small_client.post(EXECUTE, content=exact, headers=JSON).status_code == 200
    _error(small_client.post(EXECUTE, content=exact + b" ", headers=JSON), 413)


def test_a_chunked_body_over_the_limit_is_413(small_client: Any) -> None:
    sent = []

    def chunks() -> Iterator[bytes]:
        yield b'{"inputs": {"total": 1, "pad": "'
        for _ in range(50):
            sent.append(1)
            yield b"x" * 40
        yield b'"}}'

    body = _error(small_client.post(EXECUTE, content=chunks(), headers=JSON), 413)
    assert body["limit"] == 100


def test_an_understated_content_length_does_not_pass_the_limit(store: Any) -> None:
    import anyio

    from igniter_nb.server.limits import BodySizeLimit

    app = ig.server.create_app(CONTRACTS, store=store, max_body_bytes=100)
    answers: list[dict[str, Any]] = []
    chunks = [b'{"inputs": {"total": 1, "pad": "', b"x" * 200, b'"}}']

    async def receive() -> dict[str, Any]:
        chunk = chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message: dict[str, Any]) -> None:
        answers.append(message)

    scope = {"type": "http", "method": "POST", "path": EXECUTE, "raw_path": EXECUTE.encode(), "query_string": b"",
             "headers": [(b"content-type", b"application/json"), (b"content-length", b"10")],
             "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
             "root_path": "", "app": app}
    assert BodySizeLimit in [m.cls for m in app.user_middleware]
    anyio.run(app, scope, receive, send)
    assert answers[0]["status"] == 413


# ----------------------------------------------------------------------------------------------- auth


@pytest.fixture
def token_client(store: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(ig.server.create_app(CONTRACTS, store=store, token="s3cret-ключ")) as test_client:
        yield test_client


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Bearer s3cret", "Basic czNjcmV0", "s3cret-ключ",
                                    "Bearer", "Bearer s3cret-ключ-and-more"])
def test_missing_or_wrong_token_is_401_on_every_route(token_client: Any, header: str | None) -> None:
    headers = {"Authorization": header.encode()} if header else {}
    for method, path in (("GET", "/v1/health"), ("GET", "/v1/contracts"), ("GET", "/v1/contracts/price"),
                         ("POST", EXECUTE), ("POST", EVENTS), ("GET", "/v1/executions"),
                         ("GET", "/v1/executions/x"), ("GET", "/v1/executions/x/history")):
        body = _error(token_client.request(method, path, headers=headers, json={"inputs": {"total": 1}}), 401)
        assert body["type"] == "Unauthorized"


def test_the_token_is_checked_before_the_body_is_read(token_client: Any) -> None:
    for raw in (b"{", b"\xff", b"[1]"):
        _error(token_client.post(EXECUTE, content=raw, headers=JSON), 401)
    _error(token_client.post(EXECUTE, content=b"x" * 2_000_000, headers={"Authorization": "Bearer nope"}), 413)


def test_right_token_is_accepted(token_client: Any) -> None:
    auth = {"Authorization": "Bearer s3cret-ключ".encode()}
    assert token_client.get("/v1/health", headers=auth).status_code == 200
    response = token_client.post(EXECUTE, headers=auth, json={"inputs": {"total": 1}})
    assert response.status_code == 200
    assert token_client.get("/openapi.json").status_code == 200  # the API description is public


def test_openapi_documents_the_bearer_scheme_only_with_a_token(app: Any, store: Any) -> None:
    assert "securitySchemes" not in app.openapi().get("components", {})
    secured = ig.server.create_app(CONTRACTS, store=store, token="t").openapi()
    assert secured["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "401" in secured["paths"]["/v1/health"]["get"]["responses"]


# ----------------------------------------------------------------------------------------------- real uvicorn


@pytest.fixture(scope="module")
def live(tmp_path_factory: Any) -> Iterator[Any]:
    from tests.server.conftest import TARGET
    from tests.server.server_process import ServerProcess

    db = tmp_path_factory.mktemp("bad") / "bad.db"
    with ServerProcess(TARGET, store=f"sqlite:///{db}", args=("--max-body-bytes", "1000")) as server:
        yield server


def _raw_exchange(url: str, request: bytes, *, then: bytes = b"", timeout: float = 5.0) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        if then:
            # the server may answer and close while we are still sending: what we want
            with contextlib.suppress(OSError):
                sock.sendall(then)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def test_live_chunked_body_over_the_limit_is_413_before_it_ends(live: Any) -> None:
    head = (f"POST {EXECUTE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    chunk = b"x" * 600
    # 1,200 bytes in two chunks and no terminating chunk: the answer comes while the body is still "open"
    answer = _raw_exchange(live.url, head, then=b"%x\r\n%s\r\n" % (len(chunk), chunk) * 2)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_live_chunked_body_from_httpx_generator_is_413(live: Any) -> None:
    def body() -> Iterator[bytes]:
        yield b'{"inputs": {"total": 1, "pad": "'
        for _ in range(30):
            yield b"y" * 100
        yield b'"}}'

    try:
        response = httpx.post(f"{live.url}{EXECUTE}", content=body(), headers=JSON, timeout=10)
    except httpx.HTTPError as exc:  # pragma: no cover - the server may close before httpx finishes sending
        pytest.fail(f"no answer to an oversized chunked body: {exc!r}")
    assert response.status_code == 413 and response.json()["type"] == "ContentTooLarge"


def test_live_declared_oversize_body_is_413_without_reading_it(live: Any) -> None:
    head = (f"POST {EXECUTE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Content-Length: 2000000\r\n\r\n").encode()
    answer = _raw_exchange(live.url, head)
    assert answer.startswith(b"HTTP/1.1 413")


def test_live_raw_paths_and_queries_L37(live: Any) -> None:
    for path, status in ((f"{EXECUTE}?a=1", 200), ("/v1/contracts/%D1%86%D1%96%D0%BD%D0%B0%20%D0%B7%D0%BD%D0%B8%D0%B6%D0%BA%D0%B0/execute", 200),
                         ("/v1/contracts/pr%69ce/execute", 200), ("/v1/contracts/a%2Fb/execute", 404),
                         ("/v1/contracts/%3Cscript%3E/execute", 404)):
        response = httpx.post(f"{live.url}{path}", json={"inputs": {"total": 5}}, timeout=10)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"] == "application/json"
    malformed = httpx.post(f"{live.url}{EXECUTE}", content=b"\xff{", headers=JSON, timeout=10)
    assert malformed.status_code == 400 and json.loads(malformed.text)["type"] == "BadRequest"
