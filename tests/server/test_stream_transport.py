"""``Client.events`` with a transport of the caller's (``transport=httpx.MockTransport(...)``, any transport without
a socket the client bounds): the idle deadline ``read_timeout`` cuts a socket wait, so a read that transport blocks
in held the caller past it — silently, for as long as the transport liked. The sync ``Client`` now says so at the
call with ``ig.server.StreamTimeoutWarning`` naming the transport (still checking the deadline whenever a chunk
arrives); ``AsyncClient.events`` cancels the read at the deadline, whatever the transport, and is pinned here."""

from __future__ import annotations

import asyncio
import threading
import warnings
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

import igniter_nb as ig
from igniter_nb.server import AsyncClient, Client, RemoteConnectionError
from tests.server.test_stream_idle import _event

HEAD = {"content-type": "text/event-stream"}


def test_a_sync_client_with_a_transport_of_its_own_warns_at_the_call() -> None:
    release = threading.Event()
    asked: list[str | None] = []

    def body() -> Iterator[bytes]:
        yield b"retry: 0\n" + _event(1)
        release.wait(10)  # a read the transport blocks in: the deadline cannot cut it
        yield b"x"  # no message: the deadline, past, is checked here
        yield _event(2)

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.headers.get("last-event-id"))
        return httpx.Response(200, headers=HEAD, content=body()) if len(asked) == 1 else httpx.Response(204)

    with Client("http://stream.test", transport=httpx.MockTransport(answer)) as client:
        with pytest.warns(ig.server.StreamTimeoutWarning) as said:
            stream = client.events("e-1", read_timeout=0.2, reconnects=0)
        message = str(said[0].message)
        assert "MockTransport" in message and "read_timeout=0.2s" in message and "http://stream.test" in message
        assert said[0].filename == __file__  # (the caller's line)
        got = [next(stream)]
        threading.Timer(0.5, release.set).start()  # (the transport's read ends past the deadline)
        got += list(stream)
    assert [m.id for m in got] == ["1"]  # event 2 came after the deadline: the connection was dropped before it
    assert asked == [None, "1"]  # (then 204: nothing more)


def test_the_default_and_an_http_transport_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ig.server.StreamTimeoutWarning)
        for transport in (None, httpx.HTTPTransport()):
            with Client("http://127.0.0.1:1", transport=transport) as client:
                client.events("e-1")
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            async_client = AsyncClient("http://127.0.0.1:1", transport=httpx.MockTransport(lambda r: httpx.Response(204)))
            async_client.events("e-1")  # (an AsyncClient cuts any transport: no warning)
            asyncio.run(async_client.aclose())
        assert not [w for w in said if issubclass(w.category, ig.server.StreamTimeoutWarning)]


def test_an_async_client_cuts_any_transport_at_the_deadline() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield _event(1)
        await asyncio.sleep(30)  # never comes: read_timeout cancels it

    async def main() -> list[ig.server.StreamMessage]:
        got: list[ig.server.StreamMessage] = []
        transport = httpx.MockTransport(lambda request: httpx.Response(200, headers=HEAD, content=body()))
        async with AsyncClient("http://stream.test", transport=transport) as client:
            with pytest.raises(RemoteConnectionError) as caught:
                async for message in client.events("e-1", read_timeout=0.2, reconnects=0):
                    got.append(message)
        assert caught.value.timeout is True
        return got

    assert [m.id for m in asyncio.run(asyncio.wait_for(main(), 20))] == ["1"]
