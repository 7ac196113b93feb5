"""The per-execution event bus: append-only list plus synchronous subscribers."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import Any

from igniter_nb.events.event import Event

EMPTY_PAYLOAD: Any = MappingProxyType({})
_NO_LOCK: Any = threading.Lock()  # placeholder until a lazy log needs its own loader lock (never contended)
_new = tuple.__new__
_now = time.time

Subscriber = Callable[[Event], Any]


class EventBus:
    """Collects an execution's events. Subscribers are called in order on the emitting thread; one that
    raises never breaks the run: its error goes to ``on_subscriber_error``.

    ``events`` is the whole log. A restored execution can adopt its stored log *lazily*
    (:meth:`replace_lazily`): the stored events become ``Event`` objects only when someone reads ``events``,
    so resuming a long workflow costs what the resume adds, not the length of its history. Writers append
    to ``log`` (the events not yet materialised are then the ``unloaded`` ones before it).
    """

    __slots__ = ("_last_unloaded", "_load_lock", "_loader", "execution_id", "lock", "log", "on_subscriber_error",
                 "seq", "subscribers", "unloaded")

    def __init__(self, execution_id: str, events: Iterable[Event] = ()) -> None:
        self.execution_id = execution_id
        self.log: list[Event] = list(events)
        self.unloaded = 0  # stored events before ``log`` not materialised yet (see replace_lazily)
        self._last_unloaded = 0
        self._loader: Callable[[], list[Event]] | None = None
        self._load_lock: threading.Lock = _NO_LOCK
        self.subscribers: list[Subscriber] = []
        self.on_subscriber_error: Callable[[Event, Any, BaseException], None] | None = None
        # Set by concurrent runners (an RLock): numbering, appending and notifying then happen under it, so the
        # log's order equals ``seq`` order and subscribers never run concurrently.
        self.lock: threading.RLock | None = None
        self.seq = itertools.count(self.log[-1].seq + 1 if self.log else 1)

    @property
    def events(self) -> list[Event]:
        """Every event of the execution, in ``seq`` order (the list itself: do not change it)."""
        if self._loader is not None:
            self._load()
        return self.log

    def _load(self) -> None:
        # Under the bus lock when a concurrent runner set one (emitters append under it; it is reentrant, so a
        # subscriber called inside emit may read the log), else under the loader's own lock: either way two
        # first readers never both prepend the stored events.
        with self.lock or self._load_lock:
            loader = self._loader
            if loader is not None:
                events = loader()
                self.log[:0] = events  # in place: writers may hold a reference to this list
                self._loader = None
                self.unloaded = 0

    def count(self) -> int:
        """How many events the log has, without materialising a lazy log."""
        return self.unloaded + len(self.log)

    def last_seq(self) -> int:
        """``seq`` of the latest event (0 when there is none), without materialising a lazy log."""
        log = self.log
        if log:
            return log[-1].seq
        return self._last_unloaded if self.unloaded else 0

    def emit(
        self,
        type: str,
        node: str | None = None,
        path: str | None = None,
        status: str | None = None,
        payload: Any = EMPTY_PAYLOAD,
    ) -> Event:
        lock = self.lock
        if lock is not None:
            with lock:
                event: Event = _new(Event, (next(self.seq), type, self.execution_id, node, path, status, payload, _now()))
                self.log.append(event)
                if self.subscribers:
                    self._notify(event)
            return event
        event = _new(Event, (next(self.seq), type, self.execution_id, node, path, status, payload, _now()))
        self.log.append(event)
        if self.subscribers:
            self._notify(event)
        return event

    def _notify(self, event: Event) -> None:
        for sub in list(self.subscribers):
            try:
                sub(event)
            except Exception as exc:  # a subscriber's bug must not corrupt the run
                if self.on_subscriber_error is not None:
                    self.on_subscriber_error(event, sub, exc)

    def subscribe(self, subscriber: Subscriber) -> Subscriber:
        if not callable(subscriber):
            raise TypeError(f"subscriber must be callable, got {subscriber!r}")
        self.subscribers.append(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.remove(subscriber)

    def replace(self, execution_id: str, events: Iterable[Event]) -> None:
        """Adopt a restored event log (keeps subscribers); numbering continues after the last event."""
        self.execution_id = execution_id
        self.log = list(events)
        self.unloaded, self._last_unloaded, self._loader = 0, 0, None
        self.seq = itertools.count(self.log[-1].seq + 1 if self.log else 1)

    def replace_lazily(self, execution_id: str, count: int, last_seq: int, loader: Callable[[], list[Event]]) -> None:
        """Adopt a restored log of ``count`` events ending at ``last_seq`` without building them: ``loader()``
        returns them (in order) the first time ``events`` is read. New events are numbered after ``last_seq``."""
        self.execution_id = execution_id
        self.log = []
        if count:
            self.unloaded, self._last_unloaded, self._loader = count, last_seq, loader
            self._load_lock = threading.Lock()
        else:
            self.unloaded, self._last_unloaded, self._loader = 0, 0, None
        self.seq = itertools.count((last_seq if count else 0) + 1)
