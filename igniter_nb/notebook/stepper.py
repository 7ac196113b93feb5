"""``SnapshotStepper``: step through an execution's history, one audit event or one saved version at a time.

Sources (``SnapshotStepper(source, execution_id=None, graph=None)``):

* a **store** (any ``ExecutionStore``, a ``ParquetStore`` included) with ``execution_id``: each version saved
  by ``store.history_records(id)`` (or ``store.history(id)``) is a step; an ``ig.server.Client`` reads the same
  from a running server (``GET /v1/executions/{id}/history``);
* a **snapshot log**: a ``ParquetStore`` directory, a parquet file or directory written by ``ParquetStore`` or
  ``ig.stores.export_parquet``, or a DataFrame with its columns (``execution_id, version, saved_at, graph,
  status, correlation, snapshot``; e.g. ``ParquetStore.to_frame()``): one step per row of the chosen execution,
  in version order — ``execution_id`` may be left out when the log holds one execution;
* an **audit frame** (``contract.audit.to_frame()``), or a parquet file of one: one step per event, node
  states rebuilt by ``frames.ReplayLog``.

A store that pages its history (memory, SQL, Redis) is read ``VERSION_PAGE`` (50) versions at a time, when a step
of the page is first looked at: opening a history of 10,000 versions reads the latest one only
(``stepper_sources.LazyVersions``). Snapshots are parsed and their node states summarised once per step and kept (a step is a dict lookup after
the first visit); pictures are cached per step as well, so moving back and forth stays far below the 100 ms
bar (B7).
"""

from __future__ import annotations

import datetime as dt
import operator
import os
import threading
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from igniter_nb._error_text import shown_text
from igniter_nb.notebook import html as h
from igniter_nb.notebook.delivery import error_html
from igniter_nb.notebook.live import FollowSteps, locked
from igniter_nb.notebook.render import Engine, render_graph
from igniter_nb.notebook.snapshot_view import SnapshotInstance, snapshot_view
from igniter_nb.notebook.sources import as_store
from igniter_nb.notebook.stepper_sources import (
    SNAPSHOT_LOG_COLUMNS,
    LazyVersions,
    Version,
    graph_for,
    log_versions,
    open_versions,
    pick_execution,
    read_log,
)

if TYPE_CHECKING:

    from igniter_nb.notebook.frames import ReplayLog

_SVG_CACHE = 64  # pictures kept (they are the biggest thing a step makes)
_WORST = ("failed", "waiting", "pending", "running", "stale")


class SavedVersion(NamedTuple):
    """One saved version of an execution, as a stepper step over a store or a snapshot log."""

    step: int
    version: int
    saved_at: dt.datetime | None
    status: str | None  # the status stored with this version (a workflow's status), if known
    snapshot: dict[str, Any]


STEP_ROWS = 200  # changed nodes a step's table shows (``changes()`` has them all): a step's view stays bounded


class StateChange(NamedTuple):
    """A node whose state differs from the previous step: status before/after and (for snapshot steps) its value
    before/after as short text."""

    node: str
    before: str
    after: str
    value_before: str | None = None
    value_after: str | None = None


