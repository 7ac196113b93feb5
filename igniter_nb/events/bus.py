"""The per-execution event bus: append-only list plus synchronous subscribers."""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

from igniter_nb.events.aged import aged_list
from igniter_nb.events.event import Event

EMPTY_PAYLOAD: Any = MappingProxyType({})
_NO_LOCK: Any = threading.Lock()  # placeholder until a lazy log needs its own loader lock (never contended)
_RECORD_LOCK = threading.Lock()  # two readers never turn the same recorded entries into events twice
_new = tuple.__new__
_now = time.time

Subscriber = Callable[[Event], Any]

# Set on a thread while it records a node's state for a concurrent run, under a lock the run's other workers need to
# record theirs (runtime/runners.py): an event it emits then is handed to the subscribers by the next delivery (the
# run's own thread calls ``deliver`` after each node), not on this thread, where a subscriber reading the contract
# could wait for such a worker while holding that lock, for ever.
# (``deferring.set(True)``, then ``deferring.reset(token)``: no context manager, this runs once per node)
deferring: ContextVar[bool] = ContextVar("igniter_deferring_delivery", default=False)
_deferring = deferring


class Unnumbered(tuple):  # type: ignore[type-arg]
    """A recorded event without its number and execution: ``(type, node, path, status, payload, timestamp)``."""

    __slots__ = ()


# Values a recorded node state may keep alive until the log is built: small, so keeping an old one (after the
# node recomputed) costs about what its built event would. Any other value makes the bus ``pinned``.
SCALAR_TYPES: frozenset[type] = frozenset({int, float, bool, type(None)})


