"""Requests that are not HTTP, or not valid HTTP/1.1, under a real uvicorn: uvicorn's parser (httptools or h11)
refuses them with its own plain-text 400 before the app runs — the one non-JSON answer (docs/server.md, Errors)
— closes that connection, stores nothing, and the server answers the next request as usual."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.server.server_contracts import CONTRACTS

EXECUTE = b"POST /v1/contracts/price/execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"

CASES = {
    "tls hello on the plain port": b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
    "bad request line": b"GET /v1/health HTTP/9.9 extra\r\nHost: x\r\n\r\n",
    "space in a header name": b"GET /v1/health HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
    "content-length not a number": EXECUTE + b"Content-Length: abc\r\n\r\n{}",
    "bad chunk size": EXECUTE + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    "content-length and chunked": EXECUTE + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
}


def _exchange(port: int, data: bytes) -> bytes:
    """Send ``data`` on a new connection and read until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(data)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


@pytest.fixture(scope="module")
def served() -> Any:
    from tests.server.live_server import LiveServer

    store = MemoryStore()
    with LiveServer(ig.server.create_app(CONTRACTS, store=store)) as server:
        yield server, store


@pytest.mark.parametrize("raw", list(CASES.values()), ids=list(CASES))
def test_malformed_http_gets_uvicorns_plain_400_and_the_server_stays_up(served: Any, raw: bytes) -> None:
    server, store = served
    before = [(r.execution_id, r.version) for r in store.list()]
    answer = _exchange(server.port, raw)  # returns: uvicorn closes the connection after its 400
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 400 Bad Request", answer[:200]
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:])}
    assert headers[b"content-type"] == b"text/plain; charset=utf-8" and headers[b"connection"] == b"close"
    assert body == b"Invalid HTTP request received."
    assert [(r.execution_id, r.version) for r in store.list()] == before
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.get("/v1/health").json()["status"] == "ok"
        ran = http.post("/v1/contracts/price/execute", json={"inputs": {"total": 10}})
        assert ran.status_code == 200 and ran.json()["outputs"]["gross"] == 12.0
