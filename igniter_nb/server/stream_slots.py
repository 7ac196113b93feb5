"""How many live streams (``GET /v1/executions/{id}/events``) one app — one worker process — keeps open at once.

Each open stream holds a connection, a task and a watch on the store's change feed for up to
``stream_idle_seconds``; without a cap, clients that open streams and never read them can take every socket and
file descriptor of a worker. Past ``max_streams`` a request for a stream gets ``503`` with ``Retry-After`` and a
JSON body (docs/server.md, "Limits"). Counted in the event loop (async code, no lock needed): the count goes up
when the stream's response is made and down when it ends, however it ends (finished, idle, client gone, error).
"""

from __future__ import annotations

from typing import Any

from sse_starlette import EventSourceResponse
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from igniter_nb.server.routing import error_response

#: What a refused client is told to wait before trying again, in seconds.
RETRY_AFTER_SECONDS = 5


def check_max_streams(max_streams: int) -> int:
    if type(max_streams) is not int or max_streams < 1:
        raise ValueError(f"max_streams must be an int >= 1, got {max_streams!r:.80}")
    return max_streams


class StreamSlots:
    """The open streams of one app and their limit."""

    def __init__(self, limit: int) -> None:
        self.limit = check_max_streams(limit)
        self.open = 0

    def refusal(self) -> Response | None:
        """The 503 answer when every slot is taken, else None."""
        if self.open < self.limit:
            return None
        return error_response(
            503, f"this server process already has {self.open} live streams open, its limit (max_streams="
            f"{self.limit}); retry in a few seconds", "TooManyStreams",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)}, limit=self.limit)

    def stream(self, messages: Any, **options: Any) -> EventSourceResponse:
        """The stream's response, holding a slot until it ends."""
        return _CountedStream(self, messages, **options)


def stream_headers() -> Response:
    """The answer to ``HEAD`` on a stream: the status and headers a stream would start with, no body, and the
    stream never opened (older sse-starlette versions stream on HEAD, and a stream never ends by itself)."""
    return _HeadersOnly(EventSourceResponse(iter(())))


class _HeadersOnly(Response):
    def __init__(self, like: Response) -> None:  # not Response.__init__: it would add Content-Length: 0
        self.status_code = like.status_code
        self.raw_headers = like.raw_headers
        self.background = None
        self.body = b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": b""})


class _CountedStream(EventSourceResponse):
    def __init__(self, slots: StreamSlots, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._slots = slots
        slots.open += 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._slots.open -= 1


__all__ = ["RETRY_AFTER_SECONDS", "StreamSlots", "check_max_streams", "stream_headers"]
