"""Following an execution's live stream from a client: ``Client.events`` and ``AsyncClient.events``.

The stream (``GET /v1/executions/{id}/events``, server-sent events parsed by ``httpx-sse``) sends the
execution's events with ``<seq>-<epoch>`` as the event id (the epoch tells apart an execution deleted and saved
anew under the same id, whose seqs start at 1 again: an event of a new epoch is no replay), ``status`` messages
and a final ``end``. A dropped
connection is opened again with ``Last-Event-ID`` = the last event id received, so the caller misses nothing and
sees no event twice; the server closing a quiet stream is re-opened the same way. An event whose id is at or
below the last one yielded (or the ``last_event_id`` given) is dropped: a server or proxy replaying events after
a reconnect does not show the caller an event twice, and a replay is no new message (it neither resets the idle
deadline nor makes an attempt count as one that brought something). ``reconnects`` bounds how many
attempts in a row may fail (no message received) before ``RemoteConnectionError``; a ``503 ServerStopping`` (the
server cut the request off as it stopped) is such a failed attempt, raised as ``RemoteError`` once none are left;
any other HTTP error answer (401, 404, 422) is raised at once as ``RemoteError``.

``read_timeout`` is the stream's idle deadline: the longest it may go without a message or a keep-alive comment
(the server pings every 15 s). Bytes that are neither — a server trickling a line that never ends, blank lines, a
field without data — do not reset it, so a stuck or hostile peer cannot hold the caller. Past it the connection
counts as dropped: opened again with ``Last-Event-ID``, and ``reconnects`` silent attempts in a row raise
``RemoteConnectionError(timeout=True)`` naming the URL. Lines are read by ``sse_parse.py``: a block without data
is no message (httpx-sse's parser made one of a ping's blank line once an event id was seen: ``not JSON``).
"""

from __future__ import annotations

import asyncio
import re
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import httpx
from httpx_sse import ServerSentEvent, aconnect_sse, connect_sse

from igniter_nb.server.client_base import read_json
from igniter_nb.server.errors import AnswerTooLargeError, RemoteConnectionError, RemoteError
from igniter_nb.server.sse_parse import COMMENT, Blocks, Lines, MessageTooLarge
from igniter_nb.server.stopping_retry import retry_later
from igniter_nb.server.total_timeout import LONGEST_WAIT, seconds, until

if TYPE_CHECKING:
    from igniter_nb.server.client import AsyncClient, Client, _Call

#: The longest line, and message data, a stream may send (characters) when the client has no ``max_answer_bytes``.
MAX_MESSAGE = 64 * 1024 * 1024
#: Seconds a stream may go without a message or a keep-alive comment (the server pings every 15 s) before the
#: client counts the connection as dropped and reconnects.
READ_TIMEOUT = 60.0
#: The longest wait before opening a stream again (seconds), whatever its ``retry:`` field says.
MAX_DELAY = 10.0
#: The shortest wait before an attempt that follows one which brought nothing (seconds): ``retry: 0`` reconnects
#: at once after a connection that brought messages, never in a tight loop of failing ones.
MIN_BACKOFF = 0.05


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
    #: The event id as the stream wrote it (``<seq>-<epoch>``; a plain seq from older servers): give it as
    #: ``last_event_id`` to resume after this event — an id of an execution since deleted and saved anew under
    #: the same id resumes at the new one's first event. None for ``status`` and ``end``.
    resume_id: str | None = None


#: An event id: a seq (ASCII digits), then ``-`` and the execution's epoch (8 lowercase hex digits) from servers
#: that write one (docs/server.md, "Event ids").
_ID = re.compile(r"([0-9]+)(?:-([0-9a-f]{8}))?", re.ASCII)


