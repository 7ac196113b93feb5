"""Change-feed wake-ups for ``RedisStore``: the save and delete scripts ``PUBLISH`` to a channel per execution.

Channel ``<ns>:changes:<execution id>``, message ``<version>`` (0 = deleted). The script publishes inside its own
atomic step, and Redis runs a script to its end before any other command, so a watcher that reads after the
message always sees the new version. A ``PUBLISH`` nobody subscribed to costs the server a dictionary lookup.

Each ``RedisStore`` object that is watched holds one pub/sub connection and one daemon thread, subscribed to the
channels of the executions its watchers follow (no message about other executions reaches the process). If the
connection drops, redis-py reconnects and subscribes again; the thread wakes every watcher when the connection
fails and the watchers of each channel again when its subscription is confirmed, so each re-reads its version.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import TYPE_CHECKING, Any

from igniter_nb.errors import StoreError
from igniter_nb.stores.changes import ChangeHub, ChangeSubscription, attached_listener

if TYPE_CHECKING:
    from igniter_nb.stores.redis import RedisStore

log = logging.getLogger(__name__)

_TICK = 0.25  # the thread's longest wait for a message: how late it unsubscribes and notices close()
_RETRY = 0.5  # pause after a connection error before reading again (redis-py reconnects on that read)


def channel(namespace: str, execution_id: str) -> str:
    """The channel the save script publishes ``execution_id``'s new versions to."""
    return f"{namespace}:changes:{execution_id}"


def changes_of(store: RedisStore) -> RedisChanges:
    """The store's subscriber, created on first use (kept on the store; closed by ``store.close()``)."""
    return attached_listener(store, RedisChanges)


class RedisChanges:
    """Pub/sub wake-ups of one ``RedisStore``: :meth:`subscribe` hands out subscriptions, a daemon thread reads the
    messages and dispatches them."""

    def __init__(self, store: RedisStore) -> None:
        self._store = store
        self._prefix = channel(store.namespace, "")
        self._pubsub: Any = store.client.pubsub()
        self.hub = ChangeHub(register=self._register, unregister=self._unregister)
        self._start_lock = threading.Lock()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    def subscribe(self, execution_id: str) -> ChangeSubscription:
        """A subscription woken by every save or delete of ``execution_id`` in any process."""
        with self._start_lock:
            if self._closing.is_set():
                raise StoreError("the store is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"igniter-feed-{self._prefix}", daemon=True)
                self._thread.start()
        return self.hub.subscribe(execution_id)

    def close(self) -> None:
        """Stop the thread and close the pub/sub connection."""
        self._closing.set()
        if self._thread is not None:
            self._thread.join(5)
        with contextlib.suppress(Exception):
            self._pubsub.close()

    def _register(self, execution_id: str) -> None:
        self._pubsub.subscribe(self._prefix + execution_id)

    def _unregister(self, execution_id: str) -> None:
        self._pubsub.unsubscribe(self._prefix + execution_id)

    def _run(self) -> None:
        lost = False
        while not self._closing.is_set():
            try:
                message = self._pubsub.get_message(timeout=_TICK)
                if lost:  # read again without error: reconnected and subscribed again
                    lost = False
                    self.hub.publish_all()
                # A message says a version was saved; a subscribe confirmation (also after redis-py reconnected
                # and subscribed again) that from now on none will be missed: either way, watchers re-read.
                if message is not None and message.get("type") in ("message", "subscribe"):
                    name = message["channel"]
                    name = name.decode() if isinstance(name, bytes) else str(name)
                    self.hub.publish(name[len(self._prefix):])
                self.hub.sweep()
            except Exception as exc:
                if self._closing.is_set():
                    return
                if not lost:
                    log.warning("change feed: lost the pub/sub connection of %r (%s); reconnecting", self._store, exc)
                lost = True
                self.hub.publish_all()  # a message may have been missed: let every watcher re-read
                self._closing.wait(_RETRY)
