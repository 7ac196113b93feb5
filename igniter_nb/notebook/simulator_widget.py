"""The EventSimulator's ipywidgets 8 view: a thin layer over the plain ``EventSimulator`` object.

Every control calls the object (``select``, ``dry_run``, ``deliver``) and then redraws from it; nothing is
decided here. The message area belongs to the view: it shows what *its* buttons did (a dry run, a delivery's
confirmation, an error) and starts empty whenever the simulator is displayed, so a view never opens showing a
result that was produced elsewhere. Changing the workflow or the event clears it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from igniter_nb.notebook.delivery import error_html, error_record, pairs

if TYPE_CHECKING:
    from igniter_nb.notebook.simulator import EventSimulator


class SimulatorView:
    """The widgets of one simulator: ``root`` (a ``VBox``) and its parts ``workflow``, ``event``, ``payload``,
    ``hint``, ``dry_run``, ``deliver``, ``status``, ``message``, ``graph``, ``diagnostics`` (each carries its
    ``simulator.CSS`` class)."""

    def __init__(self, sim: EventSimulator) -> None:
        from igniter_nb.notebook.extras import ipywidgets

        w = ipywidgets()

        from igniter_nb.notebook.simulator import CSS

        self.sim = sim
        self._syncing = False
        style = {"description_width": "110px"}  # one width: the three editors line up
        self.workflow = w.Dropdown(description="workflow", style=style, layout=w.Layout(width="520px"))
        self.event = w.Dropdown(description="event", style=style, layout=w.Layout(width="520px"))
        self.payload = w.Textarea(description="payload (JSON)", rows=6, style=style, layout=w.Layout(width="520px"))
        self.hint = w.HTML()
        self.dry_run = w.Button(description="Dry-run", tooltip="check the delivery without writing anything",
                                icon="search")
        self.deliver = w.Button(description="Deliver", tooltip="deliver the event to the store",
                                button_style="primary", icon="paper-plane")
        self.status = w.HTML()
        self.message = w.HTML()
        self.graph = w.HTML()
        self.diagnostics = w.HTML()
        for key in ("workflow", "event", "payload", "hint", "dry_run", "deliver", "status", "message", "graph",
                    "diagnostics"):
            getattr(self, key).add_class(CSS[key])
        self.workflow.observe(self._on_workflow, names="value")
        self.event.observe(self._on_event, names="value")
        self.payload.observe(self._on_payload, names="value")
        self.dry_run.on_click(lambda _: self._click_dry_run())
        self.deliver.on_click(lambda _: self._click_deliver())
        self.root = w.VBox([self.status, self.workflow, self.event, self.payload, self.hint,
                            w.HBox([self.dry_run, self.deliver]), self.message, self.graph, self.diagnostics])
        self.root.add_class(CSS["root"])
        self.sync(clear_message=True)

    # ------------------------------------------------------------------ drawing
    def opened(self) -> None:
        """The simulator is being displayed (again): start without a message from earlier."""
        self.message.value = ""

    def sync(self, *, clear_message: bool = False) -> None:
        """Redraw every part from the simulator's state."""
        sim = self.sim
        self._syncing = True
        try:
            self.workflow.options = self._workflow_options()
            self.workflow.value = sim.execution_id
            events = sim.awaited_events()
            if sim.event and sim.event not in events:
                events = [sim.event, *events]
            self.event.options = events
            self.event.value = sim.event if sim.event in events else None
            self.payload.value = sim.payload_text
            self.hint.value = sim.hint_html()
            self.deliver.disabled = sim.deliver_blocked is not None
            if clear_message:
                self.message.value = ""
            self.graph.value = sim.svg() or ""
            self.diagnostics.value = sim.diagnostics_html()
            self.status.value = sim.status_html()  # last: a front end seeing the new status has the rest
        finally:
            self._syncing = False

    def _workflow_options(self) -> list[tuple[str, str]]:
        sim = self.sim

        def label(corr: Mapping[str, Any] | None, status: Any) -> str:
            return pairs(sim._ordered(corr)) + f" ({status})"

        options = [(label(r.correlation, r.status), r.execution_id) for r in sim.listed_workflows()[0]]
        if sim.execution_id is not None and all(eid != sim.execution_id for _, eid in options):
            options.insert(0, (label(sim.correlation, sim.status), sim.execution_id))  # finished, still shown
        return options

    # ------------------------------------------------------------------ events from the front end
    def _guard(self, action: Callable[[], Any]) -> None:
        """Run an action; an error becomes the message, never an exception in the front end (ipywidgets only logs
        what a click handler raises). Redrawing after the error may fail the same way (a server that stopped: the
        redraw reads its listing again); the error is shown all the same."""
        try:
            action()
        except Exception as exc:
            record = error_record(exc)
            self.sim.last_error = record
            with contextlib.suppress(Exception):
                self.sync()
            self.message.value = error_html(record["type"], record["message"])

    def _on_workflow(self, change: Mapping[str, Any]) -> None:
        if not self._syncing and change["new"]:
            self._guard(lambda: self.sim.select(execution_id=change["new"]))

    def _on_event(self, change: Mapping[str, Any]) -> None:
        if not self._syncing and change["new"]:
            self._guard(lambda: self.sim.select(event=change["new"]))

    def _on_payload(self, change: Mapping[str, Any]) -> None:
        if not self._syncing:
            self.sim.payload_text = str(change["new"])

    def _click_dry_run(self) -> None:
        def run() -> None:
            preview = self.sim.dry_run()
            self.sync()
            self.message.value = preview.to_html()

        self._guard(run)

    def _click_deliver(self) -> None:
        def run() -> None:
            self.sim.deliver()
            receipt = self.sim.last_delivery
            self.message.value = receipt.to_html() if receipt is not None else ""

        self._guard(run)


__all__ = ["SimulatorView"]
