"""How the ``EventSimulator`` shows itself: the static views (the coloured graph, status, hints, diagnostics,
the HTML and text a notebook stores) and the ipywidgets view it opens. The acting half — selecting, dry runs,
delivering — is ``igniter_nb.notebook.simulator``; the store reads are ``simulator_reads``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from igniter_nb.notebook import html as h
from igniter_nb.notebook.delivery import (
    error_html,
    note_html,
    pairs,
    plain,
)
from igniter_nb.notebook.render import render_graph
from igniter_nb.notebook.simulator_reads import StoreReads

if TYPE_CHECKING:
    from igniter_nb.notebook.simulator import EventSimulator

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
#: Active workflows listed in the static view (the rest are counted): a store with thousands of them made an output
#: of megabytes, stored in the notebook.
SHOWN_WORKFLOWS = 50


class SimulatorViews(StoreReads):
    """The showing half of ``EventSimulator``, which sets these attributes and defines the members below that
    raise ``NotImplementedError`` here."""

    engine: Any
    contract: Any
    correlation: dict[str, Any] | None
    event: str | None
    payload_text: str
    _view: Any

    @property
    def status(self) -> str | None:
        raise NotImplementedError

    @property
    def deliver_blocked(self) -> str | None:
        raise NotImplementedError

    def awaited_events(self) -> list[str]:
        raise NotImplementedError

    def payload_hint(self, event: str | None = None) -> str | None:
        raise NotImplementedError

    def _ordered(self, correlation: Mapping[str, Any] | None) -> dict[str, Any]:
        raise NotImplementedError

    # ------------------------------------------------------------------ static views
    def svg(self) -> str | None:
        """The selected workflow's graph coloured by state (the notebook renderer for contract instances)."""
        if self.contract is None:
            return None
        from igniter_nb.notebook.reprs import view_status

        ex = self.contract.execution
        # the execution, not only its states: the picture then shows the correlation values, the await
        # deadlines and the inputs supplied (not "unresolved")
        return render_graph(ex.graph, states=ex, status=view_status(ex), engine=self.engine)

    def live_trouble(self) -> str | None:
        """What keeps live updates of the selected workflow (``live=True``) from arriving (``Follow.trouble``: the
        server is being reconnected to, or following ended early), else None."""
        live = getattr(self, "_live", None)
        follow = live.follow if live is not None else None
        return follow.trouble if follow is not None else None

    def status_html(self) -> str:
        """The heading with the selected workflow's correlation and its status badge (or "no workflow selected"), as
        HTML."""
        if self.contract is None:
            return h.heading(f"EventSimulator {self.graph.name}", None, "no workflow selected")
        trouble = self.live_trouble()
        return (h.heading(f"EventSimulator {self.graph.name}", None, pairs(self.correlation))
                + '<div style="font-family:Helvetica,Arial,sans-serif;font-size:13px;margin:2px 0">workflow status: '
                + h.badge(self.status) + "</div>"
                + (error_html("live updates", trouble) if trouble else ""))

    def hint_html(self) -> str:
        """Notes under the payload editor: what to send for an event without a schema; why Deliver is off."""
        notes = [text for text in (self.payload_hint(), self.deliver_blocked) if text]
        return "".join(note_html(text) for text in notes)

    def diagnostics_html(self) -> str:
        """Why the selected workflow waits (or how it ended), and the signals it received."""
        if self.contract is None:
            return ""
        from igniter_nb.workflow.engine import waiting_events

        ex = self.contract.execution
        parts = []
        waits = waiting_events(ex)
        if waits:
            parts.append(h.table(([w["node"], w["event"]] for w in waits), ["waiting at", "for event"],
                                 status_column=None))
        signals = self.contract.signals
        if signals:
            parts.append(h.table(([s["order"], s["event"], s["node"], s.get("idempotency_key"),
                                   h.utc_time(s["received_at"])] for s in signals),
                                 ["#", "event received", "await node", "idempotency key", "received_at (UTC)"],
                                 status_column=None))
        if self.status == "succeeded":
            outputs = []
            for out in self.graph.outputs:
                st = ex.output_state(out.name)
                outputs.append([out.name, str(st.status), plain(st.value)])
            parts.append(h.table(outputs, ["output", "status", "value"]))
        error = (ex.workflow or {}).get("error")
        if error:
            parts.append(error_html(str(error.get("type")), str(error.get("message"))))
        return "".join(parts)

    def to_html(self) -> str:
        """The static view, as the widget opens: status, active workflows, the selected event, the payload and its
        notes, diagnostics and the graph. Results of earlier calls from Python are not part of it (they were
        shown where they were made). The table lists the first ``SHOWN_WORKFLOWS`` (by correlation) of the
        ``LISTED_WORKFLOWS`` most recently saved active workflows and counts the rest."""
        with self._listing():
            return self._static_html()

    def _static_html(self) -> str:
        active, total = self.listed_workflows()
        rows = ([pairs(self._ordered(r.correlation)), r.status, ", ".join(_waits(self.graph, r.snapshot)) or "—"]
                for r in active[:SHOWN_WORKFLOWS])
        parts = [self.status_html(),
                 h.table(rows, ["active workflow", "status", "waiting for"], total=total),
                 h.table([[self.event or "—", ", ".join(self.awaited_events()) or "none"]],
                         ["selected event", "still awaited"], status_column=None),
                 f'<div style="font-family:Helvetica,Arial,sans-serif;font-size:12px;color:{h.NOTE};margin-top:4px">'
                 "payload (JSON)</div>" + h.pre(self.payload_text), self.hint_html(), self.diagnostics_html()]
        svg = self.svg()
        if svg:
            parts.append(svg)
        return "".join(parts)

    def to_text(self) -> str:
        """A plain-text summary: active workflows, the selection, the event, the payload and any note."""
        count = self.active_count()
        lines = [f"EventSimulator {self.graph.name}: {count} active workflow{'' if count == 1 else 's'}"]
        if self.contract is not None:
            lines.append(f"  selected: {pairs(self.correlation)} ({self.status})")
        lines.append(f"  event: {self.event or '-'} (still awaited: {', '.join(self.awaited_events()) or 'none'})")
        lines.append("  payload: " + h.short(self.payload_text, 200))
        lines.extend(f"  note: {text}" for text in (self.payload_hint(), self.deliver_blocked) if text)
        return "\n".join(lines)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        with self._listing():  # the text, the HTML and the widget: the active workflows are listed once
            bundle: dict[str, Any] = h.sendable({"text/plain": self.to_text(), "text/html": self.to_html()})
            try:
                widget = self.widget
                self._view.opened()  # a newly displayed view starts without an old message
                view = widget._repr_mimebundle_()
            except Exception:  # no ipywidgets or no kernel comm: the static parts are the whole output
                return bundle
        if isinstance(view, dict) and WIDGET_MIME in view:
            bundle[WIDGET_MIME] = view[WIDGET_MIME]
        return bundle

    # ------------------------------------------------------------------ widget
    @property
    def widget(self) -> Any:
        """The ipywidgets view (``simulator_widget.SimulatorView``): workflow and event dropdowns, a JSON payload
        editor with its notes, Dry-run and Deliver buttons, a status line, a message area, the coloured graph
        and the diagnostics."""
        if self._view is None:
            from igniter_nb.notebook.simulator_widget import SimulatorView

            self._view = SimulatorView(cast("EventSimulator", self))
        return self._view.root

    def _sync_widget(self, *, clear_message: bool = False) -> None:
        """Put the object's state into the widget (no-op before the widget is built)."""
        if self._view is not None:
            self._view.sync(clear_message=clear_message)


def _waits(graph: Any, snapshot: Mapping[str, Any] | None) -> list[str]:
    """Events a stored snapshot's await nodes wait for (read from the snapshot, nothing restored)."""
    states = snapshot.get("states") if isinstance(snapshot, Mapping) else None
    if not isinstance(states, Mapping):  # a snapshot edited by hand: it waits for nothing the view can tell
        return []
    return [n.event for n in graph.await_nodes
            if isinstance(states.get(n.name), Mapping) and states[n.name].get("status") == "waiting"]


__all__ = ["SHOWN_WORKFLOWS", "WIDGET_MIME", "SimulatorViews"]
