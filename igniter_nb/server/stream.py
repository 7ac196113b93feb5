"""The live stream of one execution: ``GET /v1/executions/{id}/events`` as server-sent events (sse-starlette),
fed by the stores' change feed (``igniter_nb.stores.awatch``), so a version saved by any worker or process shows up.

What the stream sends (docs/server.md, "The live stream"):

- ``event: status`` (no id) — ``{execution_id, version, status, last_seq, updated_at}``: first, then after each
  new stored version;
- one plain message per execution event, oldest first, **id = the event's ``seq``** — the events after
  ``Last-Event-ID`` (all of them without the header), then each new one as versions are saved;
- ``event: end`` — ``{execution_id, version, status, last_seq, reason}`` once the execution is finished (or
  deleted); then the server closes the stream.

Each event is sent once per connection, and a client reconnecting with ``Last-Event-ID: <last seq seen>``
continues with the next one: the event log is cumulative, so the latest stored version holds every event.

An event's id is ``<seq>-<epoch>``: the epoch (:func:`epoch`) tells the execution's incarnations apart, for an
execution deleted and saved anew under the same id starts its seqs at 1 again. A ``Last-Event-ID`` of another
incarnation starts the stream at the first event; a plain ``<seq>`` (ids of streams before epochs) resumes after
that seq, as it did.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from igniter_nb.errors import IgniterError, SnapshotNotFoundError, StoreArgumentError
from igniter_nb.server.callbacks import redact_event
from igniter_nb.server.encoding import json_safe
from igniter_nb.server.errors import RequestProblem
from igniter_nb.stores.base import FINISHED_STATUSES as FINISHED

log = logging.getLogger("igniter_nb.server")

#: Seconds between keep-alive comments; a client may treat twice this without a byte as a dropped connection.
PING_SECONDS = 15.0
#: The reconnection delay the stream suggests to browsers (``retry:``), in milliseconds.
RETRY_MS = 1000
#: A stream with no new version for this long is closed (the client reconnects with ``Last-Event-ID``).
IDLE_SECONDS = 300.0
#: A client that does not take a message within this long is dropped.
SEND_TIMEOUT = 30.0
#: A quiet stream re-reads its execution this often (at most half of its idle time): the change feed compares version
#: numbers only, so an execution deleted and saved anew at a version not past the one sent is seen only so.
RECHECK_SECONDS = 5.0


def _last_seq(snapshot: Mapping[str, Any]) -> int:
    events = snapshot.get("events") or ()
    return int(events[-1]["seq"]) if events else 0


#: A ``Last-Event-ID`` the stream takes: an event id as it writes them (``<seq>-<epoch>``), or a plain ``<seq>``.
LAST_EVENT_ID = r"^[0-9]{1,15}(-[0-9a-f]{8})?$"


def epoch(snapshot: Mapping[str, Any]) -> str | None:
    """Which incarnation of its execution ``snapshot`` belongs to (8 hex digits; None before its first event): a
    digest of its first event (type, time, payload), which an execution deleted and saved anew under the same id
    does not share — and a copy of the same log restored under it does, rightly."""
    events = snapshot.get("events")
    if not isinstance(events, list | tuple) or not events:
        return None
    try:
        text = json.dumps(events[0], sort_keys=True, default=str)
    except (TypeError, ValueError):  # (keys of mixed types cannot be sorted)
        text = repr(events[0])
    return hashlib.blake2s(text.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()


def opening(store: Any, execution_id: str, last_event: str | None) -> tuple[Any, int | None]:
    """The latest stored record and the seq the stream starts after, once the request is known to be good
    (blocking: call in a thread). ``last_event`` matches :data:`LAST_EVENT_ID`; one of another incarnation
    (:func:`epoch`) starts at the first event.

    ``SnapshotNotFoundError`` (404) for an unknown execution; ``RequestProblem`` (422) for a ``Last-Event-ID``
    past the execution's last event."""
    record = store.record(execution_id)
    if last_event is None:
        return record, None
    seq, _, given = last_event.partition("-")
    if given and given != epoch(record.snapshot):  # deleted and saved anew since: its events are all new
        return record, None
    last_event_id = int(seq)
    last = _last_seq(record.snapshot)
    if last_event_id > last:
        raise RequestProblem(f"Last-Event-ID {last_event_id} is past the last event ({last}) of execution "
                             f"{execution_id!r}", execution_id=execution_id, last_event_id=last_event_id,
                             last_seq=last)
    return record, last_event_id


def seen_everything(record: Any, last_event_id: int | None) -> bool:
    """A finished execution whose every event the client has: the answer is 204 (EventSource stops there)."""
    return (last_event_id is not None and record.status in FINISHED
            and last_event_id >= _last_seq(record.snapshot))


