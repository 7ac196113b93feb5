"""``BodySizeLimit``: a pure ASGI middleware that answers 413 once a request body passes a byte limit.

It counts the bytes as they arrive, so a chunked body (no ``Content-Length``) or one whose ``Content-Length``
understates it is cut off as soon as the count passes the limit; a declared ``Content-Length`` above the limit
is refused before anything is read. The answer is the server's JSON error body, never plain text.

It also bounds the time a body takes: a body not complete ``body_timeout`` seconds (30 unless set) after the
request reached the app gets a 408 ``RequestTimeout`` that closes the connection — a client trickling its body a
byte at a time (a slow-loris), or sending part of it and then nothing, held the request and its connection for as
long as it liked. Once the body is complete, reading the connection (a live stream waiting for a disconnect) is
not bounded.

Starlette ships a ``RequestBodyLimitMiddleware`` that counts the same way, but it answers an oversized
``Content-Length`` with a plain-text 413 of its own, and every error here is JSON.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when the body passes the limit. An ``HTTPException``, so FastAPI's body reader
    lets it through and the route answers it (or, failing that, the middleware does)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than the limit of {limit} bytes")
        self.limit = limit


#: Seconds a request body may take to arrive whole, unless ``body_timeout`` says otherwise.
BODY_TIMEOUT = 30.0


class BodyTimedOut(HTTPException):
    """Raised from ``receive`` when the body is not complete within ``body_timeout`` seconds (408)."""

    def __init__(self, limit: float, received: int, expected: int | None) -> None:
        of = f"{received} of {expected}" if expected is not None else f"{received} (chunked)"
        super().__init__(408, f"the request body did not arrive within {limit:g} s (body_timeout): {of} bytes came",
                         headers={"Connection": "close"})
        self.limit, self.received, self.expected = limit, received, expected

    def context(self) -> dict[str, Any]:
        return {"limit": self.limit, "received": self.received, "expected": self.expected}


def check_body_timeout(value: Any) -> float:
    """``value`` as a number of seconds > 0; ``ValueError`` naming ``body_timeout`` otherwise."""
    if (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0):
        raise ValueError(f"body_timeout must be a finite number of seconds > 0, got {value!r:.80}")
    return float(value)


def _too_large_body(limit: int) -> bytes:
    return json.dumps({"error": f"request body is larger than the limit of {limit} bytes",
                       "type": "ContentTooLarge", "limit": limit}).encode()


class BodySizeLimit:
    """Wrap ``app`` so no request body larger than ``max_body_bytes`` reaches it."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, body_timeout: float = BODY_TIMEOUT) -> None:
        if type(max_body_bytes) is not int or max_body_bytes < 1:  # (0: every request with a body gets 413)
            raise ValueError(f"max_body_bytes must be an int >= 1 (bytes), got {max_body_bytes!r:.80}")
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = check_body_timeout(body_timeout)

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
        complete = False  # the whole body came (or the client left): later reads are not bounded
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout

        async def counted_receive() -> Message:
            nonlocal received, complete
            if complete:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTimedOut(self.body_timeout, received, declared) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
                complete = not message.get("more_body", False)
            else:
                complete = True
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
        except BodyTimedOut as exc:
            if started:
                raise
            await _answer(send, 408, {"error": exc.detail, "type": "RequestTimeout", **exc.context()})


async def _answer_413(send: Send, limit: int) -> None:
    await _answer(send, 413, json.loads(_too_large_body(limit)))


async def _answer(send: Send, status: int, content: dict[str, Any]) -> None:
    body = json.dumps(content).encode()
    await send({"type": "http.response.start", "status": status,
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


__all__ = ["BODY_TIMEOUT", "BodySizeLimit", "BodyTimedOut", "BodyTooLarge", "check_body_timeout"]
