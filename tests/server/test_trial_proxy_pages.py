"""The client against what a proxy or gateway in front of a server answers in its place (real uvicorn on 127.0.0.1).

- An error answer that is an HTML page (nginx's ``502 Bad Gateway``, a load balancer's 503, a login page's 401)
  became a ``RemoteError`` whose message *was* the page: several lines of markup (``<html>\\r\\n<head><title>…``),
  up to 500 characters, also kept as a remote node's ``remote_message``. It now says in one line that an HTML
  page answered and what it says (its ``<title>``, else its first heading, else its text), the page kept whole in
  ``body``. A plain-text error is shown on one line, and an RFC 9457 problem document (``application/problem+json``)
  by its ``detail``/``title``, not as a Python ``repr`` of the object.
- ``contract(name, format="svg"|"mermaid")`` returned whatever a 200 held, any content type: a proxy's HTML login
  page, or the JSON graph of a server that ignores ``format``, came back as if it were the picture. It is a
  ``RemoteError`` (200) naming what came and what was asked for, as ``events`` does for a 200 that is not a stream.
"""

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
from igniter_nb.errors import ResolutionError
from igniter_nb.stores import MemoryStore
from tests.server.live_server import LiveServer
from tests.server.remote_contracts import article

Live = Callable[..., LiveServer]

NGINX_502 = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
             b"</center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n")


def _answering(live_app: Live, body: bytes, *, status: int, media_type: str | None) -> LiveServer:
    """A server answering every GET and POST with ``body`` (``media_type`` None: no Content-Type at all)."""

    async def answer(request: Request) -> Response:
        response = Response(body, status_code=status)
        if media_type is not None:
            response.headers["content-type"] = media_type
        return response

    return live_app(Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])]))


@pytest.mark.parametrize(("status", "media_type", "body", "said"), [
    (502, "text/html", NGINX_502, "502 Bad Gateway"),
    (503, "text/html; charset=utf-8", b"<!DOCTYPE html><html><body>\n<h1>503 Service\n Unavailable</h1>\nNo server "
     b"is available to handle this request.\n</body></html>", "503 Service Unavailable"),
    (401, "text/html", b"<html><head><title>Sign in &amp; continue</title></head><body>" + b"x" * 5000 + b"</body>"
     b"</html>", "Sign in & continue"),
    (404, None, b"  <HTML><BODY><P>Not\r\nfound</P></BODY></HTML>", "Not found"),  # no type, no title or heading
])
def test_an_html_error_page_is_said_in_one_line_and_kept_whole_in_body(live_app: Live, status: int,
                                                                       media_type: str | None, body: bytes,
                                                                       said: str) -> None:
    server = _answering(live_app, body, status=status, media_type=media_type)
    with ig.server.Client(server.url, timeout=5) as client, pytest.raises(ig.server.RemoteError) as caught:
        client.health()
    error = caught.value
    assert error.status_code == status and error.body == body.decode()
    assert "\n" not in str(error) and "\r" not in str(error) and "<" not in error.server_message
    assert error.server_message == f"an HTML page, not the server's JSON error (a proxy or gateway in front of it?): {said}"
    assert str(error) == f"HTTP {status} from GET {server.url}/v1/health: {error.server_message}"


def test_a_plain_text_error_is_one_line(live_app: Live) -> None:
    server = _answering(live_app, b"upstream connect error\nor disconnect/reset before headers.\r\nreset reason: "
                        b"overflow\n", status=503, media_type="text/plain")
    with ig.server.Client(server.url, timeout=5) as client, pytest.raises(ig.server.RemoteError) as caught:
        client.status("e-1")
    assert caught.value.server_message == ("upstream connect error or disconnect/reset before headers. reset reason: "
                                           "overflow")


