"""A stream message whose data is JSON but not an object (a list, a string, a number): every message the server
sends is an object, and `StreamMessage.data` promises one. It was handed on as it was, and a caller reading it
(`message.data.get("version")`, as `ig.nb.Follow` does) failed with `AttributeError: 'list' object has no attribute
'get'` — nothing naming the stream. Now it is a `RemoteError` naming the stream's URL, like data that is not JSON.
The peer is a raw server on 127.0.0.1 (tests/server/sse_peer.py)."""

from __future__ import annotations

import asyncio

import pytest

import igniter_nb as ig
from tests.server.sse_peer import SsePeer

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize("data", [b"[1, 2]", b'"finished"', b"7", b"null"])
def test_data_that_is_not_an_object_is_named_with_the_stream(data: bytes) -> None:
    with SsePeer([[b"event: status\ndata: {\"version\": 1}\n\n", b"event: end\ndata: " + data + b"\n\n"]],
                 close=True) as peer, ig.server.Client(peer.url) as client:
        messages = client.events("e-1", reconnects=0)
        assert next(messages).data == {"version": 1}
        with pytest.raises(ig.server.RemoteError, match=rf"the stream of {peer.url}/v1/executions/e-1/events sent "
                                                        "data that is not a JSON object: ") as err:
            next(messages)
        assert err.value.context["url"] == f"{peer.url}/v1/executions/e-1/events"


def test_the_async_client_names_it_too() -> None:
    async def read(url: str) -> None:
        async with ig.server.AsyncClient(url) as client:
            async for _ in client.events("e-1", reconnects=0):
                pass

    with SsePeer([[b"id: 1\ndata: [1]\n\n"]], close=True) as peer, \
            pytest.raises(ig.server.RemoteError, match="sent data that is not a JSON object: '\\[1\\]'"):
        asyncio.run(read(peer.url))
