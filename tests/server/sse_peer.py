"""A raw server-sent-events peer on 127.0.0.1: for each connection it sends the response headers of an event
stream, then the steps of its script — bytes, or a number of seconds to wait — and then holds the connection open
saying nothing until stopped (``close=True``: closes it instead). What a stuck upstream, a broken proxy or a hostile
server does to a client following a stream.

    with SsePeer([[b"id: 1\\ndata: {}\\n\\n"], []]) as peer:   # connection 1: one event then silence; then silence
        ...
    peer.last_event_ids   # the Last-Event-ID header of each request (None: absent)

The last script is used for every later connection. Each connection is served on its own thread, which ends when
the peer stops (its socket is closed), so nothing outlives the test.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-store\r\n\r\n"


class SsePeer:
    def __init__(self, scripts: list[list[bytes | float]], *, close: bool = False) -> None:
        self.scripts = scripts
        self.close = close
        self.last_event_ids: list[str | None] = []
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # (a blocked accept() is not woken by close(): it looks at _stop instead)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []

    def _serve(self, conn: socket.socket, script: list[bytes | float]) -> None:
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head = data.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
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
            script = self.scripts[min(len(self.last_event_ids), len(self.scripts) - 1)]
            self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn, script), daemon=True)
            self._threads.append(thread)
            thread.start()

    def start(self) -> SsePeer:
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

    def __enter__(self) -> SsePeer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
