"""The answer to a request the server stopped before it finished: uvicorn, shutting down, gives the requests in
flight ``timeout_graceful_shutdown`` seconds (10 s under ``igniter-nb serve``) and then cancels them.

Uncaught, that cancellation reaches uvicorn, which logs ``Exception in ASGI application`` with a traceback and
answers ``500 Internal Server Error`` in plain text: a bug's answer and not the documented JSON error, for what is
an operator's stop. :class:`StoppedRequests` answers it ``503`` with the JSON error body (``type``
``ServerStopping``) and ``Retry-After: 1`` instead, logs one warning, and lets the request's task end there.
Whether the work was saved is not known (a node may still have been running on a thread, or its save may already
have been done): the client retries — an event with the same idempotency key is applied once, whichever server
gets it (``Client(retries=N)`` does that itself for the calls safe to repeat).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from igniter_nb.server.encoding import json_bytes

log = logging.getLogger("igniter_nb.server")

#: ``Retry-After`` of the 503: another worker or server (or this one, restarted) may take the retry at once.
RETRY_AFTER_SECONDS = 1
STOPPED = ("the server stopped before this request finished (it was shutting down, and the time it gives requests "
           "in flight ran out): whether it took effect is not known. Retry it (an event with the same "
           "idempotency_key is applied at most once)")


class StoppedRequests:
    """ASGI middleware: a request whose task is cancelled before its answer began gets ``503`` JSON
    (``ServerStopping``) instead of the cancellation reaching the server. An answer already begun (a live stream)
    is cut as before."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except asyncio.CancelledError:
            if started:
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # answered here: the cancellation ends with this request
            log.warning("%s %s stopped by the server's shutdown before it finished: answered 503",
                        scope.get("method"), scope.get("path"))
            with contextlib.suppress(OSError, RuntimeError):  # the client is gone too: nobody to answer
                await _answer_503(send)


async def _answer_503(send: Send) -> None:
    body = json_bytes({"error": STOPPED, "type": "ServerStopping"})
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", str(RETRY_AFTER_SECONDS).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


__all__ = ["RETRY_AFTER_SECONDS", "STOPPED", "StoppedRequests"]
