"""The threads that follow an execution for :class:`igniter_nb.notebook.follow.Follow`: a store's change feed, or a
server's live stream in an asyncio loop of the thread's own; and how a record is handed over to the ``Follow``
(refusing one of an execution deleted and saved anew under the same id). Split from ``follow.py``, which keeps
the ``Follow`` itself and its settings (``RECONNECTS``, ``RECONNECT_DELAY``, read here at each use)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from igniter_nb.notebook.follow import Follow


def _events_after(snapshot: Mapping[str, Any], seq: int) -> tuple[Mapping[str, Any], ...]:
    events = snapshot.get("events") or ()
    return tuple(e for e in events if isinstance(e, Mapping) and isinstance(e.get("seq"), int) and e["seq"] > seq)


class _Running:
    """One following thread's stop signal, and its asyncio loop and task when it has them (a server's stream).
    Holds no reference to the ``Follow``, so a ``Follow`` nobody holds can be collected — and stopped."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task[None] | None = None

    def halt(self) -> None:
        self.stop.set()
        loop, task = self.loop, self.task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(task.cancel)


class ExecutionRecreated(Exception):
    """The followed execution was deleted and saved anew under the same id: its events start at seq 1 again, and
    its versions at 1 — not the history the Follow holds, which it does not splice into (following ends)."""


def _recreated(execution_id: str) -> ExecutionRecreated:
    return ExecutionRecreated(f"execution {execution_id!r:.200} was deleted and saved anew under the same id while "
                              "followed (its events start again at seq 1): follow it again to see the new one")


def _hand_over(ref: weakref.ref[Follow], records: Iterable[Any]) -> bool:
    """Give each record to the Follow, holding it only meanwhile; False once nobody holds it any more;
    :class:`ExecutionRecreated` for a record whose first event is not the one the Follow holds."""
    for record in records:
        current = ref()
        if current is None:
            return False
        first = _events_after(record.snapshot, 0)[:1] if isinstance(record.snapshot, Mapping) else ()
        if first and current.events and first[0] != current.events[0]:
            raise _recreated(current.execution_id)
        current._apply(record)
        del current
    return True


def _follow_store(ref: weakref.ref[Follow], running: _Running) -> None:
    """The following thread for a store: the change feed."""
    from igniter_nb.stores.feed import watch

    follow = ref()
    if follow is None:
        return
    error = None
    try:
        feed = watch(follow.store, follow.execution_id, after_version=follow.version, stop=running.stop,
                     poll_interval=follow.poll_interval)
        del follow  # hold the Follow only while handling a version
        if _hand_over(ref, feed) and not running.stop.is_set():
            error = _gone(ref)
    except Exception as exc:  # deleted, or the store failed
        error = f"{type(exc).__name__}: {exc}"
    running.stop.set()  # ended: what _ended redraws says so
    current = ref()
    if current is not None:
        current._ended(error)


def _gone(ref: weakref.ref[Follow]) -> str | None:
    """Why the change feed ended by itself before the execution finished: it was deleted (the feed ends quietly when
    that happens while following, and raises only when it is gone at the first look)."""
    from igniter_nb.errors import SnapshotNotFoundError

    current = ref()
    if current is None or current.finished:
        return None
    try:
        current.store.record(current.execution_id)
    except SnapshotNotFoundError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _follow_client(ref: weakref.ref[Follow], running: _Running) -> None:
    """The following thread for a server: its live stream, in an asyncio loop of this thread's own."""
    follow = ref()
    if follow is None:
        return
    client = follow._client
    del follow
    error = None
    try:
        asyncio.run(_stream(ref, client, running))
        if not running.stop.is_set():  # the stream ended by itself: finished, or deleted (its `end` says so)
            error = _gone(ref)
    except asyncio.CancelledError:
        pass
    except Exception as exc:  # the server could not be reached, refused the token, deleted the execution…
        error = f"{type(exc).__name__}: {exc}"
        if getattr(exc, "status_code", None) == 404:  # deleted before the stream opened: said as after it opened
            with contextlib.suppress(Exception):
                error = _gone(ref) or error
    running.loop = running.task = None
    running.stop.set()  # ended: what _ended redraws says so
    current = ref()
    if current is not None:
        current._ended(error)


async def _stream(ref: weakref.ref[Follow], client: Any, running: _Running) -> None:
    """Read the stream; a dropped connection (the server stopped or restarted) is opened again here rather than
    inside ``Client.events``, so that the view says it is reconnecting, and why, instead of showing "following"
    unchanged: ``RECONNECTS`` attempts in a row, 1, 2, 4, 8, 10 s apart, then the error ends following."""
    from igniter_nb.notebook import follow as settings  # (RECONNECTS, RECONNECT_DELAY: read at each use)
    from igniter_nb.server.errors import RemoteConnectionError, RemoteError
    from igniter_nb.server.stopping_retry import RETRY_LATER

    running.loop, running.task = asyncio.get_running_loop(), asyncio.current_task()
    follow = ref()
    if follow is None or running.stop.is_set():
        return
    execution_id = follow.execution_id
    del follow
    failures = 0
    async with client.to_async() as aclient:
        while True:
            try:
                await _read_stream(ref, aclient, execution_id, running)
                return
            except (RemoteConnectionError, RemoteError) as exc:
                if isinstance(exc, RemoteError) and not (exc.status_code == 503 and exc.error_type in RETRY_LATER):
                    raise  # a refusal (401, 404) or a bad message: opening the stream again would not help
                current = ref()
                if current is None:
                    return
                failures = 1 if current.reconnecting is None else failures + 1  # (in a row: a message resets it)
                if failures > settings.RECONNECTS:
                    raise
                current._reconnecting(f"reconnecting ({failures} of {settings.RECONNECTS}) after {type(exc).__name__}: {exc}")
                del current
                await settings._pause(min(settings.RECONNECT_DELAY * 2 ** (failures - 1), 10.0))


async def _read_stream(ref: weakref.ref[Follow], aclient: Any, execution_id: str, running: _Running) -> None:
    """Read the stream (``Client.events``, which opens it again itself only after a connection that brought
    messages) until following is over."""
    from igniter_nb.server.service_store import stored_execution

    current = ref()
    if current is None:
        return
    # the id of the last event the stream sent, which names the execution's epoch (the server starts over for an
    # id of an execution since deleted and saved anew); else the seq before the last one held, so that the stream
    # sends that last event again and its id tells the epoch at once
    resume = current._resume_id or (max(current._last_seq() - 1, 0) if current.events else None)
    del current
    async for message in aclient.events(execution_id, last_event_id=resume, reconnects=0):
        current = ref()
        if current is None or running.stop.is_set():
            return
        current._reconnecting(None)
        known = current.version
        if message.kind == "event":
            epoch = (message.resume_id or "").partition("-")[2]
            if epoch and current._resume_id and epoch != current._resume_id.partition("-")[2]:
                raise _recreated(execution_id)  # (an event of another epoch: the stream started over)
            current._resume_id = message.resume_id or current._resume_id
        del current
        if message.kind not in ("status", "end"):
            continue  # the events come with the record: one read per version, not one per event
        if isinstance(message.data.get("version"), int) and message.data["version"] > known:
            latest = stored_execution(await aclient.record(execution_id), execution_id)
            records = [latest]
            if latest.version > known + 1:  # versions saved between two looks: read them all, in order
                records = [stored_execution(v, execution_id) for v in await aclient.history(execution_id)]
            if not _hand_over(ref, records):
                return
        if message.kind == "end":
            return
