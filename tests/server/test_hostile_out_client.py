"""The client and remote nodes against a hostile server on the other end: numbers JSON has no words for
(``NaN``, ``Infinity``, ``1e999``), a 200 that is an HTML page, a redirect to another host with credentials.

``json.loads`` reads ``NaN``/``Infinity`` as floats, so a remote node took them as its outputs — a value no
real remote execution could give it (the server writes a non-finite float as the text ``"NaN"``) — and ``Client``
handed them to the caller as if the server had sent JSON. An answer holding one is a ``RemoteError`` naming the
URL and the number, as the server refuses one in a request.
A redirect is not followed (as before) and its error now says where it pointed, the password hidden.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import igniter_nb as ig
from igniter_nb.errors import ResolutionError
from igniter_nb.stores import MemoryStore
from tests.server.live_server import LiveServer
from tests.server.remote_contracts import article

Live = Callable[..., LiveServer]


def _answering(live_app: Live, body: bytes, *, status: int = 200, media_type: str = "application/json",
               headers: dict[str, str] | None = None) -> LiveServer:
    """A server answering every GET and POST with ``body``."""

    async def answer(request: Request) -> Response:
        return Response(body, status_code=status, media_type=media_type, headers=headers)

    return live_app(Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])]))


NOT_JSON_NUMBERS = {"NaN": b"NaN", "Infinity": b"Infinity", "-Infinity": b"-Infinity", "1e999": b"1e999"}


@pytest.mark.parametrize("number", list(NOT_JSON_NUMBERS))
def test_a_number_json_does_not_have_is_a_remote_error_naming_it(live_app: Live, number: str) -> None:
    server = _answering(live_app, b'{"status": "ok", "version": ' + NOT_JSON_NUMBERS[number] + b"}")
    with ig.server.Client(server.url) as client, pytest.raises(ig.server.RemoteError) as info:
        client.health()
    message = str(info.value)
    assert f"GET {server.url}/v1/health" in message and "not JSON" in message and number in message


@pytest.mark.parametrize("number", ["NaN", "Infinity"])
def test_a_remote_node_given_such_outputs_fails_located_and_stores_the_failure(live_app: Live,
                                                                                  number: str) -> None:
    body = b'{"execution_id": "r1", "status": "succeeded", "outputs": {"score": ' + NOT_JSON_NUMBERS[number] + b"}}"
    server = _answering(live_app, body)
    store = MemoryStore()
    contract = article(server.url, "deferred")({"text": "x"}, runner="store", store=store)
    assert contract.status == "failed"
    error = contract.first_error()
    assert isinstance(error, ResolutionError) and error.context["node"] == "sentiment"
    assert server.url in error.message and number in error.message and "not JSON" in error.message
    stored = store.record(contract.execution_id).snapshot
    assert stored["states"]["sentiment"]["status"] == "failed"


def test_the_async_client_refuses_it_too(live_app: Live) -> None:
    import asyncio

    server = _answering(live_app, b'{"status": NaN}')

    async def ask() -> None:
        async with ig.server.AsyncClient(server.url) as client:
            await client.health()

    with pytest.raises(ig.server.RemoteError, match="NaN"):
        asyncio.run(ask())


def test_an_html_page_answered_200_says_what_it_got(live_app: Live) -> None:
    """Regression guard (passes on main): a proxy's HTML page in place of the answer is a RemoteError naming the
    URL, never a JSONDecodeError from inside json."""
    server = _answering(live_app, b"<html><body>Sign in to the proxy</body></html>", media_type="text/html")
    with ig.server.Client(server.url) as client, pytest.raises(ig.server.RemoteError) as info:
        client.status("e1")
    assert f"GET {server.url}/v1/executions/e1" in str(info.value) and "not JSON" in str(info.value)
    assert info.value.status_code == 200


class _Elsewhere(http.server.ThreadingHTTPServer):
    """Another server on 127.0.0.1 recording every request it gets (any method) with its headers."""

    daemon_threads = True

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []
        seen = self.seen

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self) -> None:
                seen.append((self.command, {k.lower(): v for k, v in self.headers.items()}))
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = _any

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def elsewhere() -> Iterator[_Elsewhere]:
    server = _Elsewhere()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_not_followed_and_says_where_it_pointed(live_app: Live, elsewhere: _Elsewhere,
                                                             status: int) -> None:
    """Not following is httpx's default (kept: a client following a 307 would resend the request and its body to
    the other host — this guards it); the error said only "Temporary Redirect", and now names where it pointed."""
    port = elsewhere.server_address[1]
    server = _answering(live_app, b"", status=status,
                        headers={"location": f"http://user:hunter2@127.0.0.1:{port}/v1/health"})
    with ig.server.Client(server.url, token="the-bearer-token") as client, \
            pytest.raises(ig.server.RemoteError) as info:
        client.execute("lead", {"a": 1})
    assert elsewhere.seen == []
    message = str(info.value)
    assert f"HTTP {status}" in message and f"127.0.0.1:{port}/v1/health" in message and "not followed" in message
    assert "hunter2" not in message and info.value.status_code == status


HUGE = 3_000_000


@pytest.mark.parametrize(("status", "body"), [
    (500, {"error": "x" * HUGE, "type": "Boom"}),
    (200, {"execution_id": "r1", "status": "failed", "error": {"message": "x" * HUGE, "node": "score"}}),
], ids=["error answer", "failed remote execution"])
def test_a_huge_remote_message_is_kept_cut_in_the_stored_failure(live_app: Live, status: int, body: Any) -> None:
    """A remote server's error words were kept whole in the node's ``remote_message`` (the ``ResolutionError``'s
    message is cut, its context was not), so 3 MB went into the calling execution's stored snapshot."""
    import json

    server = _answering(live_app, json.dumps(body).encode(), status=status)
    store = MemoryStore()
    contract = article(server.url, "deferred")({"text": "x"}, runner="store", store=store)
    assert contract.status == "failed"
    error = contract.first_error()
    assert isinstance(error, ResolutionError) and error.context["node"] == "sentiment"
    said = error.context["remote_message"]
    assert said.startswith("xxxx") and len(said) < 2100 and "characters left out" in said
    assert len(json.dumps(store.record(contract.execution_id).snapshot, default=str)) < 100_000