def _event_id(value: int | str | None) -> str | None:
    """``value`` as the stream writes event ids (``<seq>`` or ``<seq>-<epoch>``), or ``ValueError`` naming it."""
    if value is None:
        return None
    text = str(value) if type(value) is int else value
    found = _ID.fullmatch(text) if isinstance(text, str) else None
    seq = found[1].lstrip("0") or "0" if found else ""  # (without int(): past 4,300 digits it raises)
    if found is None or len(seq) > 15:  # (the server takes a seq of 1-15 digits)
        raise ValueError(f"last_event_id must be an event seq (an int >= 0) or an event id as the stream wrote it "
                         f"(StreamMessage.resume_id, '<seq>-<epoch>'), got {value!r:.80}")
    return seq if found[2] is None else f"{seq}-{found[2]}"


def _seq_key(text: str) -> tuple[int, str]:
    """An event id (ASCII decimal digits) as a key that orders like its number, without ``int()`` (a peer's id of
    thousands of digits is past what ``int()`` reads)."""
    digits = text.lstrip("0") or "0"
    return len(digits), digits


class _Follow:
    """What one ``events()`` iteration remembers across connections: the last event id, and failures in a row."""

    def __init__(self, owner: Client | AsyncClient, call: _Call, last_event_id: int | str | None, reconnects: int,
                 read_timeout: float) -> None:
        if type(reconnects) is not int or reconnects < 0:
            raise ValueError(f"reconnects must be an int >= 0, got {reconnects!r}")
        if not seconds(read_timeout):  # (nan, inf and an int past a float's range are no deadline)
            raise ValueError(f"read_timeout must be a number of seconds > 0, got {read_timeout!r:.80}")
        self.owner = owner
        self.call = call
        self.last_event_id = _event_id(last_event_id)
        seq, _, epoch = (self.last_event_id or "").partition("-")
        # the highest event seq yielded (or given): an event at or below it is a replay, dropped — unless its id
        # names another epoch (the execution was deleted and saved anew: its seqs start at 1 again)
        self.seen = _seq_key(seq) if seq else None
        self.epoch = epoch or None
        self.reconnects = reconnects
        base = owner.timeout
        read = float(read_timeout) if read_timeout < LONGEST_WAIT else None  # (a socket wait of 1e300 s overflows)
        self.timeout = httpx.Timeout(connect=base.connect, read=read, write=base.write, pool=base.pool)
        self.failures = 0
        self.delay = 1.0  # the server's `retry` hint (seconds) once it sent one
        self.received = False  # a message arrived on the current connection
        self.idle = float(read_timeout)
        self.limit = owner.max_answer_bytes or MAX_MESSAGE  # (characters of one line, or of one message's data)
        self.too_large: AnswerTooLargeError | None = None
        self.deadline = 0.0  # (time.monotonic) the current connection's idle deadline

    def alive(self) -> None:
        """A message or a keep-alive arrived: the idle deadline starts again."""
        self.deadline = time.monotonic() + self.idle

    def silent(self) -> httpx.ReadTimeout:
        return httpx.ReadTimeout(f"no message and no keep-alive within read_timeout={self.idle:g}s")

    def check(self) -> None:
        """``ReadTimeout`` once the idle deadline passed (after a chunk that brought no message nor keep-alive in
        time: a transport whose socket waits the deadline cannot cut, or bytes trickling in)."""
        if time.monotonic() >= self.deadline:
            raise self.silent()

    def events(self, lines: Lines, blocks: Blocks, text: str) -> list[ServerSentEvent]:
        """The messages ``text`` (the next chunk of the stream) completes; a comment line is a keep-alive."""
        done: list[ServerSentEvent] = []
        try:
            for line in lines.feed(text):
                sse = blocks.line(line)
                if sse is COMMENT:
                    self.alive()
                elif isinstance(sse, ServerSentEvent) and not self.replayed(sse):
                    self.alive()
                    done.append(sse)
            if lines.too_long is not None:
                raise MessageTooLarge(lines.too_long)
        except MessageTooLarge as exc:  # (not opened again: the server would send it again)
            url = self.owner._url(self.call)
            said = "max_answer_bytes=" if self.owner.max_answer_bytes else "the stream's limit, MAX_MESSAGE="
            self.too_large = AnswerTooLargeError(f"the stream of {url} sent {exc} ({said}{self.limit}); nothing more "
                                                 "was read", url=url, limit=self.limit)  # (after the messages before)
        if blocks.retry is not None:  # (any ASCII digits, 0 included, as the standard says)
            self.delay = min(blocks.retry / 1000, MAX_DELAY)
        return done

    def replayed(self, sse: ServerSentEvent) -> bool:
        """Whether ``sse`` is an event whose id is at or below the highest one already taken (a server or a proxy
        sending it again after a reconnect); otherwise its id becomes that highest one. An id that is not an event
        seq is left to :meth:`message`, which refuses it."""
        found = _ID.fullmatch(sse.id or "")
        if sse.event in ("status", "end") or found is None:
            return False
        if found[2] is not None and found[2] != self.epoch:
            if self.epoch is not None:  # a new incarnation: its seqs start again
                self.seen = None
            self.epoch = found[2]
        key = _seq_key(found[1])
        if self.seen is not None and key <= self.seen:
            return True
        self.seen = key
        return False

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
        try:
            data = read_json(sse.data)
        except ValueError as exc:
            raise RemoteError(f"the stream of {self.owner._url(self.call)} sent data that is {exc}: "
                              f"{sse.data[:200]!r}", status_code=200, url=self.owner._url(self.call)) from None
        if not isinstance(data, dict):  # (every message the server sends is an object: `data` promises one)
            raise RemoteError(f"the stream of {self.owner._url(self.call)} sent data that is not a JSON object: "
                              f"{sse.data[:200]!r}", status_code=200, url=self.owner._url(self.call))
        if sse.event in ("status", "end"):
            return StreamMessage(sse.event, None, data)
        found = _ID.fullmatch(sse.id) if sse.id else None
        if sse.id and found is None:  # (sent back as Last-Event-ID: it must be an event id)
            raise RemoteError(f"the stream of {self.owner._url(self.call)} sent an event id that is not an event seq: "
                              f"{sse.id[:80]!r}", status_code=200, url=self.owner._url(self.call))
        self.last_event_id = sse.id or self.last_event_id
        return StreamMessage("event", found[1] if found else None, data, sse.id or None)

    def again(self, exc: httpx.HTTPError | None) -> float:
        """Seconds to wait before opening the stream again (the connection dropped, or the server closed a quiet
        stream); ``RemoteConnectionError`` once ``reconnects`` attempts in a row brought nothing."""
        if not self.received:
            self.failures += 1
        if self.failures > self.reconnects:
            url = self.owner._url(self.call)
            if isinstance(exc, httpx.ReadTimeout):
                times = "once" if self.failures == 1 else f"{self.failures} times in a row"
                raise RemoteConnectionError(f"the stream of {url} sent no message and no keep-alive within "
                                            f"read_timeout={self.idle:g}s ({times})", url=url, timeout=True,
                                            sent=True, method="GET", read_timeout=self.idle) from exc
            if exc is not None:
                raise self.owner._unreachable(self.call, exc) from exc
            raise RemoteConnectionError(f"the stream of {url} closed {self.failures} times in a row without a message",
                                        url=url, method="GET")
        if not self.failures:  # the connection brought messages: the stream's reconnection time, as it set it
            return self.delay
        return min(max(self.delay, MIN_BACKOFF) * 2 ** (self.failures - 1), MAX_DELAY)


