"""Slow-loris headers against the HTTP protocol `igniter-nb serve` gives uvicorn (``nodelay.NoDelayHTTPProtocol``):
uvicorn bounds no time before a request's headers are complete — a connection that sends nothing, or its headers a
byte at a time, or part of its next request after an answer, was held by the worker for ever (its keep-alive timer
runs only after an answer, and any byte cancels it). Now ``header_timeout`` seconds from the opening and from each
answer: past it the connection is closed, after a JSON 408 when part of a request came. A request being answered
(a live stream) is never cut. And httptools (uvicorn's parser when installed) buffers a header of any size: a
5 MB header, or 2,000 headers, were read whole and answered; past 64 KiB of line and headers the connection now
gets a JSON 431 and is closed. A real uvicorn on 127.0.0.1 with the protocol class (a short timeout)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

import igniter_nb as ig
from igniter_nb.server.nodelay import NoDelayHTTPProtocol
from tests.server.server_contracts import CONTRACTS


class ShortHeaderTimeout(NoDelayHTTPProtocol):
    header_timeout = 0.5


@pytest.fixture
def server(tmp_path: Any) -> Iterator[Any]:
    listener = socket.create_server(("127.0.0.1", 0))  # bound now, handed to uvicorn: no other process can take it
    port = int(listener.getsockname()[1])
    store = ig.stores.SQLStore(f"sqlite:///{tmp_path / 'headers.db'}")
    config = uvicorn.Config(ig.server.create_app(CONTRACTS, store=store), host="127.0.0.1", port=port,
                            log_level="warning", http=ShortHeaderTimeout, timeout_graceful_shutdown=2)
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, kwargs={"sockets": [listener]}, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not served.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    served.port, served.url = port, f"http://127.0.0.1:{port}"
    yield served
    served.should_exit = True
    thread.join(10)
    listener.close()
    store.close()


@contextlib.contextmanager
def _connection(port: int) -> Iterator[socket.socket]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        yield sock
    finally:
        sock.close()


def _until_closed(sock: socket.socket, trickle: bytes = b"", every: float = 0.05) -> bytes:
    """Send ``trickle`` a byte every ``every`` s; everything the server sent until it closed the connection (a
    server that keeps it open 10 s fails the test)."""
    sock.setblocking(False)
    data, sent = b"", 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except BlockingIOError:
            chunk = None
        except ConnectionResetError:
            return data
        if chunk == b"":
            return data
        if chunk:
            data += chunk
            continue
        if sent < len(trickle):
            with contextlib.suppress(OSError):
                sock.send(trickle[sent:sent + 1])
            sent += 1
        time.sleep(every)
    pytest.fail(f"the server held the connection open for 10 s; it sent {data[:300]!r}")


REQUEST = b"GET /v1/health HTTP/1.1\r\nhost: 127.0.0.1\r\nx-padding: " + b"p" * 40 + b"\r\n\r\n"


def _timed_out(answer: bytes) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), answer[:300]
    assert b"content-type: application/json" in head.lower() and b"connection: close" in head.lower()
    error = json.loads(body)
    assert error["type"] == "RequestTimeout" and error["limit"] == 0.5 and "header" in error["error"]


def test_a_connection_that_sends_nothing_is_closed(server: Any) -> None:
    with _connection(server.port) as sock:
        assert _until_closed(sock) == b""


def test_headers_trickled_a_byte_at_a_time_get_a_408_and_the_connection_closes(server: Any) -> None:
    with _connection(server.port) as sock:
        _timed_out(_until_closed(sock, trickle=REQUEST))  # 20 bytes a second: the headers would take ~3.5 s


def test_part_of_the_next_request_after_an_answer_gets_a_408(server: Any) -> None:
    with _connection(server.port) as sock:
        sock.sendall(REQUEST)
        first = b""
        while b'"status":"ok"' not in first:
            first += sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 ")
        sock.sendall(REQUEST[:20])  # and then nothing: uvicorn's keep-alive timer was cancelled by these bytes
        _timed_out(_until_closed(sock))


def test_requests_in_time_and_an_open_stream_are_not_cut(server: Any) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for _ in range(3):  # one keep-alive connection, requests 0.3 s apart: each within the timeout
            assert http.get("/v1/health").status_code == 200
            time.sleep(0.3)
        started = http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "h-1"}}).json()
        with http.stream("GET", f"/v1/executions/{started['execution_id']}/events") as stream:
            lines = stream.iter_lines()
            assert next(lines).startswith("event: status")
            time.sleep(1.0)  # twice the header timeout while the stream's answer is being written
            with httpx.Client(base_url=server.url, timeout=10) as other:
                assert other.post("/v1/contracts/lead/events", json={
                    "event": "crm_received", "correlation": {"request_id": "h-1"},
                    "payload": {"name": "Acme"}}).status_code == 200
            assert any("external_event_received" in line for line in lines)



def _head_with(headers: list[tuple[str, str]]) -> bytes:
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return f"GET /v1/health HTTP/1.1\r\nhost: 127.0.0.1\r\n{lines}\r\n".encode()


def _too_large(answer: bytes) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 "), answer[:300]
    assert b"content-type: application/json" in head.lower() and b"connection: close" in head.lower()
    error = json.loads(body)
    assert error["type"] == "HeadersTooLarge" and error["limit"] == 65536 and "65536 bytes" in error["error"]


@pytest.mark.parametrize("head", [
    _head_with([("x-big", "a" * 5_000_000)]),  # one header of 5 MB: httptools read it whole and answered 200
    _head_with([(f"x-flood-{i}", "v" * 100) for i in range(2000)]),  # a flood of 2,000 headers, 230 KB
], ids=["one huge header", "header flood"])
def test_headers_past_64_kib_get_a_431_and_the_connection_closes(server: Any, head: bytes) -> None:
    with _connection(server.port) as sock:
        with contextlib.suppress(OSError):  # the server may close before all of it is sent
            sock.sendall(head)
        _too_large(_until_closed(sock))
    with httpx.Client(base_url=server.url, timeout=10) as http:  # the server goes on answering
        assert http.get("/v1/health").status_code == 200


def test_headers_within_the_limit_and_a_large_body_after_them_are_read(server: Any) -> None:
    token_like = [("cookie", "c" * 30_000), ("x-jwt", "j" * 20_000)]  # 50 KB of headers: within 64 KiB
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.get("/v1/health", headers=token_like).status_code == 200
        big = json.dumps({"inputs": {"total": 1, "rate": 0.5}}).encode() + b" " * 500_000  # headers + 500 KB body
        answer = http.post("/v1/contracts/price/execute", content=big, headers={"content-type": "application/json"})
        assert answer.status_code == 200, answer.text[:300]
