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
import socket
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    """Switch Nagle's algorithm off on ``transport``'s TCP socket (anything else is left alone)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        with contextlib.suppress(OSError):  # a connection already reset by the peer
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """Uvicorn's HTTP/1.1 protocol (httptools when installed, else h11), with ``TCP_NODELAY`` on its connection."""

    def connection_made(self, transport: Any) -> None:  # uvicorn's own signature
        set_nodelay(transport)
        super().connection_made(transport)


__all__ = ["NoDelayHTTPProtocol", "set_nodelay"]
