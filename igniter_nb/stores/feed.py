"""The change feed: follow one execution while other threads or processes save new versions of it.

``watch(store, execution_id)`` yields every saved version after ``after_version``, in order, each once, and ends
when the execution finishes, is deleted, or stays quiet for ``timeout`` seconds; ``awatch`` is the same for an
event loop. Between two looks the feed waits on the store's native wake-ups when it has them
(``store.subscribe_changes``, see ``igniter_nb.stores.changes``) and otherwise sleeps ``poll_interval``; either
way it decides from the stored *version* alone, so a missed or spurious wake-up can delay a version, never lose
or repeat one. See docs/stores.md, "Following an execution".

The logic is written once, as a plan that asks for reads and waits (:func:`_follow`); :func:`watch` and
:func:`awatch` only differ in how they carry those out (directly, or in a worker thread / awaited).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import time
from collections.abc import AsyncGenerator, Callable, Generator, Iterator
from typing import Any, Literal

from igniter_nb.errors import SnapshotNotFoundError, StoreArgumentError
from igniter_nb.stores.base import FINISHED_STATUSES, StoredExecution, check_execution_id, not_found
from igniter_nb.stores.changes import ChangeSubscription

log = logging.getLogger(__name__)

#: Bounds of ``poll_interval`` and ``resync_interval`` (seconds): never a busy loop, never an endless sleep.
MIN_INTERVAL, MAX_INTERVAL = 0.01, 600.0
#: How often a ``stop`` event or callable is checked while the feed waits.
STOP_CHECK_INTERVAL = 0.05

Stop = Callable[[], bool] | Any  # a callable returning True to stop, or an object with ``is_set()`` (Event)


def watch(
    store: Any,
    execution_id: str,
    *,
    after_version: int = 0,
    timeout: float | None = None,
    poll_interval: float = 0.25,
    resync_interval: float = 2.0,
    stop: Stop | None = None,
) -> Generator[StoredExecution, None, None]:
    """Yield each saved version of ``execution_id`` with ``version > after_version``, oldest first, each exactly once,
    waiting for new ones as other threads or processes save them.

    Ends after yielding a version whose status is finished (``FINISHED_STATUSES``), when ``timeout`` seconds pass
    without a new version, when the execution is deleted, when ``stop`` (a ``threading.Event`` or a callable) is
    set — checked every ``STOP_CHECK_INTERVAL`` s while waiting — or when the generator is closed. Resuming with
    ``after_version=<last version seen>`` continues without a gap or a repeat; if that version is already the
    latest and finished, the feed ends at once.

    The first step raises ``SnapshotNotFoundError`` at once for an unknown execution, and ``StoreArgumentError``
    when ``after_version`` is past its latest version. Stores with native wake-ups are re-read on every wake-up
    and at least every ``resync_interval`` s; the others every ``poll_interval`` s (a version number read only).
    """
    follow = _Settings.check(store, execution_id, after_version, timeout, poll_interval, resync_interval, stop)
    return _watch(store, follow)


def awatch(
    store: Any,
    execution_id: str,
    *,
    after_version: int = 0,
    timeout: float | None = None,
    poll_interval: float = 0.25,
    resync_interval: float = 2.0,
    stop: Stop | None = None,
) -> AsyncGenerator[StoredExecution, None]:
    """:func:`watch` as an async iterator for asyncio servers (ASGI): every store call runs in a worker thread
    (``asyncio.to_thread``) and waits are awaited, so the event loop is never blocked. Cancel the consuming task
    or ``aclose()`` the iterator to stop it at once; ``stop`` may also be an ``asyncio.Event``.
    """
    follow = _Settings.check(store, execution_id, after_version, timeout, poll_interval, resync_interval, stop)
    return _awatch(store, follow)


# ----------------------------------------------------------------------------------------------- the plan


@dataclasses.dataclass(frozen=True, slots=True)
class _Settings:
    execution_id: str
    after_version: int
    timeout: float | None
    poll_interval: float
    resync_interval: float
    stopped: Callable[[], bool] | None

    @classmethod
    def check(cls, store: Any, execution_id: Any, after_version: Any, timeout: Any, poll_interval: Any,
              resync_interval: Any, stop: Any) -> _Settings:
        if not (callable(getattr(store, "record", None)) and callable(getattr(store, "history_records", None))):
            raise StoreArgumentError(f"watch needs an execution store (with record and history_records), got "
                                     f"{type(store).__name__}")
        check_execution_id(execution_id)
        if type(after_version) is not int or after_version < 0:
            raise StoreArgumentError(f"after_version must be an int >= 0, got {after_version!r:.80}")
        if timeout is not None and not (_is_number(timeout) and timeout > 0):
            raise StoreArgumentError(f"timeout must be None or a number of seconds > 0, got {timeout!r:.80}")
        for name, value in (("poll_interval", poll_interval), ("resync_interval", resync_interval)):
            if not (_is_number(value) and MIN_INTERVAL <= value <= MAX_INTERVAL):
                raise StoreArgumentError(
                    f"{name} must be a number of seconds from {MIN_INTERVAL} to {MAX_INTERVAL}, got {value!r:.80}")
        return cls(execution_id, after_version, None if timeout is None else float(timeout), float(poll_interval),
                   float(resync_interval), _stop_check(stop))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _stop_check(stop: Any) -> Callable[[], bool] | None:
    if stop is None:
        return None
    is_set = getattr(stop, "is_set", None)
    if callable(is_set):
        return lambda: bool(is_set())
    if callable(stop):
        return lambda: bool(stop())
    raise StoreArgumentError(f"stop must be None, an Event or a callable returning bool, got {type(stop).__name__}")


@dataclasses.dataclass(frozen=True, slots=True)
class _Read:
    what: Literal["version", "record", "history"]  # the answer is None when the execution is not stored


@dataclasses.dataclass(frozen=True, slots=True)
class _Wait:
    seconds: float  # the answer is True when a wake-up came


@dataclasses.dataclass(frozen=True, slots=True)
class _Emit:
    record: StoredExecution


_Step = _Read | _Wait | _Emit
_VERSION, _RECORD, _HISTORY = _Read("version"), _Read("record"), _Read("history")


def _follow(s: _Settings, *, native: bool) -> Generator[_Step, Any, None]:
    """What following an execution takes: which reads, waits and records, given the answers sent back."""
    last = s.after_version
    version = yield _VERSION
    if version is None:
        raise not_found(s.execution_id)
    if version < last:
        raise StoreArgumentError(
            f"after_version={last} is past the latest version ({version}) of execution {s.execution_id!r}",
            execution_id=s.execution_id)
    if version == last:  # a client resuming at the end: nothing more comes once that version is finished
        latest = yield _RECORD
        if latest is None or (latest.version == last and latest.status in FINISHED_STATUSES):
            return
        version = latest.version
    idle_until = None if s.timeout is None else time.monotonic() + s.timeout
    # The first wait is short even with native wake-ups: a save that raced with the subscription may not have
    # notified it; after one more read the subscription is in place and waits can be long.
    settled = False
    while True:
        if version is None or version < last:
            return  # deleted (or deleted and saved anew: the history followed so far is gone)
        if version > last:
            records = yield from _missing(last, version)
            if records is None:
                return
            for rec in records:
                yield _Emit(rec)
                last = rec.version
                if rec.status in FINISHED_STATUSES:
                    return
            if records:
                if s.timeout is not None:
                    idle_until = time.monotonic() + s.timeout
                version = yield _VERSION  # more may have come meanwhile: look before waiting
                continue
        wait = s.resync_interval if native and settled else s.poll_interval
        if idle_until is not None:
            remaining = idle_until - time.monotonic()
            if remaining <= 0:
                return
            wait = min(wait, remaining)
        settled = True
        yield _Wait(wait)
        version = yield _VERSION


def _missing(last: int, version: int) -> Generator[_Step, Any, list[StoredExecution] | None]:
    """The stored versions after ``last`` (``version`` is the latest seen); None when the execution is gone."""
    if version == last + 1:  # the usual case: one new version, read alone rather than the whole history
        latest = yield _RECORD
        if latest is None:
            return None
        if latest.version == last + 1:
            return [latest]
    history = yield _HISTORY
    if history is None:
        return None
    found = [rec for rec in history if rec.version > last]
    if not found:  # a store keeping no history for these versions: the latest is all there is to show
        latest = yield _RECORD
        if latest is None:
            return None
        found = [latest] if latest.version > last else []
    return found


# ----------------------------------------------------------------------------------------------- the drivers


def _watch(store: Any, s: _Settings) -> Generator[StoredExecution, None, None]:
    sub = _subscribe(store, s.execution_id)
    try:
        plan = _follow(s, native=sub.native)
        answer: Any = None
        while (step := _next_step(plan, answer, s)) is not None:
            if isinstance(step, _Emit):
                yield step.record
                answer = None
            elif isinstance(step, _Wait):
                answer = any(sub.wait(part) for part in _wait_parts(step.seconds, s.stopped))
            else:
                answer = _read(store, s.execution_id, step.what)
    finally:
        sub.close()


async def _awatch(store: Any, s: _Settings) -> AsyncGenerator[StoredExecution, None]:
    sub = await _subscribe_async(store, s.execution_id)
    try:
        plan = _follow(s, native=sub.native)
        answer: Any = None
        while (step := _next_step(plan, answer, s)) is not None:
            if isinstance(step, _Emit):
                yield step.record
                answer = None
            elif isinstance(step, _Wait):
                answer = False
                for part in _wait_parts(step.seconds, s.stopped):
                    if await sub.wait_async(part):
                        answer = True
                        break
            else:
                answer = await asyncio.to_thread(_read, store, s.execution_id, step.what)
    finally:
        sub.close()


def _next_step(plan: Generator[_Step, Any, None], answer: Any, s: _Settings) -> _Step | None:
    """The plan's next step given ``answer`` to the last one; None when the plan is done or ``stop`` is set."""
    if s.stopped is not None and s.stopped():
        return None
    try:
        return plan.send(answer)
    except StopIteration:
        return None


