"""Wake-ups for change-feed watchers: one :class:`ChangeSubscription` per watcher, one :class:`ChangeHub` per store.

A store with native wake-ups (``MemoryStore``, PostgreSQL ``LISTEN/NOTIFY``, Redis pub/sub) implements
``subscribe_changes(execution_id) -> ChangeSubscription | None``; ``igniter_nb.stores.feed`` waits on the
subscription between two reads of the execution's version. A wake-up is only a hint to read again: the feed never
trusts it for data, so a spurious one costs a version read and a missed one delays a version (until the feed's
next timed re-read), never loses it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio

_Listener = TypeVar("_Listener")


_ATTACHING = threading.Lock()


def attached_listener(store: Any, make: Callable[[Any], _Listener]) -> _Listener:
    """The change listener kept on ``store._changes``, made by ``make(store)`` on first use (the PostgreSQL and
    Redis stores keep one per store object; their ``close()`` closes it)."""
    with _ATTACHING:
        if store._changes is None:
            store._changes = make(store)
        listener: _Listener = store._changes
        return listener


class ChangeSubscription:
    """The wake-ups of one watcher of one execution: :meth:`notify` from any thread, :meth:`wait` from the
    watcher's thread or :meth:`wait_async` from its event loop, :meth:`close` when done (never blocks).

    A notification that arrives while nobody waits is kept until the next wait, so none is lost between two waits.
    """

    __slots__ = ("_cond", "_event", "_hub", "_loop", "_pending", "execution_id")

    def __init__(self, execution_id: str, hub: ChangeHub | None = None) -> None:
        self.execution_id = execution_id
        self._hub = hub
        self._cond = threading.Condition(threading.Lock())
        self._pending = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def __repr__(self) -> str:
        return f"ChangeSubscription({self.execution_id!r}, native={self._hub is not None})"

    def notify(self) -> None:
        """Wake the watcher (or the next wait): something about the execution may have changed."""
        with self._cond:
            self._pending = True
            self._cond.notify_all()
            loop, event = self._loop, self._event
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the watcher's loop is closed: nobody left to wake
                loop.call_soon_threadsafe(event.set)

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds for a notification; True if one came (consumed by this call)."""
        with self._cond:
            if not self._pending:
                self._cond.wait(max(0.0, timeout))
            fired, self._pending = self._pending, False
            return fired

    async def wait_async(self, timeout: float) -> bool:
        """:meth:`wait` for an event loop: suspends the calling task, never the loop."""
        import asyncio  # here, not at the top: stores import this module and must stay light

        loop = asyncio.get_running_loop()
        with self._cond:
            if self._pending:
                self._pending = False
                return True
            if self._loop is not loop or self._event is None:
                self._loop, self._event = loop, asyncio.Event()
            event = self._event
            event.clear()  # a set left by a notification already consumed would only be a spurious wake-up
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), max(0.0, timeout))
        with self._cond:
            fired, self._pending = self._pending, False
            return fired

    def close(self) -> None:
        """Stop receiving notifications (idempotent, non-blocking); the store drops its interest in the background."""
        hub, self._hub = self._hub, None
        if hub is not None:
            hub.release(self)

    @property
    def native(self) -> bool:
        """Whether a store delivers notifications to this subscription (False: only :meth:`notify` calls wake it)."""
        return self._hub is not None


class ChangeHub:
    """Routes a store's change notifications to the subscriptions of each execution id.

    ``register(execution_id)`` runs (in the subscribing thread) before the first subscription of an id is handed
    out — the PostgreSQL store records its interest there, the Redis store subscribes its channel;
    ``unregister(execution_id)`` runs from :meth:`sweep` once the last subscription of an id is closed, so that
    closing never blocks and a watcher that comes back in between keeps the registration.
    """

    def __init__(
        self,
        register: Callable[[str], None] | None = None,
        unregister: Callable[[str], None] | None = None,
    ) -> None:
        self._register = register
        self._unregister = unregister
        self._lock = threading.Lock()  # guards the maps below; held only for in-memory work
        self._registering = threading.Lock()  # orders register/unregister calls (may do I/O)
        self._subscriptions: dict[str, set[ChangeSubscription]] = {}
        self._registered: set[str] = set()
        self._idle: set[str] = set()

    def subscribe(self, execution_id: str) -> ChangeSubscription:
        """A new subscription to ``execution_id``; raises what ``register`` raises (nothing is kept then)."""
        sub = ChangeSubscription(execution_id, self)
        with self._registering:
            with self._lock:
                self._subscriptions.setdefault(execution_id, set()).add(sub)
                self._idle.discard(execution_id)
                needed = self._register is not None and execution_id not in self._registered
            if needed:
                assert self._register is not None
                try:
                    self._register(execution_id)
                except BaseException:
                    sub._hub = None
                    self._forget(sub)
                    raise
                with self._lock:
                    self._registered.add(execution_id)
        return sub

    def release(self, sub: ChangeSubscription) -> None:
        """Forget ``sub`` (called by :meth:`ChangeSubscription.close`)."""
        self._forget(sub)

    def _forget(self, sub: ChangeSubscription) -> None:
        with self._lock:
            subs = self._subscriptions.get(sub.execution_id)
            if subs is None:
                return
            subs.discard(sub)
            if not subs:
                del self._subscriptions[sub.execution_id]
                if sub.execution_id in self._registered:
                    self._idle.add(sub.execution_id)

    def publish(self, execution_id: str) -> None:
        """Wake every subscription of ``execution_id``."""
        with self._lock:
            subs = list(self._subscriptions.get(execution_id, ()))
        for sub in subs:
            sub.notify()

    def publish_all(self) -> None:
        """Wake every subscription (after a lost connection: any notification may have been missed)."""
        with self._lock:
            subs = [sub for group in self._subscriptions.values() for sub in group]
        for sub in subs:
            sub.notify()

    def watched(self) -> list[str]:
        """The execution ids that currently have a registration (what to register again after a reconnect)."""
        with self._lock:
            return sorted(self._registered)

    def subscriber_count(self) -> int:
        with self._lock:
            return sum(len(group) for group in self._subscriptions.values())

    def sweep(self) -> None:
        """Unregister the ids whose last subscription was closed (and that nobody subscribed to since)."""
        with self._lock:
            if not self._idle:
                return
        with self._registering:
            with self._lock:
                gone = [eid for eid in self._idle if eid not in self._subscriptions]
                self._idle.clear()
            for n, eid in enumerate(gone):
                if self._unregister is not None:
                    try:
                        self._unregister(eid)
                    except BaseException:
                        with self._lock:  # try these again at the next sweep
                            self._idle.update(gone[n:])
                        raise
                with self._lock:
                    self._registered.discard(eid)

    def reregister(self) -> None:
        """Run ``register`` again for every registered id (after reconnecting with a new session)."""
        if self._register is None:
            return
        with self._registering:
            for eid in self.watched():
                self._register(eid)
