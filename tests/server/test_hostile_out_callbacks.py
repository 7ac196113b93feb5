"""A callback receiver that trickles its answer — the status line and headers, or the start of an error body the
sender quotes — a byte at a time, each byte well within the sender's per-read timeout. Without a deadline for the
whole attempt, the sending thread was held for as long as the receiver liked (``TIMEOUT`` bounds each read only);
now each attempt ends at ``callbacks.TOTAL_TIMEOUT`` and says so. And a receiver answering with a redirect: not
followed (as before), but the recorded failure said only ``HTTP 307: `` — now it says where it pointed. The receiver is a plain socket server on
127.0.0.1 that stops trickling on its own after a few seconds (so the test ends on main too)."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from igniter_nb.server import callbacks
from igniter_nb.server.callbacks import Callback

GIVE_UP = 4.0  # the receiver closes the connection after this long (on main the sender waited that long)


class Trickler:
    """Answers each POST with ``head`` then ``body`` a byte every 0.05 s, until it is all sent, the sender goes away
    or ``GIVE_UP`` seconds passed."""

    def __init__(self, head: bytes, body: bytes = b"") -> None:
        self.head, self.body = head, body
        self.attempts = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.closed = threading.Event()

    def _serve(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.attempts += 1
            with conn:
                conn.settimeout(GIVE_UP)
                try:
                    request = b""
                    while b"\r\n\r\n" not in request:
                        request += conn.recv(65536)
                    head, _, body = request.partition(b"\r\n\r\n")
                    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length"))
                    while len(body) < length:
                        body += conn.recv(65536)
                    end = time.monotonic() + GIVE_UP
                    for byte in self.head + self.body:
                        if time.monotonic() > end or self.closed.is_set():
                            break
                        conn.sendall(bytes([byte]))
                        time.sleep(0.05)
                except OSError:  # the sender closed the connection
                    pass


def _receiver(head: bytes, body: bytes = b"") -> Iterator[Trickler]:
    found = Trickler(head, body)
    found.thread.start()
    yield found
    found.closed.set()
    found.listener.close()
    found.thread.join(10)


@pytest.fixture
def slow_headers() -> Iterator[Trickler]:
    yield from _receiver(b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 10_000 + b"\r\n\r\n")


@pytest.fixture
def slow_error_body() -> Iterator[Trickler]:
    yield from _receiver(b"HTTP/1.1 400 Bad\r\nContent-Type: text/plain\r\nContent-Length: 4096\r\n\r\n", b"x" * 4096)


@pytest.fixture
def short_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(callbacks, "TIMEOUT", 0.5)
    monkeypatch.setattr(callbacks, "TOTAL_TIMEOUT", 1.0, raising=False)


def test_a_receiver_trickling_its_headers_is_cut_off_at_the_total_timeout(slow_headers: Trickler,
                                                                           short_limits: None) -> None:
    result = callbacks.post(Callback("ex-1", 1, slow_headers.url, "tok"), {"execution_id": "ex-1"}, retries=0)
    assert result["sent"] is False and result["attempts"] == 1
    assert "no complete answer within 1s" in result["error"], result


def test_a_receiver_trickling_its_error_body_is_cut_off_at_the_total_timeout(slow_error_body: Trickler,
                                                                              short_limits: None) -> None:
    result = callbacks.post(Callback("ex-1", 1, slow_error_body.url, "tok"), {"execution_id": "ex-1"}, retries=0)
    assert result["sent"] is False and result["attempts"] == 1
    assert "no complete answer within 1s" in result["error"], result


def test_each_attempt_has_its_own_total_timeout_and_the_retries_still_happen(slow_headers: Trickler,
                                                                            short_limits: None,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(callbacks, "FIRST_DELAY", 0.01)
    result = callbacks.post(Callback("ex-1", 1, slow_headers.url, "tok"), {"execution_id": "ex-1"}, retries=1)
    assert result["sent"] is False and result["attempts"] == 2 and slow_headers.attempts == 2
    assert "no complete answer within 1s" in result["error"], result


class _Redirecting(http.server.ThreadingHTTPServer):
    """Answers every POST with ``307`` to ``location``; records the requests (any method) it gets."""

    daemon_threads = True

    def __init__(self, location: str = "") -> None:
        self.location = location
        self.seen: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                owner.seen.append(self.command)
                self.send_response(307 if owner.location else 200)
                if owner.location:
                    self.send_header("location", owner.location)
                self.send_header("content-length", "0")
                self.end_headers()

            do_GET = do_POST

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    def __enter__(self) -> _Redirecting:
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()
        self.server_close()


def test_a_redirect_is_not_followed_and_the_failure_says_where_it_pointed() -> None:
    with _Redirecting() as elsewhere:
        target = f"http://user:hunter2@127.0.0.1:{elsewhere.server_address[1]}/hook"
        with _Redirecting(target) as receiver:
            url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
            result = callbacks.post(Callback("ex-1", 1, url, "tok"), {"execution_id": "ex-1"}, retries=0)
        assert elsewhere.seen == [] and receiver.seen == ["POST"]
    assert result["sent"] is False and result["status_code"] == 307
    assert f"a redirect to http://user:***@127.0.0.1:{elsewhere.server_address[1]}/hook" in result["error"]
    assert "not followed" in result["error"] and "hunter2" not in result["error"]
