"""A raw HTTP server on 127.0.0.1 that answers slowly a byte at a time: each byte within any per-read timeout, the
whole answer far past it. What a hostile or broken peer (a proxy with a stuck upstream, a slowloris) does to a
client that only bounds each read.

    with Trickle(body=b'{"ok": true}', every=0.2) as server:
        httpx.get(server.url)        # ~2.4 s, though no read waited more than 0.2 s

The server trickles at most ``slow`` bytes (the headers' too, with ``in_headers=True``), then sends the rest at
once: a client without an overall deadline gets the whole answer after ``slow * every`` seconds, so a test that
expects the deadline's error fails instead of hanging. ``requests`` counts the requests it read.
"""

from __future__ import annotations

import socket
import threading
from typing import Any


class Trickle:
    def __init__(self, body: bytes, *, every: float = 0.2, slow: int = 25, in_headers: bool = False) -> None:
        self.body = body
        self.every = every
        self.slow = slow
        self.in_headers = in_headers
        self.requests = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._threads: list[threading.Thread] = []

    def _answer(self) -> bytes:
        head = (f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(self.body)}\r\n"
                "connection: close\r\n").encode()
        if self.in_headers:
            return head + b"x-pad: " + b"p" * self.slow + b"\r\n\r\n" + self.body
        return head + b"\r\n" + self.body

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
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
            except OSError:
                return

    def _accept(self) -> None:
        self._listener.settimeout(0.05)  # (a blocked accept does not wake when another thread closes the socket)
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def start(self) -> Trickle:
        thread = threading.Thread(target=self._accept, daemon=True)
        self._threads.append(thread)
        thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def __enter__(self) -> Trickle:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
