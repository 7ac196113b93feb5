"""A server (or a proxy in its place) answering 200 with JSON that is not an object — a list, a string, a number,
null — or a contracts answer without its list: every Client call promises a dict (the server answers an object on
every route), and ``dict([1, 2])`` raised a bare ``TypeError`` (``dict("x")`` a ``ValueError``, ``list(...)
["contracts"]`` a ``TypeError``/``KeyError``), out of ``execute`` too — where the caller cannot tell whether the
server ran it. Each is now a ``RemoteError`` (``status_code`` 200) naming the URL and what came. A real uvicorn on
127.0.0.1 plays the server."""

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
from igniter_nb.server import RemoteError

CALLS: list[tuple[str, Callable[[Any], Any]]] = [
    ("health", lambda c: c.health()),
    ("contracts", lambda c: c.contracts()),
    ("contract", lambda c: c.contract("price")),
    ("execute", lambda c: c.execute("price", {"total": 1})),
    ("deliver_event", lambda c: c.deliver_event("lead", event="e", correlation={"r": "1"})),
    ("status", lambda c: c.status("e-1")),
    ("resume", lambda c: c.resume("e-1", "t", 1)),
    ("record", lambda c: c.record("e-1")),
]


def _answering(body: bytes) -> Starlette:
    async def answer(request: Request) -> Response:
        return Response(body, media_type="application/json")
    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])


@pytest.mark.parametrize("body", [b"[1, 2]", b'"x"', b"7", b"null"])
@pytest.mark.parametrize(("name", "call"), CALLS, ids=[name for name, _ in CALLS])
def test_an_answer_that_is_not_what_the_call_returns_is_a_remote_error(live_app: Any, body: bytes, name: str,
                                                                        call: Callable[[Any], Any]) -> None:
    url = live_app(_answering(body)).url
    with ig.server.Client(url, timeout=10) as client, pytest.raises(RemoteError) as exc:
        call(client)
    assert exc.value.status_code == 200 and url in str(exc.value) and "answered" in str(exc.value)


@pytest.mark.parametrize("body", [b'{"contracts": 5, "versions": {}}', b'{"versions": [1, 2]}'])
def test_an_object_without_the_list_the_call_reads_is_a_remote_error(live_app: Any, body: bytes) -> None:
    url = live_app(_answering(body)).url
    with ig.server.Client(url, timeout=10) as client:
        for call in (client.contracts, lambda: client.record("e-1")):
            with pytest.raises(RemoteError, match="answered") as exc:
                call()
            assert exc.value.status_code == 200


def test_the_async_client_too(live_app: Any) -> None:
    url = live_app(_answering(b"[1, 2]")).url

    async def run() -> None:
        async with ig.server.AsyncClient(url, timeout=10) as client:
            for call in (client.status("e-1"), client.contracts(), client.record("e-1")):
                with pytest.raises(RemoteError, match="answered"):
                    await call

    asyncio.run(run())