class SnapshotStepper:
    """Step through an execution's history: a store's saved versions, a parquet snapshot log, or an audit frame.

    ``steps`` (a range, one per audit event or saved version), ``goto(i)`` (negative counts from the end),
    ``next()``, ``prev()`` (each returns ``current``), ``current`` (a ``frames.ReplayStep`` for audit
    sources, the stored snapshot dict otherwise), ``version`` (the ``SavedVersion`` of a snapshot step),
    ``current_states`` (node → ``{status, version, waiting_for, event, error_type, value, token, payload, error}``),
    ``current_status``, ``diff()`` (``{node: (status before, status after)}`` against the previous step),
    ``changes()`` (``StateChange`` rows, also for nodes whose value changed with the same status), ``svg()``
    (the graph coloured at this step) and ``widget`` (slider, play, previous/next, graph and diff table).
    """

    def __init__(self, source: Any, execution_id: str | None = None, *, graph: Any = None,
                 engine: Engine = "auto", live: bool = False) -> None:
        from igniter_nb.notebook import frames

        self.engine = engine
        self._lock = threading.RLock()
        self._following: FollowSteps | None = None
        self._views_open: weakref.WeakSet[Any] = weakref.WeakSet()
        self.index = 0
        self.execution_id: str | None = execution_id
        self._live: Any = None  # the live view (``widget``), once built
        self._log: ReplayLog | None = None
        self._versions: list[Version] | LazyVersions | None = None
        self._views: dict[int, dict[str, dict[str, Any]]] = {}
        self._svgs: dict[int, str | None] = {}
        graph_name: str | None = None
        source = as_store(source)  # a Client reads through the server (ServiceStore)
        if hasattr(source, "history") and hasattr(source, "list"):  # a store
            if execution_id is None:
                raise ValueError("SnapshotStepper(store) needs execution_id= (the execution to step through)")
            versions = open_versions(source, execution_id)  # a paging store: read on first look, a page at a time
            self._versions = versions
            if isinstance(versions, LazyVersions):
                graph_name = versions[-1].graph  # the latest version's (read on opening)
            else:
                graph_name = next((v.graph for v in reversed(versions) if v.graph), None)
        else:
            import pandas as pd

            if not isinstance(source, str | os.PathLike | pd.DataFrame):
                raise TypeError("SnapshotStepper reads a store (with execution_id=), an ig.server.Client, an audit "
                                "frame, a snapshot log (a DataFrame or a parquet path), got "
                                f"{type(source).__name__} {source!r:.80}")
            frame = read_log(source, execution_id) if isinstance(source, str | os.PathLike) else source
            if "snapshot" in frame.columns:
                self.execution_id = execution_id = pick_execution(frame, execution_id, source)
                self._versions = log_versions(frame[frame["execution_id"] == execution_id])
                graph_name = next((v.graph for v in reversed(self._versions) if v.graph), None)
            else:
                if execution_id is not None and "execution_id" in frame.columns:
                    frame = frame[frame["execution_id"] == execution_id]
                self._log = frames.ReplayLog(frame)
                graph_name = self._log.graph
        if not len(self):
            found = f" for execution {execution_id!r}" if execution_id is not None else ""
            raise ValueError(f"nothing to step through: the source has no events or saved versions{found}")
        if self._versions is not None and self.execution_id is None:
            self.execution_id = execution_id
        ref = None
        if self._versions is not None:
            contract = self._versions[-1].snapshot.get("contract")
            ref = contract if isinstance(contract, str) else None
        self.graph = graph_for(graph, graph_name, ref)
        if live:
            if self._versions is None or not hasattr(source, "list"):
                raise ValueError("live=True follows a store or a server: give SnapshotStepper a store or an "
                                 "ig.server.Client, with execution_id=")
            self._following = FollowSteps(self, source)

    def __len__(self) -> int:
        return len(self._log) if self._log is not None else len(self._versions or [])

    def __repr__(self) -> str:
        return f"<SnapshotStepper {getattr(self.graph, 'name', '?')} {self.describe()}>"

    @property
    def steps(self) -> range:
        """The step indexes, ``range(len(stepper))``: one per audit event or saved version."""
        return range(len(self))

    # ------------------------------------------------------------------ live
    @property
    def live(self) -> bool:
        """Whether new versions are still being followed (``live=True``, until ``stop()`` or the end)."""
        return self._following is not None and self._following.follow.state == "following"

    def live_trouble(self) -> str | None:
        """What keeps new versions from arriving (``live=True``; ``Follow.trouble``: the server is being reconnected
        to, or following ended early), else None. Each step's view says it under its heading."""
        return self._following.follow.trouble if self._following is not None else None

    @locked
    def _live_state_changed(self) -> None:
        for view in list(self._views_open):
            view.redraw()

    def stop(self) -> SnapshotStepper:
        """Stop following new versions (``live=True``); the steps so far stay."""
        if self._following is not None:
            self._following.stop()
        return self

    @locked
    def _take_version(self, record: Any, source: Any) -> None:
        """A version saved after the stepper read its history becomes a step (``live=True``); versions skipped in
        between are read from the history first. The stepper and the views at the last step move on to it."""
        assert self._versions is not None
        last = self._versions[-1].version
        if record.version <= last:
            return
        records = [record]
        if record.version > last + 1:
            records = [r for r in source.history_records(record.execution_id) if r.version > last]
        at_end = self.index == len(self) - 1
        self._versions.extend(Version(int(r.version), r.updated_at, r.status, r.graph, r.snapshot) for r in records)
        if at_end:
            self.index = len(self) - 1
        for view in list(self._views_open):
            view.grew()

    # ------------------------------------------------------------------ moving
    @locked
    def goto(self, index: int) -> Any:
        """Move to step ``index`` (0-based like ``steps``; negative counts from the end) and return ``current``.
        Displays show the same step as ``step index+1/N``."""
        self.index = self._checked(index)
        if self._live is not None:
            self._live.show(self.index, move_stepper=False)
        return self.current

    def next(self) -> Any:
        """One step forward (stays on the last step)."""
        return self.goto(min(self.index + 1, len(self) - 1))

    def prev(self) -> Any:
        """One step back (stays on the first step)."""
        return self.goto(max(self.index - 1, 0))

    def _checked(self, index: int) -> int:
        try:
            if isinstance(index, bool):
                raise TypeError
            index = operator.index(index)  # an int, or a numpy integer read from a frame
        except TypeError:
            raise TypeError(f"a step is an int, got {type(index).__name__} {index!r}") from None
        given = index
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):  # named as given: goto(-5) of 3 steps is not "step -2"
            raise IndexError(f"step {given} out of range: {len(self)} step{'s' if len(self) != 1 else ''} "
                             f"(0..{len(self) - 1}, or -{len(self)}..-1 from the end)")
        return index

    def _at(self, index: int | None) -> int:
        return self.index if index is None else self._checked(index)

    # ------------------------------------------------------------------ reading
    @property
    def current(self) -> Any:
        """The step: a ``ReplayStep`` (audit sources) or the stored snapshot dict (stores, snapshot logs)."""
        if self._log is not None:
            return self._log.step(self.index)
        return self._version(self.index).snapshot

    @property
    def version(self) -> SavedVersion | None:
        """The saved version at this step (version number, saved_at, stored status, snapshot); ``None`` for audit
        sources."""
        if self._versions is None:
            return None
        v = self._version(self.index)
        return SavedVersion(self.index, v.version, v.saved_at, v.status, v.snapshot)

    @property
    def current_states(self) -> dict[str, dict[str, Any]]:
        """Node name → ``{status, version, waiting_for, event, error_type, value, token, payload, error}`` at this
        step (``value`` is short display text; ``token``/``payload`` a deferred node's, ``error`` the error message;
        audit steps know no values, versions, tokens or messages)."""
        return {name: dict(view) for name, view in self._view(self.index).items()}

    def statuses(self, index: int | None = None) -> dict[str, str]:
        """Node name → status at step ``index`` (default: the current step)."""
        return {name: view["status"] for name, view in self._view(self._at(index)).items()}

    @property
    def current_status(self) -> str:
        """The execution's status at this step (see ``status_at``)."""
        return self.status_at(self.index)

    def status_at(self, index: int | None = None) -> str:
        """The execution's status at step ``index`` (default: the current one): the status stored with the version
        (a workflow's own status, else the snapshot's), else the worst node status (``failed`` > ``waiting`` >
        ``pending`` > ``running`` > ``stale``, then ``succeeded``; ``unresolved`` before any node ran)."""
        i = self._at(index)
        if self._versions is not None:
            v = self._version(i)
            workflow = v.snapshot.get("workflow") if isinstance(v.snapshot.get("workflow"), Mapping) else None
            status = v.status or (workflow or {}).get("status") or v.snapshot.get("status")
            if status:
                return str(status)
        found = set(self.statuses(i).values())
        for status in _WORST:
            if status in found:
                return status
        return "succeeded" if found else "unresolved"

    def diff(self, index: int | None = None) -> dict[str, tuple[str, str]]:
        """Nodes whose status changed since the previous step: name → (before, after); ``unresolved`` for a node
        without a state. The first step is compared with nothing having run."""
        return {c.node: (c.before, c.after) for c in self.changes(index) if c.before != c.after}

    def changes(self, index: int | None = None) -> list[StateChange]:
        """Every node whose state changed since the previous step, sorted by name: status changes, and for snapshot
        steps also nodes whose value changed with the same status (recomputed, or an input updated), with their
        values before and after as short text."""
        i = self._at(index)
        before = self._view(i - 1) if i > 0 else {}
        after = self._view(i)
        found: list[StateChange] = []
        for name in sorted({*before, *after}):
            old, new = before.get(name), after.get(name)
            old_status = old["status"] if old else "unresolved"
            new_status = new["status"] if new else "unresolved"
            if old_status == new_status and (self._versions is None or (old or {}).get("value") == (new or {}).get("value")):
                continue  # same status and same value: re-resolving to the same thing is no change
            found.append(StateChange(name, old_status, new_status, (old or {}).get("value"), (new or {}).get("value")))
        return found

    def describe(self, index: int | None = None) -> str:
        """One line: ``step 3/7: version 3 — waiting`` or ``step 12/40: node_waiting approval — waiting`` (steps
        counted from 1 here, as on the slider)."""
        i = self._at(index)
        if self._log is not None:
            step = self._log.step(i)
            what = f"{step.type} {step.node or ''}".strip()
        else:
            what = f"version {self._version(i).version}"
        return f"step {i + 1}/{len(self)}: {what} — {self.status_at(i)}"

    # ------------------------------------------------------------------ views
    def svg(self, index: int | None = None) -> str | None:
        """The graph coloured by the node states at step ``index`` (default: the current one); ``None`` when the
        contract class is unknown (pass ``graph=``)."""
        if self.graph is None:
            return None
        i = self._at(index)
        if i not in self._svgs:
            if len(self._svgs) >= _SVG_CACHE:
                self._svgs.pop(next(iter(self._svgs)))
            states: Any = self._view(i)
            if self._versions is not None:  # a snapshot also knows its inputs and workflow record
                states = SnapshotInstance.of(self._version(i).snapshot, states)
            self._svgs[i] = render_graph(self.graph, states=states, status=self.status_at(i), engine=self.engine)
        return self._svgs[i]

    def diff_table_html(self, index: int | None = None) -> str:
        """The changes of a step as an HTML table (statuses as badges)."""
        changes = self.changes(index)
        if not changes:
            return h.heading("no node changed at this step")
        with_values = self._versions is not None
        columns = ["node", "before", "after", *(["value before", "value after"] if with_values else [])]
        rows = [[c.node, c.before, c.after, *([c.value_before or "", c.value_after or ""] if with_values else [])]
                for c in changes[:STEP_ROWS]]
        more = len(changes) - len(rows)
        note = (f'<div style="font-size:11px;color:{h.NOTE}">… {more} more changed nodes (all of them: '
                f"stepper.changes())</div>" if more > 0 else "")
        return _table(rows, columns, badges=(1, 2)) + note

    def to_html(self, index: int | None = None) -> str:
        """The static view of a step (default: the current one): heading, diff table, graph."""
        i = self._at(index)
        title = f"SnapshotStepper {getattr(self.graph, 'name', '')}".strip()
        trouble = self.live_trouble()
        parts = [h.heading(title, self.status_at(i), self.describe(i)),
                 error_html("live updates", trouble) if trouble else "", self.diff_table_html(i)]
        svg = self.svg(i)
        if svg:
            parts.append(svg)
        return "".join(parts)

    def to_text(self, index: int | None = None) -> str:
        """Step ``index`` (default: the current one) as text: its ``describe`` line, then each node that changed
        (status, and the value when only the value moved)."""
        i = self._at(index)
        lines = [self.describe(i)]
        changes = self.changes(i)
        for c in changes[:STEP_ROWS]:
            line = f"  {c.node}: {c.before} -> {c.after}"
            if c.before == c.after and c.value_after is not None:
                line += f" (value: {c.value_before} -> {c.value_after})"
            lines.append(line)
        if len(changes) > STEP_ROWS:
            lines.append(f"  … {len(changes) - STEP_ROWS} more changed nodes (all of them: stepper.changes())")
        return "\n".join(lines)

    @property
    def widget(self) -> Any:
        """The live view (``stepper_widget.StepperView``): play, previous/next, a step slider numbered like the
        heading (1..N), the diff table and the coloured graph. It follows ``goto``/``next``/``prev`` from Python."""
        if self._live is None:
            from igniter_nb.notebook.stepper_widget import StepperView

            self._live = StepperView(self, self.index, live=True)
            self._views_open.add(self._live)
        return self._live.root

    def view(self, step: int | None = None) -> Any:
        """A new widget pinned at ``step`` (default: the current one). It moves only with its own controls (which
        also move the stepper), so it keeps showing its step when later code moves the stepper. Displaying the
        stepper shows one of these."""
        from igniter_nb.notebook.stepper_widget import StepperView

        view = StepperView(self, self._at(step), live=False)
        self._views_open.add(view)
        return view.root

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from igniter_nb.notebook.widgets import bundle_with_view

        try:
            text, page = self.to_text(), self.to_html()
        except Exception as exc:  # a repr never raises: the step that cannot be shown, and why (a damaged log)
            text = f"SnapshotStepper: step {self.index} cannot be shown: {type(exc).__name__}: {shown_text(exc)}"
            return h.sendable({"text/plain": text, "text/html": h.pre(text)})  # type: ignore[no-any-return]
        return bundle_with_view(self.view, text, page)

    # ------------------------------------------------------------------ internals
    def _version(self, index: int) -> Version:
        assert self._versions is not None
        return self._versions[index]

    def _view(self, index: int) -> dict[str, dict[str, Any]]:
        view = self._views.get(index)
        if view is None:
            if self._log is not None:
                view = {name: {"status": st.status, "waiting_for": list(st.waiting_for), "event": st.event,
                               "error_type": st.error, "version": None, "value": None, "token": None,
                               "payload": None, "error": None}
                        for name, st in self._log.states_at(index).items()}
            else:
                view = snapshot_view(self._version(index).snapshot)
            self._views[index] = view
        return view


def _table(rows: list[list[str]], columns: list[str], *, badges: tuple[int, ...]) -> str:
    """An HTML table of text cells (escaped), the ``badges`` columns drawn as status badges."""
    from igniter_nb.notebook.html import escape

    head = "".join(f"<th {h.HEAD}>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td {h.CELL}>{h.badge(v)}</td>" if k in badges
                                    else f"<td {h.wrapping_cell(escape(v))}>{escape(v)}</td>"
                                    for k, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table {h.TABLE}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


__all__ = ["SNAPSHOT_LOG_COLUMNS", "SavedVersion", "SnapshotStepper", "StateChange"]