@pytest.mark.parametrize(("problem", "said"), [
    (b'{"type": "about:blank", "title": "Bad Gateway", "status": 502, "detail": "upstream timed out"}',
     "upstream timed out"),
    (b'{"title": "Bad Gateway", "status": 502}', "Bad Gateway"),
])
def test_a_problem_document_is_said_by_its_detail_or_title(live_app: Live, problem: bytes, said: str) -> None:
    server = _answering(live_app, problem, status=502, media_type="application/problem+json")
    with ig.server.Client(server.url, timeout=5) as client, pytest.raises(ig.server.RemoteError) as caught:
        client.health()
    assert caught.value.server_message == said and caught.value.body["status"] == 502


def test_a_remote_node_keeps_the_one_line_not_the_page(live_app: Live) -> None:
    server = _answering(live_app, NGINX_502, status=502, media_type="text/html")
    contract = article(server.url)({"text": "x"}, runner="store", store=MemoryStore())
    assert contract.status == "failed"
    error = contract.first_error()
    assert isinstance(error, ResolutionError) and error.context["node"] == "sentiment"
    assert error.context["http_status"] == 502 and "\n" not in error.message
    assert error.context["remote_message"].endswith(": 502 Bad Gateway")


@pytest.mark.parametrize(("media_type", "body", "fmt"), [
    ("text/html", b"<html><head><title>Sign in</title></head></html>", "svg"),
    ("application/json", b'{"name": "Price", "nodes": []}', "svg"),  # a server that ignores ?format=
    ("text/html", b"<html><head><title>Sign in</title></head></html>", "mermaid"),
    ("image/svg+xml", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "mermaid"),
    (None, b"graph TD", "mermaid"),
])
def test_a_picture_of_another_content_type_is_a_remote_error(live_app: Live, media_type: str | None, body: bytes,
                                                             fmt: str) -> None:
    server = _answering(live_app, body, status=200, media_type=media_type)
    expected = {"svg": "image/svg+xml", "mermaid": "text/plain"}[fmt]
    with ig.server.Client(server.url, timeout=5) as client, pytest.raises(ig.server.RemoteError) as caught:
        client.contract("price", format=fmt)
    assert caught.value.status_code == 200 and caught.value.body == body.decode()
    assert str(caught.value) == (f"HTTP 200 from GET {server.url}/v1/contracts/price: answered "
                                 f"{media_type or 'no content type'}, not {expected} (format={fmt!r})")


def test_the_async_client_says_the_same(live_app: Live) -> None:
    pages = _answering(live_app, NGINX_502, status=502, media_type="text/html")

    async def ask() -> tuple[Any, Any]:
        async with ig.server.AsyncClient(pages.url, timeout=5) as client:
            with pytest.raises(ig.server.RemoteError) as failed:
                await client.health()
            with pytest.raises(ig.server.RemoteError) as wrong:
                await client.contract("price", format="svg")
        return failed.value, wrong.value

    failed, wrong = asyncio.run(ask())
    assert failed.server_message.endswith(": 502 Bad Gateway")
    assert wrong.status_code == 502  # (an error answer stays the error, whatever was asked)


def test_the_real_server_pictures_still_come_through(live_app: Live) -> None:
    from tests.server.server_contracts import CONTRACTS

    server = live_app(ig.server.create_app(CONTRACTS, store=MemoryStore()))
    with ig.server.Client(server.url, timeout=10) as client:
        assert client.contract("price", format="svg").lstrip().startswith("<svg")
        assert "gross" in client.contract("price", format="mermaid")


def test_a_hostile_page_is_read_only_as_far_as_its_head(live_app: Live) -> None:
    """Its words are looked for in its first ``error_pages.READ`` characters: the patterns scan on from each opening
    tag, and a page of a megabyte of unclosed ``<title><head`` made that quadratic (minutes of CPU for one error)."""
    from igniter_nb.server.error_pages import READ

    page = b"<html>" + b"<title><head<h1>" * 65_536 + b"</title>"
    server = _answering(live_app, page, status=502, media_type="text/html")
    with ig.server.Client(server.url, timeout=10) as client, pytest.raises(ig.server.RemoteError) as caught:
        client.health()
    assert caught.value.server_message.startswith("an HTML page") and len(caught.value.server_message) < 400
    assert caught.value.body == page.decode() and len(page) > 100 * READ