def _event_data(event: Mapping[str, Any], version: int) -> dict[str, Any]:
    payload = event.get("payload")
    if event.get("tagged"):  # stored in the codec's tagged form: shown as plain JSON
        from igniter_nb.runtime import codec

        # a reference the stream cannot resolve alone (a child result) is shown as stored
        with contextlib.suppress(IgniterError, LookupError, TypeError, ValueError):
            payload = codec.decode(payload)
    shown = redact_event({**event, "payload": payload})
    return {"seq": int(event["seq"]), "type": shown.get("type"), "node": shown.get("node"), "path": shown.get("path"),
            "status": shown.get("status"), "payload": json_safe(shown.get("payload")),
            "timestamp": shown.get("timestamp"), "version": version}


def _summary(record: Any) -> dict[str, Any]:
    return {"execution_id": record.execution_id, "version": record.version, "status": record.status,
            "last_seq": _last_seq(record.snapshot), "updated_at": record.updated_at.isoformat()}


class ExecutionStream:
    """The messages of one connection, from ``record`` (the latest version when it opened) on."""

    def __init__(self, store: Any, record: Any, last_event_id: int | None, *, idle_seconds: float = IDLE_SECONDS,
                 poll_interval: float = 0.25) -> None:
        self.store = store
        self.record = record
        self.seen = last_event_id or 0
        self.epoch = epoch(record.snapshot)  # the incarnation whose events were sent (ids end in it)
        self.idle_seconds = idle_seconds
        self.poll_interval = poll_interval

    def _messages_of(self, record: Any, *, first: bool = False) -> list[Any]:
        from sse_starlette import ServerSentEvent

        status = ServerSentEvent(json.dumps(_summary(record)), event="status", retry=RETRY_MS if first else None)
        messages = [status]
        current = epoch(record.snapshot)
        if current != self.epoch:  # deleted and saved anew while streaming: its events from the first one
            self.seen, self.epoch = (0 if self.epoch is not None else self.seen), current
        for event in record.snapshot.get("events") or ():
            seq = int(event["seq"])
            if seq > self.seen:
                messages.append(ServerSentEvent(json.dumps(_event_data(event, record.version)),
                                                id=f"{seq}-{current}"))
                self.seen = seq
        return messages

    def _end(self, record: Any, reason: str) -> Any:
        from sse_starlette import ServerSentEvent

        return ServerSentEvent(json.dumps({**_summary(record), "reason": reason}), event="end")

    async def messages(self) -> AsyncIterator[Any]:
        """The connection's messages (an async generator: closing it releases the feed's subscription)."""
        from igniter_nb.stores.feed import awatch

        latest = self.record
        for message in self._messages_of(latest, first=True):
            yield message
        if latest.status in FINISHED:
            yield self._end(latest, "finished")
            return
        execution_id = latest.execution_id
        loop = asyncio.get_running_loop()
        recheck = min(RECHECK_SECONDS, self.idle_seconds / 2)
        idle_until = loop.time() + self.idle_seconds
        while True:
            feed = awatch(self.store, execution_id, after_version=latest.version,
                          timeout=max(min(recheck, idle_until - loop.time()), 0.001), poll_interval=self.poll_interval)
            try:  # the feed for at most `recheck` seconds of quiet, then a look at what is stored
                with contextlib.suppress(StoreArgumentError):  # stored anew below the version sent: looked at below
                    async for record in feed:
                        latest = record
                        for message in self._messages_of(record):
                            yield message
                        if record.status in FINISHED:
                            yield self._end(record, "finished")
                            return
                        idle_until = loop.time() + self.idle_seconds
                current = await asyncio.to_thread(_current, self.store, execution_id)
            except SnapshotNotFoundError:  # deleted before the feed took its first look
                yield self._end(latest, "deleted")
                return
            except IgniterError as exc:  # the store failed (or refused the look): the client reconnects
                log.warning("stream of execution %s ended: %s", execution_id, exc)
                return
            if current is None:
                yield self._end(latest, "deleted")
                return
            if epoch(current.snapshot) != self.epoch or current.version < latest.version:
                # deleted and saved anew under the same id at a version the feed does not see as new: its events
                # from the first one, under its epoch (_messages_of starts over)
                latest = current
                for message in self._messages_of(current):
                    yield message
                if current.status in FINISHED:
                    yield self._end(current, "finished")
                    return
                idle_until = loop.time() + self.idle_seconds
            elif loop.time() >= idle_until:
                return  # quiet for idle_seconds: closing it lets the client reconnect with Last-Event-ID


def _current(store: Any, execution_id: str) -> Any:
    """The stored record of ``execution_id``, or None when it is not stored (deleted)."""
    try:
        return store.record(execution_id)
    except SnapshotNotFoundError:
        return None


__all__ = ["IDLE_SECONDS", "LAST_EVENT_ID", "PING_SECONDS", "RECHECK_SECONDS", "ExecutionStream", "epoch", "opening",
           "seen_everything"]