class StreamTimeoutWarning(RuntimeWarning):
    """``Client.events`` cannot cut a read its transport blocks in at ``read_timeout``: a transport of the caller's
    (``httpx.MockTransport``, any without the socket the client bounds). The idle deadline is then checked only
    when a chunk arrives. Raised as an error with ``warnings.simplefilter("error", ig.server.StreamTimeoutWarning)``;
    ``AsyncClient.events`` cuts any transport and never warns."""


def _warn_unbounded(owner: Client, call: _Call, state: _Follow) -> None:
    """:class:`StreamTimeoutWarning` at the caller's line when ``owner``'s transport waits where the idle deadline
    cannot reach (it is cut inside httpcore's network backend, which only an ``httpx.HTTPTransport`` has)."""
    from igniter_nb.server.total_timeout import _Backend

    transport = getattr(owner._repeatable, "_transport", None)
    if isinstance(getattr(getattr(transport, "_pool", None), "_network_backend", None), _Backend):
        return
    warnings.warn(f"Client.events({owner._url(call)!r:.200}): read_timeout={state.idle:g}s cannot cut a read the "
                  f"transport ({type(transport).__name__}) blocks in: it has no socket the client bounds, so the idle "
                  "deadline is checked only when a chunk arrives (AsyncClient.events cuts any transport)",
                  StreamTimeoutWarning, stacklevel=4)


