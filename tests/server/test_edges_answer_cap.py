"""The Client read any answer to its end (``max_answer_bytes`` defaulted to None): a server, proxy or peer answering
without end grew the calling process's memory until it died. It now stops at 64 MiB unless told otherwise
(``AnswerTooLargeError`` naming the URL, the limit and how to raise it), and ``history`` — whose pages are the
largest answers a server gives in normal use — reads a page too large for the limit in smaller pages instead of
failing. A raw endless HTTP server on 127.0.0.1, and real uvicorn."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

import igniter_nb as ig
from igniter_nb.server import AnswerTooLargeError, AsyncClient, Client
from igniter_nb.server.client_base import DEFAULT_MAX_ANSWER_BYTES
from igniter_nb.stores import MemoryStore
from tests.server.server_contracts import CONTRACTS

CHUNK = b"x" * 65536


@pytest.fixture
def endless() -> Iterator[str]:
    """A server answering every request with a chunked body that never ends (each connection until it is closed)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                stream = b"/events" in conn.recv(65536)
                kind = b"text/event-stream" if stream else b"application/json"
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\n" % kind)
                if stream:  # one message whose data line never ends
                    conn.sendall(b"6\r\ndata: \r\n")
                sent = 0
                while not stop.is_set() and sent < 4 * DEFAULT_MAX_ANSWER_BYTES:  # bounded even if never read
                    conn.sendall(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
                    sent += len(CHUNK)
            except OSError:
                pass

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(5)
    listener.close()


def test_the_default_cap_is_64_mib_and_none_still_means_no_limit() -> None:
    assert DEFAULT_MAX_ANSWER_BYTES == 64 * 1024 * 1024
    assert Client("http://127.0.0.1:9").max_answer_bytes == DEFAULT_MAX_ANSWER_BYTES
    assert AsyncClient("http://127.0.0.1:9").max_answer_bytes == DEFAULT_MAX_ANSWER_BYTES
    assert Client("http://127.0.0.1:9", max_answer_bytes=None).max_answer_bytes is None


def test_an_endless_answer_stops_at_the_default_cap(endless: str) -> None:
    with Client(endless, timeout=10) as client, pytest.raises(AnswerTooLargeError) as raised:
        client.health()
    message = str(raised.value)
    assert f"{endless}/v1/health" in message and str(DEFAULT_MAX_ANSWER_BYTES) in message
    assert "max_answer_bytes=" in message  # how to raise it
    assert raised.value.limit == DEFAULT_MAX_ANSWER_BYTES and raised.value.url == f"{endless}/v1/health"


def test_an_endless_answer_stops_at_the_default_cap_async(endless: str) -> None:
    async def main() -> None:
        async with AsyncClient(endless, timeout=10) as client:
            with pytest.raises(AnswerTooLargeError, match="max_answer_bytes="):
                await client.health()

    anyio.run(main)


def test_one_endless_stream_message_stops_at_the_default_cap(endless: str) -> None:
    with Client(endless, timeout=10) as client, pytest.raises(AnswerTooLargeError) as raised:
        list(client.events("e-1"))
    assert raised.value.limit == DEFAULT_MAX_ANSWER_BYTES and "max_answer_bytes=" in str(raised.value)


def _big_history(count: int, size: int) -> MemoryStore:
    store = MemoryStore()
    version = 0
    for i in range(count):
        version = store.save({"execution_id": "e-1", "graph": "Lead", "step": i, "blob": "b" * size},
                             expected_version=version, graph="Lead", correlation={"request_id": "e-1"},
                             status="running")
    return store


def test_history_reads_pages_too_large_for_the_cap_in_smaller_pages(live_app: Any) -> None:
    server = live_app(ig.server.create_app(CONTRACTS, store=_big_history(30, 20_000)))
    with Client(server.url, max_answer_bytes=100_000) as client:  # a page of 100 versions is ~600 kB
        versions = client.history("e-1")
        assert [v["version"] for v in versions] == list(range(1, 31))
        assert all(v["snapshot"]["step"] == i for i, v in enumerate(versions))

    async def main() -> None:
        async with AsyncClient(server.url, max_answer_bytes=100_000) as client:
            assert [v["version"] for v in await client.history("e-1")] == list(range(1, 31))

    anyio.run(main)
    with Client(server.url, max_answer_bytes=10_000) as client, pytest.raises(AnswerTooLargeError):
        client.history("e-1")  # one version larger than the cap: no page is small enough
