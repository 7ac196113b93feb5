"""A request body sent with a ``Content-Encoding`` was read as if it had none: a gzip-compressed JSON body got
``request body is not UTF-8 text (byte 1 is invalid)`` (true of the compressed bytes, and no help), and a plain
JSON body labelled ``Content-Encoding: br`` ran the contract — a proxy or a logger in front that decodes what the
label says saw another body than the one that ran. Now any coding but ``identity`` is a 415 naming it, with
``Accept-Encoding: identity`` — what the webhook endpoint answers; nothing runs or is stored. A ``Content-Type``
given twice is a 400: which of the two a proxy in front read is not known. A real uvicorn on 127.0.0.1,
an SQLite store."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import pytest

import igniter_nb as ig
from tests.server.server_contracts import CONTRACTS

BODY = json.dumps({"inputs": {"total": 10}}).encode()
EVENT = json.dumps({"event": "crm_received", "correlation": {"request_id": "r-1"}, "payload": {"name": "A"}}).encode()


@pytest.fixture
def served(live_app: Any, tmp_path: Any) -> Any:
    store = ig.stores.SQLStore(f"sqlite:///{tmp_path / 'coding.db'}")
    server = live_app(ig.server.create_app(CONTRACTS, store=store))
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http, store
    server.stop()
    store.close()


def _refused(response: httpx.Response, *words: str, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text[:300])
    body: dict[str, Any] = response.json()
    assert body["type"] == {400: "BadRequest", 415: "UnsupportedMediaType"}[status]
    for word in words:
        assert word in body["error"], body["error"]
    return body


@pytest.mark.parametrize(("coding", "content"), [
    ("gzip", gzip.compress(BODY)),
    ("GZIP", gzip.compress(BODY)),
    ("br", BODY),  # labelled compressed, sent plain: it ran
    ("deflate", BODY),
    ("gzip, identity", gzip.compress(BODY)),
], ids=["gzip", "GZIP", "br-plain", "deflate-plain", "gzip-identity"])
def test_a_coded_body_is_a_400_naming_the_coding_and_nothing_runs(served: Any, coding: str, content: bytes) -> None:
    http, store = served
    response = http.post("/v1/contracts/price/execute", content=content,
                         headers={"Content-Type": "application/json", "Content-Encoding": coding})
    body = _refused(response, "Content-Encoding", repr(coding), "uncompressed", status=415)
    assert body["content_encoding"] == coding
    assert response.headers["accept-encoding"] == "identity"
    assert store.list() == []


def test_the_events_route_refuses_it_too_and_the_workflow_is_untouched(served: Any) -> None:
    http, store = served
    run = http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "r-1"}}).json()
    before = store.record(run["execution_id"]).version
    _refused(http.post("/v1/contracts/lead/events", content=gzip.compress(EVENT),
                       headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}), "gzip", status=415)
    assert store.record(run["execution_id"]).version == before


@pytest.mark.parametrize("coding", ["identity", "Identity", "identity, identity"])
def test_identity_is_no_coding_and_is_taken(served: Any, coding: str) -> None:
    http, _ = served
    response = http.post("/v1/contracts/price/execute", content=BODY,
                         headers={"Content-Type": "application/json", "Content-Encoding": coding})
    assert response.status_code == 200, response.text[:300]
    assert response.json()["outputs"] == {"gross": 12.0}


@pytest.mark.parametrize("values", [["text/plain", "application/json"], ["application/json", "application/json"]])
def test_a_content_type_given_twice_is_a_400_naming_it(served: Any, values: list[str]) -> None:
    http, store = served
    response = http.post("/v1/contracts/price/execute", content=BODY, headers=[("Content-Type", v) for v in values])
    body = _refused(response, "'Content-Type'", "more than once")
    assert body["header"] == "Content-Type" and body["values"] == values
    assert store.list() == []


def test_content_encodings_sent_apart_count_together(served: Any) -> None:
    http, store = served
    response = http.post("/v1/contracts/price/execute", content=BODY,
                         headers=[("Content-Type", "application/json"), ("Content-Encoding", "identity"),
                                  ("Content-Encoding", "gzip")])
    assert _refused(response, "'identity, gzip'", status=415)["content_encoding"] == "identity, gzip"
    assert store.list() == []


def test_a_get_route_ignores_a_content_encoding(served: Any) -> None:
    http, _ = served
    assert http.get("/v1/health", headers={"Content-Encoding": "gzip"}).status_code == 200


@pytest.mark.parametrize("charset", ["latin-1", "ISO-8859-1", "utf-16", "windows-1252"])
def test_a_body_declared_in_another_charset_is_a_400_naming_it(served: Any, charset: str) -> None:
    """JSON is UTF-8 (RFC 8259): a body declared ``charset=latin-1`` was read as UTF-8 all the same, so latin-1 text
    that happens to be valid UTF-8 (``Ã©``, the bytes C3 A9) was stored as another text (``é``), silently."""
    http, store = served
    body = json.dumps({"inputs": {"request_id": "cafÃ©"}}, ensure_ascii=False).encode("latin-1")
    response = http.post("/v1/contracts/lead/execute", content=body,
                         headers={"Content-Type": f"application/json; charset={charset}"})
    refused = _refused(response, f"charset={charset}", "UTF-8")
    assert refused["charset"] == charset
    assert store.list() == []


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/json; charset=UTF8",
                                          'application/json; charset="utf-8"', "application/json;charset=utf-8"])
def test_utf8_may_be_declared(served: Any, content_type: str) -> None:
    http, _ = served
    response = http.post("/v1/contracts/price/execute", content=BODY, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text[:300]


def test_openapi_lists_the_415_on_every_route_that_takes_a_body(served: Any) -> None:
    http, _ = served
    paths = http.get("/openapi.json").json()["paths"]
    posts = {path: ops["post"] for path, ops in paths.items() if "post" in ops}
    assert len(posts) == 5  # execute, events, dry-run, resume, remote-callback
    for path, operation in posts.items():
        assert "415" in operation["responses"], path
    assert all("415" not in ops["get"]["responses"] for ops in paths.values() if "get" in ops)
