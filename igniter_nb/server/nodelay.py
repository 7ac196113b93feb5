"""The HTTP protocol ``igniter-nb serve`` gives uvicorn: uvicorn's own, with Nagle's algorithm switched off on
every accepted connection.

With ``--workers`` above 1, uvicorn binds the listening socket itself and hands it to the worker processes; that
socket reports protocol 0, so asyncio does not set ``TCP_NODELAY`` on the connections it accepts (uvicorn issue
#3149, up to uvicorn 0.54; 0.55 binds with ``IPPROTO_TCP``, but the server extra allows older releases). A
response's head and body then leave as two small writes and, on a keep-alive connection, the second waits for the
client's delayed ACK: about 40 ms added to every request after the first.
Setting the option here, where each connection is made, is what asyncio does for a single worker. On Linux
``igniter-nb serve`` does not share a socket by default: its supervisor accepts each connection and sets the option
before handing it to a worker (:mod:`igniter_nb.server.balance`), or (``--balance reuseport``) each worker has a
socket of its own made with ``IPPROTO_TCP`` so that asyncio sets it (:mod:`igniter_nb.server.reuseport`); this
class still covers the shared socket (``--balance shared``, other systems), for one system call per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    """Switch Nagle's algorithm off on ``transport``'s TCP socket (anything else is left alone)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        with contextlib.suppress(OSError):  # a connection already reset by the peer
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


#: Seconds a connection may take to send a request's headers, from its opening and from each answer.
HEADER_TIMEOUT = 30.0
#: Bytes a request's line and headers may take (httptools, uvicorn's parser when installed, has no limit).
MAX_HEADER_BYTES = 65_536


def _answer(status: str, content: dict[str, Any]) -> bytes:
    body = json.dumps(content).encode()
    return (f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\nconnection: close\r\n"
            f"content-length: {len(body)}\r\n\r\n").encode() + body


def _timed_out_answer(seconds: float) -> bytes:
    return _answer("408 Request Timeout", {"error": f"the request's headers did not arrive within {seconds:g} s "
                                           "(header timeout)", "type": "RequestTimeout", "limit": seconds})


def _too_large_answer(limit: int) -> bytes:
    return _answer("431 Request Header Fields Too Large", {
        "error": f"the request's line and headers are larger than {limit} bytes", "type": "HeadersTooLarge",
        "limit": limit})


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """Uvicorn's HTTP/1.1 protocol (httptools when installed, else h11), with ``TCP_NODELAY`` on its connection and
    a deadline for each request's headers (``header_timeout``)."""

    header_timeout: float = HEADER_TIMEOUT
    max_header_bytes: int = MAX_HEADER_BYTES
    _header_timer: asyncio.TimerHandle | None = None
    _header_cycle: Any = None
    _header_bytes = 0  # bytes received since the timer was armed, while no request's headers were complete

    def connection_made(self, transport: Any) -> None:  # uvicorn's own signature
        set_nodelay(transport)
        super().connection_made(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        counting = self._header_timer is not None and self._no_new_request()
        if counting:
            self._header_bytes += len(data)
        super().data_received(data)
        if (counting and self._header_bytes > self.max_header_bytes and self._no_new_request()
                and not self.transport.is_closing()):  # still no whole head, and past the limit: refused
            self._disarm_header_timer()
            with contextlib.suppress(OSError, RuntimeError):
                self.transport.write(_too_large_answer(self.max_header_bytes))
            self.transport.close()

    def _no_new_request(self) -> bool:
        """No request's headers came whole since the timer was armed, and none is being answered."""
        cycle = self.cycle
        return cycle is self._header_cycle and (cycle is None or bool(cycle.response_complete))

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        if self.transport.is_closing():
            return
        self._header_cycle, self._header_bytes = self.cycle, 0
        self._header_timer = self.loop.call_later(self.header_timeout, self._header_timed_out)

    def _header_timed_out(self) -> None:
        self._header_timer = None
        if not self._no_new_request():
            return  # a request came whole (its answer re-arms the timer), or one is being answered
        if self.transport.is_closing():
            return
        if self._header_bytes:  # part of a request came: say why it is cut
            with contextlib.suppress(OSError, RuntimeError):
                self.transport.write(_timed_out_answer(self.header_timeout))
        self.transport.close()


__all__ = ["HEADER_TIMEOUT", "MAX_HEADER_BYTES", "NoDelayHTTPProtocol", "set_nodelay"]
