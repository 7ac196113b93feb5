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
_new = tuple.__new__
_now = time.time

Subscriber = Callable[[Event], Any]


class EventBus:
    """Collects an execution's events. Subscribers are called in order on the emitting thread; one that
    raises never breaks the run: its error goes to ``on_subscriber_error``."""

    __slots__ = ("events", "execution_id", "lock", "on_subscriber_error", "seq", "subscribers")

    def __init__(self, execution_id: str, events: Iterable[Event] = ()) -> None:
        self.execution_id = execution_id
        self.events: list[Event] = list(events)
        self.subscribers: list[Subscriber] = []
        self.on_subscriber_error: Callable[[Event, Any, BaseException], None] | None = None
        # Set by concurrent runners: numbering, appending and notifying then happen under one lock, so the
        # log's order equals ``seq`` order and subscribers never run concurrently.
        self.lock: threading.Lock | None = None
        self.seq = itertools.count(self.events[-1].seq + 1 if self.events else 1)

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
                self.events.append(event)
                if self.subscribers:
                    self._notify(event)
            return event
        event = _new(Event, (next(self.seq), type, self.execution_id, node, path, status, payload, _now()))
        self.events.append(event)
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
        self.events = list(events)
        self.seq = itertools.count(self.events[-1].seq + 1 if self.events else 1)
