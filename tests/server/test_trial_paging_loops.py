"""A server — or a cache in front of it that ignores the query string, a common misconfiguration — answering every
page request with the same page: ``Client.history``, ``Client.iter_executions``, ``AsyncClient.history`` and a
``ServiceStore`` (``list``, ``history_records``) followed its ``next_cursor`` back to the same page for ever,
asking again and again (and ``Client.history`` piling up the same versions until memory ran out). A page whose
``next_cursor`` does not move past the cursor asked for is now a ``RemoteError`` naming it after the second request,
and an answer that is not a page (a list, no ``versions``) is one too, not a bare ``TypeError``/``KeyError``.

The misbehaving peer is a real uvicorn on 127.0.0.1; it answers 500 after 20 requests so that a client that loops
ends (and fails the test) instead of hanging it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import igniter_nb as ig
from igniter_nb.server import RemoteError

LIMIT = 20
VERSION = {"version": 1, "status": "succeeded", "updated_at": "2026-12-05T00:00:00+00:00",
           "snapshot": {"graph": "Price", "execution_id": "x", "events": []}}
ROW = {"execution_id": "x", "graph": "Price", "status": "succeeded", "correlation": None, "version": 1,
       "updated_at": "2026-12-05T00:00:00+00:00"}


class Cached:
    """An app answering the same page whatever the query (``pages`` by route), counting the requests."""

    def __init__(self, history: Any, executions: Any) -> None:
        self.requests = 0
        self.answers = {"history": history, "executions": executions}

    def app(self) -> Starlette:
        def route(kind: str) -> Callable[[Request], Any]:
            async def answer(request: Request) -> JSONResponse:
                self.requests += 1
                if self.requests > LIMIT:
                    return JSONResponse({"error": "the test's peer stops here", "type": "Stop"}, status_code=500)
                return JSONResponse(self.answers[kind])
            return answer

        return Starlette(routes=[Route("/v1/executions/{eid}/history", route("history")),
                                 Route("/v1/executions", route("executions"))])


@pytest.fixture
def cached(live_app: Any) -> Callable[..., tuple[Cached, str]]:
    def start(history: Any = None, executions: Any = None) -> tuple[Cached, str]:
        peer = Cached(history, executions)
        return peer, live_app(peer.app()).url
    return start


HISTORY_PAGE = {"execution_id": "x", "versions": [VERSION], "limit": 100, "next_cursor": "1"}
EXECUTIONS_PAGE = {"executions": [ROW], "limit": 1000, "next_cursor": "c1", "total": None, "offset": 0,
                   "next_offset": None}


def _loop_refused(exc: pytest.ExceptionInfo[RemoteError], peer: Cached) -> None:
    assert exc.value.status_code == 200 and "next_cursor" in str(exc.value), str(exc.value)
    assert peer.requests == 2


def test_client_history_refuses_a_next_cursor_that_does_not_move(cached: Any) -> None:
    peer, url = cached(history=HISTORY_PAGE)
    with ig.server.Client(url, timeout=10) as client, pytest.raises(RemoteError) as exc:
        client.history("x")
    _loop_refused(exc, peer)


def test_async_client_history_refuses_it_too(cached: Any) -> None:
    peer, url = cached(history=HISTORY_PAGE)

    async def read() -> Any:
        async with ig.server.AsyncClient(url, timeout=10) as client:
            return await client.history("x")

    with pytest.raises(RemoteError) as exc:
        asyncio.run(read())
    _loop_refused(exc, peer)


def test_iter_executions_refuses_the_cursor_it_asked_for_as_next_cursor(cached: Any) -> None:
    peer, url = cached(executions=EXECUTIONS_PAGE)
    with ig.server.Client(url, timeout=10) as client, pytest.raises(RemoteError) as exc:
        list(client.iter_executions())
    _loop_refused(exc, peer)


@pytest.mark.parametrize("read", [lambda s: s.history_records("x"), lambda s: s.list()])
def test_a_service_store_does_not_page_for_ever(cached: Any, read: Callable[[Any], Any]) -> None:
    peer, url = cached(history=HISTORY_PAGE, executions=EXECUTIONS_PAGE)
    with ig.server.Client(url, timeout=10) as client, pytest.raises(RemoteError) as exc:
        read(ig.server.ServiceStore(client))
    assert "next_cursor" in str(exc.value) and peer.requests == 2


@pytest.mark.parametrize(("history", "says"), [
    ([VERSION], "not an object"),
    ({"execution_id": "x", "limit": 100}, "not a page"),
    ({**HISTORY_PAGE, "next_cursor": 7}, "next_cursor"),
    ({**HISTORY_PAGE, "next_cursor": "soon"}, "next_cursor"),
])
def test_an_answer_that_is_not_a_page_is_a_remote_error(cached: Any, history: Any, says: str) -> None:
    _, url = cached(history=history, executions=[ROW])
    with ig.server.Client(url, timeout=10) as client:
        with pytest.raises(RemoteError, match=says):
            client.history("x")
        with pytest.raises(RemoteError, match="not an object"):
            client.executions()
