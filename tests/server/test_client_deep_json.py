"""A server answering JSON nested deeper than Python's decoder can read (it raises ``RecursionError``, not
``ValueError``): the Client let the bare ``RecursionError`` escape, from a 200, from an error answer and from the
event stream. Each is now the Client's ``RemoteError`` for an unreadable answer, naming the URL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import igniter_nb as ig
from tests.server.live_server import LiveServer

Live = Callable[..., LiveServer]
DEEP = "[" * 100_000 + "]" * 100_000


def _deep_server(live_app: Live, status: int = 200) -> LiveServer:
    async def execution(request: Request) -> Response:
        return Response(DEEP, status_code=status, media_type="application/json")

    async def stream(request: Request) -> Response:
        return Response(f"id: 1\nevent: event\ndata: {DEEP}\n\n", media_type="text/event-stream")

    return live_app(Starlette(routes=[Route("/v1/executions/{eid}", execution),
                                      Route("/v1/executions/{eid}/events", stream)]))


@pytest.mark.parametrize("max_answer_bytes", [None, 1_000_000])
def test_a_200_nested_too_deeply_is_a_remote_error_naming_the_url(live_app: Live, max_answer_bytes: Any) -> None:
    server = _deep_server(live_app)
    with ig.server.Client(server.url, max_answer_bytes=max_answer_bytes) as client, \
            pytest.raises(ig.server.RemoteError) as caught:
        client.status("e-1")
    err = caught.value
    assert err.status_code == 200 and err.context["url"] == f"{server.url}/v1/executions/e-1"
    assert "nested too deeply" in err.message and f"GET {server.url}/v1/executions/e-1" in err.message


@pytest.mark.parametrize("status", [500, 503])
def test_an_error_answer_nested_too_deeply_is_the_remote_error_of_its_status(live_app: Live, status: int) -> None:
    """(A 503 is read first for the type of a "retry later" answer: it escaped from there too.)"""
    server = _deep_server(live_app, status=status)
    with ig.server.Client(server.url, retries=2) as client, pytest.raises(ig.server.RemoteError) as caught:
        client.status("e-1")
    assert caught.value.status_code == status and caught.value.context["url"] == f"{server.url}/v1/executions/e-1"


def test_the_async_client_reads_it_as_the_same_remote_error(live_app: Live) -> None:
    server = _deep_server(live_app)

    async def main() -> None:
        async with ig.server.AsyncClient(server.url) as client:
            await client.status("e-1")

    with pytest.raises(ig.server.RemoteError, match="nested too deeply") as caught:
        asyncio.run(main())
    assert caught.value.status_code == 200


def test_a_stream_message_nested_too_deeply_is_a_remote_error_naming_the_url(live_app: Live) -> None:
    server = _deep_server(live_app)
    with ig.server.Client(server.url) as client, pytest.raises(ig.server.RemoteError) as caught:
        next(iter(client.events("e-1", reconnects=0)))
    assert "nested too deeply" in caught.value.message
    assert caught.value.context["url"] == f"{server.url}/v1/executions/e-1/events"

    async def main() -> None:
        async with ig.server.AsyncClient(server.url) as client:
            async for _ in client.events("e-1", reconnects=0):
                break

    with pytest.raises(ig.server.RemoteError, match="nested too deeply"):
        asyncio.run(main())