def _wait_parts(seconds: float, stopped: Callable[[], bool] | None) -> Iterator[float]:
    """How to cut a wait of ``seconds`` so that ``stopped`` is checked every ``STOP_CHECK_INTERVAL`` s."""
    if stopped is None:
        yield seconds
        return
    deadline = time.monotonic() + seconds
    while not stopped():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        yield min(remaining, STOP_CHECK_INTERVAL)


def _subscribe(store: Any, execution_id: str) -> ChangeSubscription:
    """The store's native subscription, or a plain one (woken by nobody: the feed polls)."""
    subscribe = getattr(store, "subscribe_changes", None)
    if callable(subscribe):
        try:
            sub = subscribe(execution_id)
        except Exception as exc:  # no wake-ups is slower, not wrong: poll instead
            log.warning("%r: no change notifications (%s); polling execution %r instead", store, exc, execution_id)
        else:
            if sub is not None:
                return sub  # type: ignore[no-any-return]
    return ChangeSubscription(execution_id)


async def _subscribe_async(store: Any, execution_id: str) -> ChangeSubscription:
    pending = asyncio.ensure_future(asyncio.to_thread(_subscribe, store, execution_id))
    try:
        return await asyncio.shield(pending)
    except asyncio.CancelledError:  # the subscription still arrives: close it then, or it would stay registered
        pending.add_done_callback(_close_arrived)
        raise


def _close_arrived(done: asyncio.Future[ChangeSubscription]) -> None:
    if not done.cancelled() and done.exception() is None:
        done.result().close()


def _read(store: Any, execution_id: str, what: str) -> Any:
    try:
        if what == "version":
            version_of = getattr(store, "version_of", None)
            if callable(version_of):
                return version_of(execution_id)
            return store.record(execution_id).version
        if what == "record":
            return store.record(execution_id)
        return store.history_records(execution_id)
    except SnapshotNotFoundError:
        return None