def follow(owner: Client, call: _Call, last_event_id: int | str | None, reconnects: int,
           read_timeout: float) -> Iterator[StreamMessage]:
    """The messages of the stream ``call`` opens; bad arguments raise here, at the call, not at the first
    ``next()`` (a generator would check them only once iterated); so does :class:`StreamTimeoutWarning`."""
    state = _Follow(owner, call, last_event_id, reconnects, read_timeout)
    if state.timeout.read is not None:  # (past LONGEST_WAIT there is no deadline to enforce)
        _warn_unbounded(owner, call, state)
    return _follow(owner, call, state)


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
                    for sse in _read(source.response, state):
                        message = state.message(sse)
                        yield message
                        if message.kind == "end":
                            return
        except httpx.HTTPError as exc:
            error = exc
        time.sleep(state.again(error))


def _read(response: httpx.Response, state: _Follow) -> Iterator[ServerSentEvent]:
    """The messages of one connection, each socket wait cut to the idle deadline (set around each read only: a
    context variable set across a ``yield`` would leak into the caller)."""
    lines, blocks = Lines(state.limit), Blocks(state.limit)
    chunks = response.iter_text()
    state.alive()
    while True:
        with until(state.deadline):
            try:
                text = next(chunks)
            except StopIteration:
                return
            except httpx.TimeoutException:
                raise state.silent() from None
        done = state.events(lines, blocks, text)
        if not done:
            state.check()
        yield from done
        if state.too_large is not None:
            raise state.too_large


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
                    async for sse in _aread(source.response, state):
                        message = state.message(sse)
                        yield message
                        if message.kind == "end":
                            return
        except httpx.HTTPError as exc:
            error = exc
        await asyncio.sleep(state.again(error))


async def _aread(response: httpx.Response, state: _Follow) -> AsyncIterator[ServerSentEvent]:
    """:func:`_read` for an ``AsyncClient``: each read cancelled at the idle deadline."""
    lines, blocks = Lines(state.limit), Blocks(state.limit)
    chunks = response.aiter_text()
    loop = asyncio.get_running_loop()
    state.alive()
    try:
        while True:
            try:
                async with asyncio.timeout_at(loop.time() + (state.deadline - time.monotonic())):
                    text = await anext(chunks)
            except StopAsyncIteration:
                return
            except (TimeoutError, httpx.TimeoutException):
                raise state.silent() from None
            done = state.events(lines, blocks, text)
            if not done:
                state.check()
            for sse in done:
                yield sse
            if state.too_large is not None:
                raise state.too_large
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]


__all__ = ["MAX_DELAY", "MAX_MESSAGE", "MIN_BACKOFF", "READ_TIMEOUT", "StreamMessage", "StreamTimeoutWarning", "afollow",
           "follow"]
