"""A slow-loris body against a real uvicorn: a client that sends a request's headers and then its body a byte at a
time (each byte well within any per-read timeout), or part of it and then nothing, held the request — its
connection and task — for as long as it liked: the body limit counted bytes, and nothing bounded the time. The
body must now be complete within ``body_timeout`` seconds of the request reaching the app, else a JSON 408
``RequestTimeout`` that closes the connection; nothing is run or stored. A live stream, which keeps reading its
connection for a disconnect, is never cut by it."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import igniter_nb as ig
from tests.server.server_contracts import CONTRACTS

BODY = json.dumps({"inputs": {"total": 3}}).encode()


@pytest.fixture
def served(live_app: Any, tmp_path: Any) -> Iterator[tuple[Any, Any]]:
    store = ig.stores.SQLStore(f"sqlite:///{tmp_path / 'slow.db'}")
    server = live_app(ig.server.create_app(CONTRACTS, store=store, body_timeout=0.5))
    yield server, store
    server.stop()
    store.close()


@contextlib.contextmanager
def _connection(server: Any) -> Iterator[socket.socket]:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        yield sock
    finally:
        sock.close()


def _head(length: int | None) -> bytes:
    framing = b"transfer-encoding: chunked\r\n" if length is None else f"content-length: {length}\r\n".encode()
    return (b"POST /v1/contracts/price/execute HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
            + framing + b"\r\n")


def _answer(sock: socket.socket, trickle: bytes = b"", every: float = 0.1) -> tuple[int, dict[str, str], bytes]:
    """Send ``trickle`` a byte every ``every`` s until the server answers; the whole answer, read until the server
    closes the connection (a socket timeout, 10 s, fails the test: the server kept it open)."""
    sock.setblocking(False)
    data = b""
    deadline = time.monotonic() + 10
    sent = 0
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except BlockingIOError:
            chunk = None
        if chunk == b"":
            break
        if chunk:
            data += chunk
            continue
        if sent < len(trickle) and not data:
            with contextlib.suppress(OSError):
                sock.send(trickle[sent:sent + 1])
            sent += 1
        time.sleep(every)
    else:
        pytest.fail(f"the server held the connection open for 10 s; it answered {data[:300]!r}")
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def _timed_out(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    assert status == 408, (status, body)
    assert headers["content-type"] == "application/json" and headers.get("connection") == "close"
    error = json.loads(body)
    assert error["type"] == "RequestTimeout" and error["limit"] == 0.5
    assert "0.5" in error["error"] and "body_timeout" in error["error"]
    return dict(error)


def test_a_body_that_stops_arriving_gets_a_408_and_the_connection_closes(served: tuple[Any, Any]) -> None:
    server, store = served
    with _connection(server) as sock:
        sock.sendall(_head(len(BODY)) + BODY[:10])
        error = _timed_out(*_answer(sock))
    assert error["received"] == 10 and error["expected"] == len(BODY)
    assert store.list() == []


def test_a_body_trickled_a_byte_at_a_time_is_cut_at_the_deadline_not_per_byte(served: tuple[Any, Any]) -> None:
    server, store = served
    with _connection(server) as sock:
        sock.sendall(_head(len(BODY)))
        _timed_out(*_answer(sock, trickle=BODY, every=0.05))  # 20 bytes a second: the whole body would take ~1.2 s
    assert store.list() == []


def test_a_chunked_body_left_open_gets_a_408(served: tuple[Any, Any]) -> None:
    server, store = served
    with _connection(server) as sock:
        sock.sendall(_head(None) + f"{len(BODY):x}\r\n".encode() + BODY + b"\r\n")  # no last chunk
        error = _timed_out(*_answer(sock))
    assert error["received"] == len(BODY) and error["expected"] is None
    assert store.list() == []


def test_bodies_in_time_and_live_streams_are_not_cut(served: tuple[Any, Any]) -> None:
    server, store = served
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.post("/v1/contracts/price/execute", content=BODY).status_code == 200
        started = http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "slow-1"}}).json()
        with http.stream("GET", f"/v1/executions/{started['execution_id']}/events") as stream:
            lines = stream.iter_lines()
            assert next(lines).startswith("event: status")
            time.sleep(1.0)  # twice body_timeout: the stream's own reads of its connection are not bounded by it
            delivered = http.post("/v1/contracts/lead/events", json={
                "event": "crm_received", "correlation": {"request_id": "slow-1"}, "payload": {"name": "Acme"}})
            assert delivered.status_code == 200
            seen = []
            for line in lines:
                seen.append(line)
                if "external_event_received" in line:
                    break
    assert any("external_event_received" in line for line in seen)
    assert len(store.list()) == 2


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "30", True])
def test_body_timeout_must_be_a_number_of_seconds_above_0(bad: Any) -> None:
    with pytest.raises(ValueError, match="body_timeout"):
        ig.server.BodySizeLimit(None, 10, body_timeout=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="body_timeout"):
        ig.server.create_app(CONTRACTS, store=ig.stores.MemoryStore(), body_timeout=bad)
