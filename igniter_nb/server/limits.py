"""``BodySizeLimit``: a pure ASGI middleware that answers 413 once a request body passes a byte limit.

It counts the bytes as they arrive, so a chunked body (no ``Content-Length``) or one whose ``Content-Length``
understates it is cut off as soon as the count passes the limit; a declared ``Content-Length`` above the limit
is refused before anything is read. The answer is the server's JSON error body, never plain text.

Starlette ships a ``RequestBodyLimitMiddleware`` that counts the same way, but it answers an oversized
``Content-Length`` with a plain-text 413 of its own, and every error here is JSON.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when the body passes the limit. An ``HTTPException``, so FastAPI's body reader
    lets it through and the route answers it (or, failing that, the middleware does)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than the limit of {limit} bytes")
        self.limit = limit


def _too_large_body(limit: int) -> bytes:
    return json.dumps({"error": f"request body is larger than the limit of {limit} bytes",
                       "type": "ContentTooLarge", "limit": limit}).encode()


class BodySizeLimit:
    """Wrap ``app`` so no request body larger than ``max_body_bytes`` reaches it."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        if type(max_body_bytes) is not int or max_body_bytes < 0:
            raise ValueError(f"max_body_bytes must be an int >= 0, got {max_body_bytes!r}")
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _answer_413(send, limit)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if started:  # the app answered before reading all of the body: nothing more to say
                raise
            await _answer_413(send, limit)


async def _answer_413(send: Send, limit: int) -> None:
    body = _too_large_body(limit)
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


__all__ = ["BodySizeLimit", "BodyTooLarge"]
