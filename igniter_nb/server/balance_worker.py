"""The worker side of ``igniter-nb serve --balance supervisor`` (:mod:`igniter_nb.server.balance`): uvicorn's server
with no listening socket of its own, serving the connections the supervisor hands it over a channel.

The channel is one end of an ``AF_UNIX`` ``SOCK_SEQPACKET`` pair, one message per record:

- supervisor -> worker: :data:`CONNECTION` with one file descriptor, a connection to serve;
- worker -> supervisor: :data:`READY` once the app has started, ``CLOSED + b"<n>"`` when n of the connections it
  was handed are closed, :data:`GIVEN_BACK` with the descriptors it was handed and will not serve (it is stopping).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from typing import Any

from uvicorn import Server

logger = logging.getLogger("uvicorn.error")

READY = b"R"  # worker -> supervisor: my app has started, send me connections
CLOSED = b"C"  # worker -> supervisor: b"C<n>", n of the connections you sent me are closed
GIVEN_BACK = b"B"  # worker -> supervisor (with descriptors): I am stopping, hand these to another worker
CONNECTION = b"F"  # supervisor -> worker (with one descriptor): serve this connection
_MAX_FDS = 64  # descriptors read per message


def receive(channel: socket.socket, size: int) -> tuple[bytes, list[int]] | None:
    """The next message on a non-blocking channel and the descriptors it carries; None when none is waiting;
    ``(b"", [])`` when the other end closed the channel (or it failed)."""
    try:
        message, fds, _, _ = socket.recv_fds(channel, size, _MAX_FDS)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b"", []
    return message, fds


class BalancedServer(Server):
    """Uvicorn's server for one worker process, fed by the supervisor through ``channel`` instead of a listening
    socket of its own."""

    def __init__(self, config: Any, channel: socket.socket) -> None:
        super().__init__(config)
        self._channel = channel
        self._receiving = False
        self._unreported = 0  # closed connections not yet reported (the channel was full)
        self._connecting: set[asyncio.Future[Any]] = set()
        self._factory: Callable[[], asyncio.Protocol] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets if sockets is not None else [])  # the lifespan; nothing to listen on
        if not self.started or self.should_exit:
            return
        self._loop = asyncio.get_running_loop()
        self._factory = self._protocol_factory()
        self._channel.setblocking(False)
        self._loop.add_reader(self._channel.fileno(), self._receive)
        self._receiving = True
        self._send(READY)

    def _protocol_factory(self) -> Callable[[], asyncio.Protocol]:
        """Uvicorn's protocol factory (as ``Server.startup`` makes it), its protocol reporting each close. (A
        connection upgraded to a WebSocket hands its transport to another protocol, whose close would not be
        reported: ``serve`` runs uvicorn with ``ws="none"``, so none is upgraded.)"""
        config, loop, closed = self.config, self._loop, self._closed

        base: Any = config.http_protocol_class

        class Counted(base):  # type: ignore[misc]
            def connection_lost(self, exc: Exception | None) -> None:
                try:
                    super().connection_lost(exc)
                finally:
                    closed()

        def create_protocol() -> asyncio.Protocol:
            protocol: asyncio.Protocol = Counted(config=config, server_state=self.server_state,
                                                 app_state=self.lifespan.state, _loop=loop)
            return protocol

        return create_protocol

    def _receive(self) -> None:
        while self._receiving:
            received = receive(self._channel, 16)
            if received is None:
                return
            message, fds = received
            if not message and not fds:  # the supervisor is gone: nothing more will come, stop as on SIGTERM
                self._stop_reading()
                self.should_exit = True
                return
            for fd in fds:
                self._take(socket.socket(fileno=fd))

    def _take(self, connection: socket.socket) -> None:
        assert self._loop is not None and self._factory is not None
        task = asyncio.ensure_future(self._loop.connect_accepted_socket(self._factory, connection,
                                                                        ssl=self.config.ssl))
        self._connecting.add(task)
        task.add_done_callback(lambda done: self._connected(done, connection))

    def _connected(self, task: asyncio.Future[Any], connection: socket.socket) -> None:
        self._connecting.discard(task)
        if task.cancelled() or task.exception() is not None:  # reset before it was served: no protocol to close
            if not task.cancelled():
                logger.debug(f"a connection handed over could not be served: {task.exception()}")
            connection.close()
            self._closed()

    def _closed(self) -> None:
        self._unreported += 1
        if self._send(CLOSED + str(self._unreported).encode()):
            self._unreported = 0

    def _send(self, message: bytes) -> bool:
        """False when the channel is full (the supervisor is busy: say it with the next message)."""
        try:
            self._channel.send(message)
        except BlockingIOError:
            return False
        except OSError:  # the channel is closed (shutting down) or the supervisor is gone: nobody to tell
            pass
        return True

    def _stop_reading(self) -> None:
        if self._receiving:
            self._receiving = False
            assert self._loop is not None
            self._loop.remove_reader(self._channel.fileno())

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._receiving:
            self._stop_reading()
            with contextlib.suppress(OSError):
                self._channel.shutdown(socket.SHUT_RD)  # the supervisor's next hand-over to us fails
            self._give_back()
        if self._connecting:  # connections received: let them register with uvicorn before it shuts them down
            await asyncio.wait(set(self._connecting))
        await super().shutdown(sockets=sockets)
        self._channel.close()

    def _give_back(self) -> None:
        """Send the connections queued to us and not yet read back to the supervisor, for another worker."""
        while True:
            try:
                _, fds, _, _ = socket.recv_fds(self._channel, 16, _MAX_FDS)
            except OSError:
                return
            if not fds:
                return
            with contextlib.suppress(OSError):
                socket.send_fds(self._channel, [GIVEN_BACK], fds)
            for fd in fds:
                socket.socket(fileno=fd).close()


__all__ = ["CLOSED", "CONNECTION", "GIVEN_BACK", "READY", "BalancedServer"]
