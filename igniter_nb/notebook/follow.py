"""``ig.nb.Follow``: one execution, live — its coloured graph, status and latest events, updated as other threads,
processes or servers save new versions of it.

    follow = ig.nb.Follow(execution_id, store)      # a store: the change feed (ig.stores.watch)
    follow = ig.nb.Follow(execution_id, client)     # an ig.server.Client: the server's live stream (SSE)
    follow                                          # the widget; updates by itself
    follow.wait(status="succeeded", timeout=30)     # plain Python: block until it gets there
    follow.updates[-1].events                       # what the last version added
    follow.stop()

Nothing polls the whole store: a store is followed with ``ig.stores.watch`` (native wake-ups where the store has
them, else a version number read every ``poll_interval``), a server with ``GET /v1/executions/{id}/events``, whose
``status`` messages say when a new version was saved — then only that execution's latest record is read (its whole
history when versions were skipped), so every version reaches ``updates`` once, in order.

The following runs in a daemon thread (an asyncio loop of its own for a server's stream, so ``stop()`` cancels a
read at once); a cell never blocks on it. It stops by itself when the execution finishes or is deleted, on
``stop()``, when the widget is closed, and when the ``Follow`` is garbage-collected. Widget values are set from that
thread: ipykernel sends comm messages from any thread, and ``HTML`` widgets take a new ``value`` at any time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from igniter_nb.diagnostics.cut import cut_text
from igniter_nb.notebook import html as h
from igniter_nb.notebook.follow_threads import _events_after, _follow_client, _follow_store, _Running
from igniter_nb.notebook.render import Engine, render_graph
from igniter_nb.notebook.snapshot_view import SnapshotInstance
from igniter_nb.notebook.sources import is_client, store_of
from igniter_nb.stores.base import FINISHED_STATUSES

#: CSS classes of the widget's parts (stable: the browser test finds them).
CSS = {"root": "igniter-follow", "status": "igniter-follow-status", "graph": "igniter-follow-graph",
       "events": "igniter-follow-events"}
_JOIN_SECONDS = 5.0
#: Attempts in a row to open a server's stream again after it dropped, before following ends with the error.
RECONNECTS = 5
#: Seconds before the first of them, doubled for each next one (at most 10 s).
RECONNECT_DELAY = 1.0


async def _pause(seconds: float) -> None:
    """The wait before opening a dropped stream again (``follow_threads``; a name of its own: tests hold following
    in its reconnecting state through it)."""
    import asyncio

    await asyncio.sleep(seconds)


@dataclass(frozen=True, slots=True, repr=False)
class FollowUpdate:
    """One saved version as the view received it: its number, status and save time, the execution events it added
    (``{seq, type, node, path, status, payload, timestamp}``, in ``seq`` order) and the stored record.

    ``events`` and ``record`` are the stored data, a remote node's ``remote_url`` with its password; ``repr()``
    shows them with that password as ``***`` (``settings.without_url_passwords``), as every view does."""

    version: int
    status: str | None
    updated_at: dt.datetime
    events: tuple[Mapping[str, Any], ...]
    record: Any

    def __repr__(self) -> str:
        from igniter_nb.settings import without_url_passwords

        record = self.record
        snapshot = getattr(record, "snapshot", None)
        if dataclasses.is_dataclass(record) and not isinstance(record, type) and isinstance(snapshot, Mapping):
            record = dataclasses.replace(record, snapshot=without_url_passwords(snapshot))
        events = without_url_passwords(self.events)
        return (f"FollowUpdate(version={self.version!r}, status={self.status!r}, updated_at={self.updated_at!r}, "
                f"events={tuple(events)!r}, record={record!r})")


def _when(timestamp: Any) -> str:
    if not isinstance(timestamp, int | float) or isinstance(timestamp, bool):
        return ""
    try:
        return str(h.utc_time(dt.datetime.fromtimestamp(timestamp, dt.UTC)))  # (as every table shows a moment)
    except (OverflowError, OSError, ValueError):  # a stored time no clock can give (1e300, inf, NaN): as stored
        return str(timestamp)[:40]


def _error(event: Mapping[str, Any]) -> str | None:
    """The error an event carries (its payload's ``error`` text), else ``None``."""
    payload = event.get("payload")
    error = payload.get("error") if isinstance(payload, Mapping) else None
    return error if isinstance(error, str) and error else None


class Follow:
    """Follow execution ``execution_id`` in ``source`` — a store (default: the configured one), an
    ``ig.server.Client`` or a ``ServiceStore``. See the module docstring.

    ``graph``: the contract class or graph to draw (default: found from the stored snapshot, as the
    ``SnapshotStepper`` finds it); ``latest``: how many recent events the view lists; ``on_update``: called with
    each ``FollowUpdate`` (the first look included), from the following thread; ``start=False``: read once, follow
    only after ``start()``; ``poll_interval``: for stores without native wake-ups.

    State (plain Python, tests need no browser): ``updates`` (one ``FollowUpdate`` per version received),
    ``record``/``version``/``status``/``finished``, ``events`` (every execution event seen), ``running``, ``error``
    (why following ended early: the execution was deleted, the server could not be reached, a callback failed).
    """

    def __init__(self, execution_id: str, source: Any = None, *, graph: Any = None, latest: int = 8,
                 engine: Engine = "auto", on_update: Callable[[FollowUpdate], Any] | None = None, start: bool = True,
                 poll_interval: float = 0.25) -> None:
        from igniter_nb.notebook.stepper_sources import graph_for

        if not isinstance(execution_id, str) or not execution_id:
            raise TypeError(f"Follow needs an execution id (text), got {execution_id!r:.80}")
        if isinstance(latest, bool) or not isinstance(latest, int) or latest < 0:
            raise ValueError(f"latest= is how many events to list (an int >= 0), got {latest!r}")
        if isinstance(poll_interval, bool) or not isinstance(poll_interval, int | float) or \
                not 0.01 <= poll_interval <= 600:
            raise ValueError(f"poll_interval= is seconds from 0.01 to 600 (as the change feed takes), got {poll_interval!r}")
        if source is None:
            from igniter_nb.config import default_store

            source = default_store()
        self.execution_id = execution_id
        self.source = source
        self.store = store_of(source, "Follow")
        client = getattr(self.store, "client", None)
        self._client = client if is_client(client) else None  # a server: follow its stream
        self.latest = latest
        self.engine = engine
        self.on_update = on_update
        self.poll_interval = poll_interval
        self.updates: list[FollowUpdate] = []
        self.events: list[Mapping[str, Any]] = []
        self.error: str | None = None
        self.reconnecting: str | None = None  # why, while a dropped stream is being opened again
        self._resume_id: str | None = None  # the id of the last event a server's stream sent (seq-epoch)
        self.on_state: Callable[[], Any] | None = None  # called when following changes state (see _told)
        self._changed = threading.Condition()
        self._calling_back = False  # on_update runs: ``wait`` returns only once it has returned
        self._running = _Running()
        self._thread: threading.Thread | None = None
        self._view: Any = None
        first = self.store.record(execution_id)  # SnapshotNotFoundError at once for an unknown execution
        contract = first.snapshot.get("contract")
        self.graph = graph_for(graph, first.graph, contract if isinstance(contract, str) else None)
        self._apply(first)
        # a Follow nobody holds stops following (its thread holds only a weak reference to it)
        weakref.finalize(self, self._running.halt)
        if start:
            self.start()

    def __repr__(self) -> str:
        return f"<Follow {self.execution_id} v{self.version} {self.status} ({self.state})>"

    # ------------------------------------------------------------------ state
    @property
    def record(self) -> Any:
        """The latest stored record received (``StoredExecution``)."""
        return self.updates[-1].record

    @property
    def version(self) -> int:
        """The latest stored version received."""
        return self.updates[-1].version

    @property
    def status(self) -> str | None:
        """The execution's status as of that version (a workflow's own status)."""
        return self.updates[-1].status

    @property
    def finished(self) -> bool:
        """The execution has finished (succeeded, failed, cancelled, timed out): nothing more will come."""
        return self.status in FINISHED_STATUSES

    @property
    def running(self) -> bool:
        """The following thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def _following(self) -> bool:
        """Following goes on: the thread is alive and has neither been told to stop nor ended. (The thread is still
        alive while it reports its end: the view it redraws then, and a ``wait`` it wakes, must see it ended.)"""
        return self.running and not self._running.stop.is_set()

    def _last_seq(self) -> int:
        return int(self.events[-1]["seq"]) if self.events else 0

    def _apply(self, record: Any) -> None:
        """Take a newly stored version (versions already seen are ignored), then tell the view and the callback."""
        with self._changed:
            if self.updates and record.version <= self.version:
                return
            update = FollowUpdate(int(record.version), record.status, record.updated_at,
                                  _events_after(record.snapshot, self._last_seq()), record)
            self.updates.append(update)
            self.events.extend(update.events)
            if self._view is not None:  # redrawn before ``wait`` can see the version (see _told)
                self._view.refresh()
            self._calling_back = self.on_update is not None  # ... and called back (below)
            self._changed.notify_all()
        if self.on_update is not None:  # (the caller's own code: never run holding the lock)
            try:
                self.on_update(update)
            except Exception as exc:  # a callback's failure is reported, never kills the following
                self.error = f"on_update raised {type(exc).__name__}: {exc}"
            finally:
                with self._changed:
                    self._calling_back = False
                    self._changed.notify_all()

    # ------------------------------------------------------------------ starting and stopping
    def start(self) -> Follow:
        """Start following (a no-op when already following or finished)."""
        if self._following() or self.finished:
            return self
        self.error = self.reconnecting = None  # why the last following ended: this one has not
        self._running = running = _Running()
        weakref.finalize(self, running.halt)
        target = _follow_client if self._client is not None else _follow_store
        self._thread = threading.Thread(target=target, args=(weakref.ref(self), running), daemon=True,
                                        name=f"igniter-follow-{self.execution_id[:40]}")
        self._thread.start()
        if self._view is not None:  # (it said "stopped")
            self._view.refresh()
        return self

    def stop(self, timeout: float = _JOIN_SECONDS) -> Follow:
        """Stop following (returns once the thread has ended, at most ``timeout`` seconds)."""
        self._running.halt()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return self

    def _reconnecting(self, note: str | None) -> None:
        """The stream dropped and is being opened again (``note`` says which attempt and why), or is back (None)."""
        with self._changed:  # ``wait`` reads the new state only once the views show it (see _told)
            if note == self.reconnecting:
                return
            self.reconnecting = note
            self._told()

    def _ended(self, error: str | None = None) -> None:
        with self._changed:
            if error is not None:
                self.error = error
            self._told()

    def _told(self) -> None:
        """Following changed state (reconnecting, back, ended): redraw the views, then wake ``wait`` — in that order,
        so that a cell woken by it sees them redrawn. ``on_state`` (set by ``live=True`` widgets) redraws theirs.
        The callers change the state and call this holding ``_changed`` (re-entrant), so a ``wait`` that checks its
        condition meanwhile cannot see the new state before the views are redrawn (it raced them: a test read the
        old text after ``wait(lambda f: f.reconnecting)`` returned)."""
        if self._view is not None:
            self._view.refresh()
        if self.on_state is not None:
            with contextlib.suppress(Exception):  # (a view that cannot redraw does not stop the following)
                self.on_state()
        with self._changed:
            self._changed.notify_all()

    @property
    def trouble(self) -> str | None:
        """What keeps live updates from arriving, for a view that shows them: ``reconnecting (…)`` while a dropped
        stream is opened again, ``stopped: <error>`` once following ended early; else None."""
        if self.reconnecting and self._following():
            return self.reconnecting
        if self.error and not self._following() and not self.finished:
            return f"stopped: {self.error}"
        return None

    def wait(self, until: Callable[[Follow], bool] | None = None, *, version: int | None = None,
             status: str | None = None, timeout: float = 10.0) -> Follow:
        """Block until ``until(follow)`` is true, ``version`` is reached or ``status`` is the status (given nothing:
        until the execution finishes) and ``on_update`` has returned for that version; ``TimeoutError`` after
        ``timeout`` seconds or when following ended first."""
        def reached() -> bool:
            if self._calling_back and threading.current_thread() is not self._thread:  # (the callback may wait)
                return False
            if until is not None:
                return bool(until(self))
            if version is not None or status is not None:
                return (version is None or self.version >= version) and (status is None or self.status == status)
            return self.finished

        with self._changed:
            done = self._changed.wait_for(lambda: reached() or not self._following(), timeout)
            if done and reached():
                return self
        why = f"; following ended: {self.error}" if self.error else ("; following ended" if not self._following() else "")
        raise TimeoutError(f"execution {self.execution_id} did not get there within {timeout}s (now version "
                           f"{self.version}, {self.status}{why})")

    # ------------------------------------------------------------------ views
    def svg(self) -> str | None:
        """The graph coloured as of the latest version (``None`` when the contract class is unknown: pass graph=)."""
        if self.graph is None:
            return None
        record = self.record
        return render_graph(self.graph, states=SnapshotInstance.of(record.snapshot), status=record.status,
                            engine=self.engine)

    @property
    def state(self) -> str:
        """``finished`` (the execution has: nothing more will come), ``following`` or ``stopped``."""
        return "finished" if self.finished else "following" if self._following() else "stopped"

    def status_html(self) -> str:
        """The heading: graph name, status badge, version and whether it is still followed."""
        note = f"version {self.version} · {self.state}"
        if self.reconnecting and self._following():
            note += f" · {self.reconnecting}"
        if self.error:
            note += f" · {self.error}"
        note = cut_text(note, h.OPEN_LIMIT, say_how_much=True)  # (a server's error may be as long as it likes)
        return h.heading(f"Follow {getattr(self.graph, 'name', None) or self.record.graph or ''}".rstrip(),
                         self.status, note)

    def events_html(self) -> str:
        """The ``latest`` events as an HTML table, newest first (empty before any); when one of them carries an
        error (``node_failed``, ``execution_failed``, ``workflow_failed``), an ``error`` column with it, cut, that
        opens to the whole message — a failed workflow's error was nowhere in the view but the first line the
        picture's node shows."""
        shown = self.events[-self.latest:] if self.latest else []
        rows = [[e.get("seq"), e.get("type"), e.get("node") or "", e.get("status"), _when(e.get("timestamp")),
                 _error(e)] for e in reversed(shown)]
        columns = ["seq", "event", "node", "status", "at (UTC)", "error"]
        if all(row[-1] is None for row in rows):
            rows, columns = [row[:-1] for row in rows], columns[:-1]
        return h.table(rows, columns, total=len(self.events), nowrap=("at (UTC)",)) if rows else ""

    def to_html(self) -> str:
        """The static view: status line, the latest events (newest first) and the graph."""
        return self.status_html() + self.events_html() + (self.svg() or "")

    def to_text(self) -> str:
        """Plain text: the execution, its version, status and state, then the ``latest`` events."""
        lines = [f"Follow {self.execution_id}: version {self.version}, {self.status} ({self.state})"]
        for e in self.events[-self.latest:] if self.latest else []:
            error = _error(e)
            said = f": {cut_text(error.replace(chr(10), ' '), h.MAX_CELL, say_how_much=True)}" if error else ""
            lines.append(f"  #{e.get('seq')} {e.get('type')} {e.get('node') or ''}".rstrip() + said)
        if self.error:
            lines.append(f"  {self.error}")
        return "\n".join(lines)

    @property
    def widget(self) -> Any:
        """The ipywidgets view (status line, graph, latest events), updated by the following thread."""
        if self._view is None:
            self._view = _FollowView(self)
        return self._view.root

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from igniter_nb.notebook.widgets import bundle_with_view

        return bundle_with_view(lambda: self.widget, self.to_text(), self.to_html())


class _FollowView:
    """The widget of a ``Follow``: three ``HTML`` parts redrawn on each update. Closing it stops the following."""

    def __init__(self, follow: Follow) -> None:
        from igniter_nb.notebook.extras import ipywidgets

        w = ipywidgets()

        self.follow = follow
        self.status, self.graph, self.events = w.HTML(), w.HTML(), w.HTML()
        self.root = w.VBox([self.status, self.events, self.graph])
        self.root.add_class(CSS["root"])
        for key in ("status", "graph", "events"):
            getattr(self, key).add_class(CSS[key])
        self._drawn: int | None = None
        self._lock = threading.Lock()
        self.refresh()
        self.root.observe(self._closed, names="comm")

    def refresh(self) -> None:
        follow = self.follow
        with self._lock:  # the following thread and the cell's thread may both redraw
            if self._drawn != follow.version:
                self.graph.value = follow.svg() or ""
                self.events.value = follow.events_html()
                self._drawn = follow.version
            self.status.value = follow.status_html()

    def _closed(self, change: Mapping[str, Any]) -> None:
        if change.get("new") is None:
            self.follow.stop(timeout=0)


__all__ = ["CSS", "Follow", "FollowUpdate"]
