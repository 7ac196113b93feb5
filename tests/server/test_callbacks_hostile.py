"""A callback receiver that answers with more than anyone needs to read: the sender reads the status and at most the
start of the body (the 300 characters its error message quotes), never the whole body — a receiver streaming an
endless answer would otherwise hold the sending thread and its memory for as long as it likes. The receiver is a
plain socket server on 127.0.0.1 writing with back-pressure, so it counts the chunks the sender let it hand over
before closing the connection."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from igniter_nb.server import callbacks
from igniter_nb.server.callbacks import Callback

CHUNK = b"x" * 65536
CHUNKS = 1024  # 64 MiB: what reading the whole answer would take


class EndlessReceiver:
    """Answers one POST with ``status`` and a 64 MiB body, written chunk by chunk until the peer goes away."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.handed = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length"))
            while len(body) < length:
                body += conn.recv(65536)
            try:
                conn.sendall(f"HTTP/1.1 {self.status} X\r\nContent-Type: text/plain\r\n"
                             f"Content-Length: {len(CHUNK) * CHUNKS}\r\n\r\n".encode())
                for _ in range(CHUNKS):
                    conn.sendall(CHUNK)
                    self.handed += 1
            except OSError:  # the sender closed the connection: what it did not read was never sent
                pass


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[EndlessReceiver]:
    found = EndlessReceiver(request.param)
    found.thread.start()
    yield found
    found.listener.close()
    found.thread.join(10)


@pytest.mark.parametrize(("receiver", "sent"), [(200, True), (400, False)], indirect=["receiver"])
def test_the_sender_does_not_read_a_huge_answer_to_its_end(receiver: EndlessReceiver, sent: bool) -> None:
    result = callbacks.post(Callback("ex-1", 1, receiver.url, "tok"), {"execution_id": "ex-1"}, retries=0)
    receiver.thread.join(10)
    assert result["sent"] is sent and result["status_code"] == receiver.status
    if not sent:
        assert result["error"] == f"HTTP {receiver.status}: {'x' * 300}"
    assert receiver.handed < CHUNKS  # the sender closed the connection: the rest of the answer was never sent