class EventBus:
    """Collects an execution's events. Subscribers are called in order (without ``lock``: on the emitting thread,
    as it emits); one that
    raises never breaks the run: its error goes to ``on_subscriber_error``.

    With a ``lock`` (a concurrent runner) subscribers are called *outside* it, one event at a time, in ``seq``
    order: an event emitted while a subscriber runs (on another worker, or by a read that subscriber started)
    waits in ``_undelivered`` and is handed to the subscribers, after the running one returns, by the thread
    delivering then, and its emitter goes on meanwhile. So a subscriber may read the contract's results (a nested
    threads run whose workers emit) without the run waiting on itself, and subscribers never run concurrently.

    ``events`` is the whole log. A restored execution can adopt its stored log *lazily*
    (:meth:`replace_lazily`): the stored events become ``Event`` objects only when someone reads ``events``,
    so resuming a long workflow costs what the resume adds, not the length of its history. Writers append
    to ``log`` (the events not yet materialised are then the ``unloaded`` ones before it).

    The resolver records its two events per computed node more cheaply still, in ``recorded`` (see
    :meth:`record_into`): they become ``Event`` objects, numbered and timed as if emitted, the first time
    ``log``, ``events`` or ``seq`` is read (an event emitted meanwhile without subscribers waits with them).
    """

    __slots__ = ("_clock", "_delivering", "_last_unloaded", "_load_lock", "_loader", "_log", "_nodes", "_seq",
                 "_undelivered", "execution_id", "lock", "on_subscriber_error", "pinned", "recorded", "subscribers",
                 "unloaded")

    def __init__(self, execution_id: str, events: Iterable[Event] = ()) -> None:
        self.execution_id = execution_id
        self._log: list[Event] = list(events)
        # Events recorded but not built yet, in order (see record_into); an ``Event`` among them was emitted
        # while they waited and is numbered already.
        self.recorded: list[Any] = aged_list()  # made earlier: the collector need not walk it (events/aged.py)
        # Whether a recorded state holds a value outside SCALAR_TYPES (set by whoever records it): an
        # invalidation then builds the log first, so a node's superseded values are not kept for it.
        self.pinned = False
        self._nodes: Any = None  # node name -> node (its ``path``), for the recorded entries
        self._clock = 0.0
        self.unloaded = 0  # stored events before ``log`` not materialised yet (see replace_lazily)
        self._last_unloaded = 0
        self._loader: Callable[[], list[Event]] | None = None
        self._load_lock: threading.Lock = _NO_LOCK
        self.subscribers: list[Subscriber] = []
        self.on_subscriber_error: Callable[[Event, Any, BaseException], None] | None = None
        # Set by concurrent runners (an RLock): numbering and appending then happen under it, so the log's order
        # equals ``seq`` order; subscribers are called outside it, never concurrently (see _deliver).
        self.lock: threading.RLock | None = None
        # Under ``lock``: events appended but not yet handed to the subscribers, and whether a thread is handing
        # them over (it takes each in turn, until none is left).
        self._undelivered: deque[Event] = deque()
        self._delivering = False
        self._seq = itertools.count(self._log[-1].seq + 1 if self._log else 1)

    @property
    def log(self) -> list[Event]:
        """The events materialised so far (a restored log may still hold ``unloaded`` ones before them); writers
        append to it, numbering with ``seq``."""
        if self.recorded:
            self._build_recorded()
        return self._log

    @property
    def seq(self) -> Iterator[int]:
        """The numbering of the next events (``next(bus.seq)``); any recorded events are numbered first."""
        if self.recorded:
            self._build_recorded()
        return self._seq

    @property
    def events(self) -> list[Event]:
        """Every event of the execution, in ``seq`` order (the list itself: do not change it)."""
        if self.recorded:
            self._build_recorded()
        if self._loader is not None:
            self._load()
        return self._log

    def record_into(self, nodes: Mapping[str, Any]) -> list[Any]:
        """The list a resolver records ``node_started``/``node_succeeded`` into without building events; one
        entry per event: a node's name (started, at the current clock), ``(name, time)`` (started at ``time``,
        which becomes the current clock), or the node's new succeeded state (``.name``; its ``.resolved_at``
        is the event's time and the current clock) — as a ``NodeState``, or compact as the resolver holds it,
        ``(name, value, version, resolved_at)`` (runtime/states.py ``States``). ``nodes`` maps each name to its
        node (for ``path``). Invalidation records here too: a node's new stale state (its ``invalidated_by`` is not ``None``:
        ``node_invalidated`` with payload ``{"cause": invalidated_by}`` at its ``resolved_at``) when its value
        is in ``SCALAR_TYPES``, else (and for an output reading it) an :class:`Unnumbered` event. Stale states
        and ``Unnumbered`` events leave the clock as it is. Whoever records a state holding a value outside
        ``SCALAR_TYPES`` sets ``pinned``. Only while nothing subscribes and no lock is set: subscribers need
        each event as it happens."""
        self._nodes = nodes
        return self.recorded

    def _built_last_seq(self) -> int:
        log = self._log
        if log:
            return log[-1].seq
        return self._last_unloaded if self.unloaded else 0

    def _build_recorded(self) -> None:
        # Appended to the log before being removed from ``recorded``: a writer that sees ``recorded`` empty
        # finds them in the log. Entries recorded meanwhile (another thread) stay for the next reader.
        with _RECORD_LOCK:
            recorded = self.recorded
            n = len(recorded)
            if not n:
                return
            nodes = self._nodes
            seq = self._seq
            eid = self.execution_id
            clock = self._clock
            built: list[Event] = []
            add = built.append
            cause: Any = None
            payload: Any = None  # ``{"cause": cause}``, one dict for a run of invalidations with the same cause
            for entry in recorded[:n]:
                kind = type(entry)
                if kind is str:
                    add(_new(Event, (next(seq), "node_started", eid, entry, nodes[entry].path, "running",
                                     EMPTY_PAYLOAD, clock)))
                elif kind is tuple:
                    if len(entry) == 2:
                        name, clock = entry
                        add(_new(Event, (next(seq), "node_started", eid, name, nodes[name].path, "running",
                                         EMPTY_PAYLOAD, clock)))
                    else:  # a compact succeeded state ``(name, value, version, resolved_at)`` (runtime/states.py)
                        name = entry[0]
                        clock = entry[3]
                        add(_new(Event, (next(seq), "node_succeeded", eid, name, nodes[name].path, "succeeded",
                                         EMPTY_PAYLOAD, clock)))
                elif kind is Event:  # emitted while entries before it waited: numbered already
                    next(seq)
                    add(entry)
                elif kind is Unnumbered:
                    etype, name, path, status, data, at = entry
                    add(_new(Event, (next(seq), etype, eid, name, path, status, data, at)))
                else:  # a node state: succeeded, or stale (then ``invalidated_by`` names the cause)
                    name = entry.name
                    by = entry.invalidated_by
                    if by is None:
                        clock = entry.resolved_at
                        add(_new(Event, (next(seq), "node_succeeded", eid, name, nodes[name].path, "succeeded",
                                         EMPTY_PAYLOAD, clock)))
                    else:
                        if by is not cause or payload is None:
                            cause, payload = by, {"cause": by}
                        add(_new(Event, (next(seq), "node_invalidated", eid, name, nodes[name].path, "stale",
                                         payload, entry.resolved_at)))
            self._clock = clock
            self._log.extend(built)
            del recorded[:n]
            if not recorded:  # (entries recorded meanwhile by another thread may pin values)
                self.pinned = False

    def _load(self) -> None:
        # Under the bus lock when a concurrent runner set one (emitters append under it; it is reentrant, so a
        # subscriber called inside emit may read the log), else under the loader's own lock: either way two
        # first readers never both prepend the stored events.
        with self.lock or self._load_lock:
            loader = self._loader
            if loader is not None:
                events = loader()
                self._log[:0] = events  # in place: writers may hold a reference to this list
                self._loader = None
                self.unloaded = 0

    def count(self) -> int:
        """How many events the log has, without materialising a lazy log."""
        return self.unloaded + len(self._log) + len(self.recorded)

    def last_seq(self) -> int:
        """``seq`` of the latest event (0 when there is none), without materialising a lazy log."""
        with _RECORD_LOCK:
            return self._built_last_seq() + len(self.recorded)

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
                if self.recorded:
                    self._build_recorded()
                event: Event = _new(Event, (next(self._seq), type, self.execution_id, node, path, status, payload,
                                            _now()))
                self._log.append(event)
                if not self.subscribers:
                    return event
                self._undelivered.append(event)
                # the thread delivering hands it over after the events before it; a deferring one leaves it to
                # the next delivery
                if self._delivering or _deferring.get():
                    return event
                self._delivering = True
            self._deliver(lock)
            return event
        recorded = self.recorded
        if recorded:
            if self.subscribers:
                self._build_recorded()
            else:  # it joins the recorded events unbuilt before it, numbered after them
                with _RECORD_LOCK:
                    if recorded:
                        event = _new(Event, (self._built_last_seq() + len(recorded) + 1, type, self.execution_id,
                                             node, path, status, payload, _now()))
                        recorded.append(event)
                        return event
        event = _new(Event, (next(self._seq), type, self.execution_id, node, path, status, payload, _now()))
        self._log.append(event)
        if self.subscribers:
            self._notify(event)
        return event

    def deliver(self) -> None:
        """Hand the events emitted and not delivered yet to the subscribers, on this thread, unless another thread is
        delivering (it hands them over). Only with a ``lock``: without one, events are delivered as emitted."""
        lock = self.lock
        if lock is None or _deferring.get():
            return
        with lock:
            if self._delivering or not self._undelivered:
                return
            self._delivering = True
        self._deliver(lock)

    def _deliver(self, lock: threading.RLock) -> None:
        # Outside the lock: a subscriber may wait for other threads that emit (a nested threads run).
        undelivered = self._undelivered
        try:
            while True:
                with lock:
                    if not undelivered:
                        self._delivering = False
                        return
                    event = undelivered.popleft()
                self._notify(event)
        except BaseException:  # a subscriber interrupted (Ctrl-C): the next emit delivers what is left
            with lock:
                self._delivering = False
            raise

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
        self.recorded.clear()  # in place: a resolver may hold it; what it recorded belonged to the replaced log
        self.pinned = False
        self._log = list(events)
        self.unloaded, self._last_unloaded, self._loader = 0, 0, None
        self._seq = itertools.count(self._log[-1].seq + 1 if self._log else 1)

    def replace_lazily(self, execution_id: str, count: int, last_seq: int, loader: Callable[[], list[Event]]) -> None:
        """Adopt a restored log of ``count`` events ending at ``last_seq`` without building them: ``loader()``
        returns them (in order) the first time ``events`` is read. New events are numbered after ``last_seq``."""
        self.execution_id = execution_id
        self.recorded.clear()
        self.pinned = False
        self._log = []
        if count:
            self.unloaded, self._last_unloaded, self._loader = count, last_seq, loader
            self._load_lock = threading.Lock()
        else:
            self.unloaded, self._last_unloaded, self._loader = 0, 0, None
        self._seq = itertools.count((last_seq if count else 0) + 1)
