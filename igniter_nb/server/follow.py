"""Following an execution's live stream from a client: ``Client.events`` and ``AsyncClient.events``.

The stream (``GET /v1/executions/{id}/events``, server-sent events parsed by ``httpx-sse``) sends the
execution's events with their ``seq`` as the event id, ``status`` messages and a final ``end``. A dropped
connection is opened again with ``Last-Event-ID`` = the last event id received, so the caller misses nothing and
sees no event twice; the server closing a quiet stream is re-opened the same way. ``reconnects`` bounds how many
attempts in a row may fail (no message received) before ``RemoteConnectionError``; a ``503 ServerStopping`` (the
server cut the request off as it stopped) is such a failed attempt, raised as ``RemoteError`` once none are left;
any other HTTP error answer (401, 404, 422) is raised at once as ``RemoteError``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import httpx
from httpx_sse import aconnect_sse, connect_sse

from igniter_nb.server.client_base import read_json
from igniter_nb.server.errors import RemoteConnectionError, RemoteError
from igniter_nb.server.stopping_retry import retry_later

if TYPE_CHECKING:
    from igniter_nb.server.client import AsyncClient, Client, _Call

#: Seconds a quiet stream may go without a byte (the server pings every 15 s) before the client reconnects.
READ_TIMEOUT = 60.0
_MAX_DELAY = 10.0


@dataclass(frozen=True, slots=True)
class StreamMessage:
    """One message of an execution's stream.

    ``kind``: ``"event"`` (an execution event: ``data`` has ``seq``, ``type``, ``node``, ``path``, ``status``,
    ``payload``, ``timestamp``, ``version``; ``id`` is its ``seq`` as text), ``"status"`` (``data``:
    ``execution_id``, ``version``, ``status``, ``last_seq``, ``updated_at``) or ``"end"`` (the execution finished or
    was deleted; nothing follows)."""

    kind: Literal["event", "status", "end"]
    id: str | None
    data: dict[str, Any]


def _event_id(value: int | str | None) -> str | None:
    """``value`` as the stream writes event ids (ASCII decimal digits), or ``ValueError`` naming it."""
    if value is None:
        return None
    text = str(value) if type(value) is int else value
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        raise ValueError(f"last_event_id must be an event seq (an int >= 0), got {value!r:.80}")
    return str(int(text))


class _Follow:
    """What one ``events()`` iteration remembers across connections: the last event id, and failures in a row."""

    def __init__(self, owner: Client | AsyncClient, call: _Call, last_event_id: int | str | None, reconnects: int,
                 read_timeout: float) -> None:
        if type(reconnects) is not int or reconnects < 0:
            raise ValueError(f"reconnects must be an int >= 0, got {reconnects!r}")
        if isinstance(read_timeout, bool) or not isinstance(read_timeout, int | float) or not read_timeout > 0:
            raise ValueError(f"read_timeout must be a number of seconds > 0, got {read_timeout!r:.80}")
        self.owner = owner
        self.call = call
        self.last_event_id = _event_id(last_event_id)
        self.reconnects = reconnects
        base = owner.timeout
        self.timeout = httpx.Timeout(connect=base.connect, read=read_timeout, write=base.write, pool=base.pool)
        self.failures = 0
        self.delay = 1.0  # the server's `retry` hint (seconds) once it sent one
        self.received = False  # a message arrived on the current connection

    def headers(self) -> dict[str, str]:
        self.received = False
        return {"Last-Event-ID": self.last_event_id} if self.last_event_id is not None else {}

    def finished(self, response: httpx.Response) -> bool | None:
        """True for 204 (the execution finished and every event was seen), False for a stream to read, None for
        a ``503 ServerStopping`` or ``StoreUnavailable`` while attempts are left (the server cut the request off as
        it stopped, or its store did not answer: open the stream again, an attempt that brought nothing); raises for
        any other error answer."""
        if response.status_code == 204:
            return True
        if retry_later(response) and self.failures < self.reconnects:
            return None
        if not response.is_success:
            raise self.owner._failure(self.call, response)
        media = response.headers.get("content-type", "").partition(";")[0].strip()
        if media != "text/event-stream":
            raise RemoteError(f"GET {self.owner._url(self.call)} answered {media or 'no content type'}, not an event "
                              "stream", status_code=response.status_code, url=self.owner._url(self.call))
        return False

    def message(self, sse: Any) -> StreamMessage:
        self.received = True
        self.failures = 0
        if sse.retry is not None and sse.retry > 0:
            self.delay = min(sse.retry / 1000, _MAX_DELAY)
        try:
            data = read_json(sse.data)
        except ValueError as exc:
            raise RemoteError(f"the stream of {self.owner._url(self.call)} sent data that is {exc}: "
                              f"{sse.data[:200]!r}", status_code=200, url=self.owner._url(self.call)) from None
        if sse.event in ("status", "end"):
            return StreamMessage(sse.event, None, data)
        self.last_event_id = sse.id or self.last_event_id
        return StreamMessage("event", sse.id or None, data)

    def again(self, exc: httpx.HTTPError | None) -> float:
        """Seconds to wait before opening the stream again (the connection dropped, or the server closed a quiet
        stream); ``RemoteConnectionError`` once ``reconnects`` attempts in a row brought nothing."""
        if not self.received:
            self.failures += 1
        if self.failures > self.reconnects:
            if exc is not None:
                raise self.owner._unreachable(self.call, exc) from exc
            url = self.owner._url(self.call)
            raise RemoteConnectionError(f"the stream of {url} closed {self.failures} times in a row without a message",
                                        url=url, method="GET")
        return min(self.delay * 2 ** max(self.failures - 1, 0), _MAX_DELAY)


def follow(owner: Client, call: _Call, last_event_id: int | str | None, reconnects: int,
           read_timeout: float) -> Iterator[StreamMessage]:
    """The messages of the stream ``call`` opens; bad arguments raise here, at the call, not at the first
    ``next()`` (a generator would check them only once iterated)."""
    return _follow(owner, call, _Follow(owner, call, last_event_id, reconnects, read_timeout))


def _follow(owner: Client, call: _Call, state: _Follow) -> Iterator[StreamMessage]:
    while True:
        error: httpx.HTTPError | None = None
        try:
            with connect_sse(owner._repeatable, "GET", call.path, headers=state.headers(),
                             timeout=state.timeout) as source:
                if not source.response.is_success:
                    source.response.read()
                opened = state.finished(source.response)
                if opened:
                    return
                if opened is False:
                    for sse in source.iter_sse():
                        message = state.message(sse)
                        yield message
                        if message.kind == "end":
                            return
        except httpx.HTTPError as exc:
            error = exc
        time.sleep(state.again(error))


def afollow(owner: AsyncClient, call: _Call, last_event_id: int | str | None, reconnects: int,
            read_timeout: float) -> AsyncIterator[StreamMessage]:
    """:func:`follow` for an ``AsyncClient``: bad arguments raise at the call."""
    return _afollow(owner, call, _Follow(owner, call, last_event_id, reconnects, read_timeout))


async def _afollow(owner: AsyncClient, call: _Call, state: _Follow) -> AsyncIterator[StreamMessage]:
    while True:
        error: httpx.HTTPError | None = None
        try:
            async with aconnect_sse(owner._repeatable, "GET", call.path, headers=state.headers(),
                                    timeout=state.timeout) as source:
                if not source.response.is_success:
                    await source.response.aread()
                opened = state.finished(source.response)
                if opened:
                    return
                if opened is False:
                    async for sse in source.aiter_sse():
                        message = state.message(sse)
                        yield message
                        if message.kind == "end":
                            return
        except httpx.HTTPError as exc:
            error = exc
        await asyncio.sleep(state.again(error))


__all__ = ["READ_TIMEOUT", "StreamMessage", "afollow", "follow"]
