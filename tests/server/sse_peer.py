"""Raw peers on 127.0.0.1, each connection served on a thread of its own that ends when the peer stops (its
sockets are closed), so nothing outlives the test. What a stuck upstream, a broken proxy or a hostile server does
to a client. Two kinds, on one base (:class:`RawPeer`: the listener, the threads, reading a request's head):

:class:`SsePeer` — a server-sent-events peer: for each connection it sends the response headers of an event
stream, then the steps of its script — bytes, or a number of seconds to wait — and then holds the connection open
saying nothing until stopped (``close=True``: closes it instead).

    with SsePeer([[b"id: 1\\ndata: {}\\n\\n"], []]) as peer:   # connection 1: one event then silence; then silence
        ...
    peer.last_event_ids   # the Last-Event-ID header of each request (None: absent)

The last script is used for every later connection.

:class:`Trickle` — an HTTP server that answers slowly a byte at a time: each byte within any per-read timeout, the
whole answer far past it (a client that only bounds each read; a slowloris).

    with Trickle(body=b'{"ok": true}', every=0.2) as server:
        httpx.get(server.url)        # ~2.4 s, though no read waited more than 0.2 s

It trickles at most ``slow`` bytes (the headers' too, with ``in_headers=True``), then sends the rest at once: a
client without an overall deadline gets the whole answer after ``slow * every`` seconds, so a test that expects
the deadline's error fails instead of hanging. ``requests`` counts the requests it read.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any, Self

HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-store\r\n\r\n"


class RawPeer:
    """A listener on 127.0.0.1 (``url``) handing each connection to :meth:`serve` on a thread of its own."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # (a blocked accept() is not woken by close(): it looks at _stop instead)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []

    def serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def read_head(self, conn: socket.socket) -> tuple[bytes, bytes] | None:
        """The request's head and the bytes read after it; None when the client closed first."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        return head, rest

    def _serve(self, conn: socket.socket) -> None:
        try:
            self.serve(conn)
        except OSError:
            return
        finally:
            conn.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def start(self) -> Self:
        thread = threading.Thread(target=self._accept, daemon=True)
        self._threads.append(thread)
        thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads[:1]:
            thread.join(5)
        self._listener.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class SsePeer(RawPeer):
    def __init__(self, scripts: list[list[bytes | float]], *, close: bool = False) -> None:
        super().__init__()
        self.scripts = scripts
        self.close = close
        self.last_event_ids: list[str | None] = []
        self._lock = threading.Lock()

    def serve(self, conn: socket.socket) -> None:
        read = self.read_head(conn)
        if read is None:
            return
        head = read[0].decode("latin-1").split("\r\n")
        with self._lock:  # (the script of the n-th request, in the order requests arrive)
            script = self.scripts[min(len(self.last_event_ids), len(self.scripts) - 1)]
            self.last_event_ids.append(next((line.split(":", 1)[1].strip() for line in head
                                             if line.lower().startswith("last-event-id:")), None))
        conn.sendall(HEAD)
        for step in script:
            if isinstance(step, bytes):
                conn.sendall(step)
            elif self._stop.wait(step):
                return
        if not self.close:
            self._stop.wait()


class Trickle(RawPeer):
    def __init__(self, body: bytes, *, every: float = 0.2, slow: int = 25, in_headers: bool = False) -> None:
        super().__init__()
        self.body = body
        self.every = every
        self.slow = slow
        self.in_headers = in_headers
        self.requests = 0

    def _answer(self) -> bytes:
        head = (f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(self.body)}\r\n"
                "connection: close\r\n").encode()
        if self.in_headers:
            return head + b"x-pad: " + b"p" * self.slow + b"\r\n\r\n" + self.body
        return head + b"\r\n" + self.body

    def serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        read = self.read_head(conn)
        if read is None:
            return
        head, data = read
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(data) < length:  # the request's body, read whole: closing with it unread resets the answer
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        self.requests += 1
        answer = self._answer()
        start = answer.index(b"x-pad: ") + 7 if self.in_headers else len(answer) - len(self.body)
        slow = min(self.slow, len(answer) - start)
        conn.sendall(answer[:start])
        for i in range(start, start + slow):
            if self._stop.wait(self.every):
                return
            conn.sendall(answer[i:i + 1])
        conn.sendall(answer[start + slow:])
