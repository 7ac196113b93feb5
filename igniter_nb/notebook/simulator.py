"""``EventSimulator``: pick a waiting workflow, edit an event payload, dry-run it, deliver it.

A plain object (tests drive it without a browser) with a thin ipywidgets 8 view (``sim.widget``,
``simulator_widget.py``)::

    sim = ig.nb.EventSimulator(LeadWorkflow, store)
    sim.select(correlation={"request_id": "req-1", "company_id": "co-42"}, event="billing_data_fetched")
    sim.dry_run()        # DeliveryPreview: matched execution, await node, what would recompute, errors
    sim.deliver()        # the updated contract (LeadWorkflow.deliver_event under the hood); sim.last_delivery

``dry_run`` runs the same checks as ``Workflow.deliver_event`` — correlation, awaited event, payload schema,
the active workflow, a repeated signal — against the store **without writing to it** and without running any
of the workflow's own nodes (``simulate=True`` also plays the delivery on a throw-away in-memory copy to show
the status it would reach). ``deliver`` raises the workflow layer's errors; the widget shows them as messages.
The store is read only through the store protocol (``list_page``, ``count``, ``record``, ``find_by_correlation``;
``list`` for ``workflows()``), a bounded page at a time (``simulator_reads.py``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

from igniter_nb.notebook.delivery import (
    Delivery,
    DeliveryPreview,
    error_record,
    pairs,
)
from igniter_nb.notebook.dry_run import (
    contract_of,
    load_contract,
    preview_delivery,
    simulate_delivery,
    unsendable_payload,
)
from igniter_nb.notebook.live import FollowSelected, locked
from igniter_nb.notebook.payload_editor import (
    example_for,
    example_from_schema,
    payload_hint,
    payload_to_text,
    read_payload_text,
)
from igniter_nb.notebook.render import Engine
from igniter_nb.notebook.simulator_reads import ACTIVE, LISTED_WORKFLOWS
from igniter_nb.notebook.simulator_views import SHOWN_WORKFLOWS, WIDGET_MIME, SimulatorViews  # re-exported
from igniter_nb.notebook.sources import store_of

#: CSS classes of the widget's parts (stable: the real-browser test finds the widget by them).
CSS = {
    "root": "igniter-event-simulator",
    "workflow": "igniter-sim-workflow",
    "event": "igniter-sim-event",
    "payload": "igniter-sim-payload",
    "hint": "igniter-sim-hint",
    "dry_run": "igniter-dry-run",
    "deliver": "igniter-deliver",
    "status": "igniter-sim-status",
    "message": "igniter-sim-message",
    "graph": "igniter-sim-graph",
    "diagnostics": "igniter-sim-diagnostics",
}


class EventSimulator(SimulatorViews):
    """Deliver external events to a contract's stored workflows by hand, from Python or a widget.

    ``workflow`` is the contract class (``LeadWorkflow``), ``store`` the store its workflows live in (default:
    the configured store) — or an ``ig.server.Client``: then it reads, dry-runs and delivers through that server
    (``ServiceStore``). ``now`` (an aware datetime or a callable returning one) is passed to ``deliver_event`` so
    notebooks need no real clock (not with a Client: the server dates deliveries). ``live=True`` follows the
    selected workflow and redraws as other processes deliver to it (``stop()`` ends that).

    State: ``execution_id``/``contract`` (the selected workflow, kept after it finishes), ``correlation`` (the
    delivery target), ``event``, ``payload_text`` (the JSON editor's text), ``idempotency_key``,
    ``last_preview`` (the last dry run), ``last_delivery`` (the receipt of the last delivery), ``last_result``
    (the contract it returned), ``last_error`` (``{"type", "message"}`` of the last failed call). A new
    selection clears ``last_preview`` and ``last_error``: they described the old one.
    """

    def __init__(self, workflow: Any, store: Any = None, *, now: dt.datetime | Callable[[], dt.datetime] | None = None,
                 engine: Engine = "auto", live: bool = False) -> None:
        from igniter_nb.workflow.contract_class import contract_class

        contract_class(workflow, "EventSimulator")  # an instance answers compiled_graph() too: refused by name
        if store is None:
            from igniter_nb.config import default_store

            store = default_store()
        store = store_of(store, "EventSimulator")  # a Client becomes a ServiceStore: reads, dry runs and deliveries over HTTP
        self.workflow = workflow
        self.graph = workflow.compiled_graph()
        if not self.graph.await_nodes:
            raise ValueError(f"{self.graph.name} awaits no events: nothing to simulate")
        served_name = getattr(store, "served_name", None)  # a ServiceStore: the server must serve this contract
        if callable(served_name):
            if now is not None:
                raise ValueError("now= cannot travel to a server: it dates deliveries with its own clock (leave now= "
                                 "out for a Client)")
            served_name(self.graph)
        if now is not None and not callable(now):  # refused here, not at the first delivery
            from igniter_nb.workflow.engine import _now as checked_now

            checked_now(now)
        self.store = store
        self.now = now
        self.engine = engine
        self.execution_id: str | None = None
        self.contract: Any = None
        self.correlation: dict[str, Any] | None = None
        self.event: str | None = None
        self.payload_text = "{}"
        self.idempotency_key: str | None = None
        self.last_preview: DeliveryPreview | None = None
        self.last_delivery: Delivery | None = None
        self.last_result: Any = None
        self.last_error: dict[str, Any] | None = None
        self._view: Any = None
        self._lock = threading.RLock()
        self._page: tuple[list[Any], int] | None = None  # the active workflows listed once per operation
        self._listing_depth = 0
        self._live = FollowSelected(self) if live else None
        self.select()

    def __repr__(self) -> str:
        return f"EventSimulator({self.graph.name}, {self.active_count()} active)"

    # ------------------------------------------------------------------ reading the store (simulator_reads.py)
    def _load(self, execution_id: str) -> Any:
        # restored against a scratch store: nothing the simulator reads can ever write to the real one
        listed = self._listed(execution_id)
        if listed is not None:
            return contract_of(self.workflow, listed)
        return load_contract(self.workflow, self.store, execution_id)

    def _reload(self, execution_id: str | None) -> Any:
        """The stored workflow ``execution_id`` as it is now, or None (none given, or deleted meanwhile)."""
        from igniter_nb.errors import SnapshotNotFoundError

        if execution_id is None:
            return None
        try:
            return self._load(execution_id)
        except SnapshotNotFoundError:
            return None

    @property
    def status(self) -> str | None:
        """The selected workflow's status (``waiting``, ``succeeded``, …), None when none is selected."""
        return self.contract.workflow_status if self.contract is not None else None

    def awaited_events(self) -> list[str]:
        """Events the selected workflow still awaits (not yet delivered, not failed), in graph order; every
        awaited event of the contract when no workflow is selected."""
        nodes = self.graph.await_nodes
        if self.contract is None:
            return [n.event for n in nodes]
        ex = self.contract.execution
        signalled = {s["node"] for s in self.contract.signals}
        return [n.event for n in nodes if n.name not in signalled
                and str(getattr(ex.states.get(n.name), "status", "waiting")) in ("waiting", "stale", "pending")]

    def _await_node(self, event: str | None = None) -> Any:
        event = event or self.event
        return next((n for n in self.graph.await_nodes if n.event == event), None)

    def payload_example(self, event: str | None = None) -> Any:
        """The editor's starting payload for ``event`` (default: the selected one): an example built from its
        await's schema; without a schema, the keys its dependents read (``null`` values), else ``{}``."""
        return example_for(self.graph, self._await_node(event))

    def payload_hint(self, event: str | None = None) -> str | None:
        """What to send for an event whose await has no schema (``None`` when it has one)."""
        return payload_hint(self.graph, self._await_node(event))

    @property
    def payload(self) -> Any:
        """The payload editor's text parsed as JSON (``None`` when blank). Text that is not JSON raises
        ``PayloadValidationError`` saying which line, column and field is wrong."""
        return read_payload_text(self.payload_text, graph=self.graph.name, event=self.event)

    @property
    def deliver_blocked(self) -> str | None:
        """Why a delivery to the selected workflow cannot succeed (it has finished, or awaits nothing more), else
        ``None``. The widget's Deliver button is disabled while this is set."""
        if self.contract is None:
            return None
        if self.status not in ACTIVE:
            return f"this workflow has {self.status}: it takes no more events (Deliver is off)"
        if not self.awaited_events():
            return "this workflow awaits no more events (Deliver is off)"
        return None

    # ------------------------------------------------------------------ choosing
    @locked
    def select(self, correlation: Mapping[str, Any] | None = None, event: str | None = None, payload: Any = None,
               *, execution_id: str | None = None, idempotency_key: str | None = None) -> EventSimulator:
        """Choose the target workflow, the event and the payload; returns ``self``.

        ``correlation`` picks among the active workflows; one that matches none is kept as the target anyway,
        so ``dry_run`` can say why (``WorkflowNotFoundError`` with the nearest candidates). ``execution_id``
        picks a stored workflow directly. Without either, the current selection stays (the first active
        workflow at the start). ``event`` defaults to the first event the workflow still awaits when a workflow is
        (re)selected and the current event is no longer awaited — a call that only changes the payload keeps the
        event chosen before. ``payload`` (a value, or JSON text as typed in the editor) defaults to an example
        built from the event's schema whenever the workflow or event changes. A payload that is not JSON data
        (``object()``, a set, a key that is not text) raises ``PayloadValidationError`` naming the part, and
        nothing changes. Every call clears ``last_preview`` and ``last_error``.

        Reads the store by its indexes and at most ``LISTED_WORKFLOWS`` snapshots (the widget's dropdown, the first
        selection), each once; ``correlation=`` is looked up with ``find_by_correlation``.
        """
        with self._listing():
            return self._select(correlation, event, payload, execution_id=execution_id,
                                idempotency_key=idempotency_key)

    def _select(self, correlation: Mapping[str, Any] | None, event: str | None, payload: Any, *,
                execution_id: str | None, idempotency_key: str | None) -> EventSimulator:
        if correlation is not None and not isinstance(correlation, Mapping):
            raise TypeError(f"select(correlation=) takes a mapping of correlation keys, got {correlation!r}")
        for name, value in (("event", event), ("execution_id", execution_id), ("idempotency_key", idempotency_key)):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"select({name}=) takes text, got {type(value).__name__} {value!r}")
        text = None
        if payload is not None:  # checked first: a bad payload changes nothing
            text = payload_to_text(payload, graph=self.graph.name, event=event or self.event)
        if idempotency_key:
            from igniter_nb.workflow.signals import check_idempotency_key

            check_idempotency_key(idempotency_key)  # a blank key: deliver_event would refuse it
        before = (self.execution_id, self.event)
        # the new target is read in full before anything is assigned: a refused selection changes nothing
        target, corr = self.execution_id, self.correlation
        opened: Any = None  # the first workflow that restores, when none is selected yet
        if self._view is not None or (execution_id is None and correlation is None and target is None and corr is None):
            self.listed_workflows()  # the dropdown lists them anyway: the target is restored from that read
        if execution_id is not None:
            record = self._listed(execution_id) or self.store.record(execution_id)
            if record.graph != self.graph.name:
                from igniter_nb.errors import WorkflowNotFoundError

                raise WorkflowNotFoundError(
                    f"execution {execution_id} is of graph {record.graph}, not a {self.graph.name} workflow: "
                    f"open it with an EventSimulator of its own contract", graph=self.graph.name,
                    execution_id=execution_id, stored_graph=record.graph)
            contract = contract_of(self.workflow, record)
            target, corr = execution_id, self._ordered(record.correlation)
        else:
            if correlation is not None:
                corr = {str(k): v for k, v in correlation.items()}
                target = self._match(corr)
            elif target is None and corr is None:
                from igniter_nb.errors import SnapshotEncodingError

                for first in self.listed_workflows()[0]:
                    try:
                        opened = self._load(first.execution_id)
                    except SnapshotEncodingError:
                        continue  # a damaged record: open on the next one (selecting it says what is wrong)
                    target, corr = first.execution_id, self._ordered(first.correlation)
                    break
            contract = opened if target is not None and opened is not None else self._reload(target)
            if contract is None:
                target = None  # deleted meanwhile: the correlation stays the target, and the dry run says why
        self.execution_id, self.correlation, self.contract = target, corr, contract
        if idempotency_key is not None:
            self.idempotency_key = idempotency_key or None
        reselected = execution_id is not None or correlation is not None
        if event is not None:
            self.event = event
        elif (self.event is None or self.execution_id != before[0]
              or (reselected and self.event not in self.awaited_events())):
            awaited = self.awaited_events()
            if awaited or self.event is None:
                self.event = awaited[0] if awaited else self.graph.await_nodes[0].event
        if text is not None:
            self.payload_text = text
        elif (self.execution_id, self.event) != before:
            self.payload_text = json.dumps(self.payload_example(), indent=2)
        self.last_preview = None
        self.last_error = None
        self._sync_widget(clear_message=(self.execution_id, self.event) != before)
        if self._live is not None:
            self._live.retarget()
        return self

    def _ordered(self, correlation: Mapping[str, Any] | None) -> dict[str, Any]:
        """A stored correlation (stores keep keys sorted) in the order of ``correlate_by``."""
        corr = {str(k): v for k, v in (correlation or {}).items()}
        keys = self.graph.correlation_keys
        return {k: corr[k] for k in keys if k in corr} | {k: v for k, v in corr.items() if k not in keys}

    def _now(self) -> dt.datetime | None:
        return self.now() if callable(self.now) else self.now

    # ------------------------------------------------------------------ dry run
    def dry_run(self, *, simulate: bool = False) -> DeliveryPreview:
        """Check the delivery the way ``deliver_event`` would, and say what it would do. Writes nothing.

        Runs no node of the workflow unless ``simulate=True``, which plays the delivery against a throw-away
        in-memory copy of the workflow (the user's compute functions run there) to report ``status_after`` and
        ``changes``. Sets ``last_preview`` (and ``last_error`` to its first error).
        """
        from igniter_nb.errors import PayloadValidationError

        problem = None
        try:
            payload = self.payload
        except PayloadValidationError as exc:
            payload, problem = None, error_record(exc)
        correlation = dict(self.correlation or {})
        asked = {"event": self.event, "correlation": correlation, "payload": payload,
                 "idempotency_key": self.idempotency_key, "payload_problem": problem}
        over_http = getattr(self.store, "preview_delivery", None)  # a ServiceStore: the server checks
        if callable(over_http):
            try:
                preview = over_http(self.workflow, **asked)
            except Exception as exc:
                unsendable = unsendable_payload(exc) if problem is None else None
                if unsendable is None:
                    raise
                # a payload the server cannot take (too large, too deep, text JSON cannot carry): a payload problem
                # of the preview, as the local dry run reports one, and the server checks the rest without it
                preview = over_http(self.workflow, **{**asked, "payload": None, "payload_problem": unsendable})
        else:
            preview = preview_delivery(self.workflow, self.store, **asked)
        refusal = self._not_selected(correlation, preview.execution_id)
        if refusal is not None:  # deliver() would refuse: a newer workflow holds the selected one's correlation
            preview = dataclasses.replace(preview, errors=(error_record(refusal), *preview.errors))
        if simulate and preview.ok and preview.execution_id is not None and not preview.idempotent:
            status_after, changes = simulate_delivery(
                self.workflow, self.store.record(preview.execution_id), event=str(self.event), correlation=correlation,
                payload=payload, idempotency_key=self.idempotency_key, now=self._now())
            preview = dataclasses.replace(preview, status_after=status_after, changes=changes)
        self.last_preview = preview
        self.last_error = dict(preview.errors[0]) if preview.errors else None
        return preview

    # ------------------------------------------------------------------ live
    @property
    def live(self) -> bool:
        """Whether the simulator follows its selected workflow (``live=True``)."""
        return self._live is not None

    def _redraw_status(self) -> None:
        view = self._view
        if view is not None:
            view.status.value = self.status_html()

    @locked
    def _take_version(self, record: Any) -> None:
        """A version of the selected workflow saved elsewhere (``live=True``): show it; an event it no longer
        awaits (delivered by someone else) gives way to the next one, with its payload prefilled."""
        if record.execution_id != self.execution_id:
            return
        known = getattr(getattr(self.contract, "execution", None), "store_version", None)
        if isinstance(known, int) and known >= record.version:
            return
        self.contract = contract_of(self.workflow, record)
        awaited = self.awaited_events()
        if self.event not in awaited and awaited:
            self.event = awaited[0]
            self.payload_text = json.dumps(self.payload_example(), indent=2)
        self._sync_widget()

    def stop(self) -> EventSimulator:
        """Stop following (``live=True``); the simulator keeps working without live updates."""
        if self._live is not None:
            self._live.stop()
        return self

    # ------------------------------------------------------------------ deliver
    @locked
    def deliver(self) -> Any:
        """Deliver the selected event and payload with ``Workflow.deliver_event``; returns the updated contract.

        Delivers only to the selected workflow: when another workflow now holds its correlation (the selected one
        finished and a newer one started), it raises ``WorkflowNotFoundError`` naming both and delivers nothing.
        Raises what ``deliver_event`` raises (``WorkflowNotFoundError``, ``AwaitedEventMismatchError``,
        ``PayloadValidationError`` — also for editor text that is not JSON —, ``DuplicateSignalError``);
        ``last_error`` keeps it as ``{"type", "message"}``. On success ``last_delivery`` is the receipt (event,
        workflow, status before and after, what recomputed); the workflow stays selected (also once it has
        finished) and the next awaited event is chosen with its payload prefilled.
        """
        self.last_error = None
        try:
            if not self.event:
                from igniter_nb.errors import AwaitedEventMismatchError

                raise AwaitedEventMismatchError("no event selected", graph=self.graph.name)
            payload = self.payload
            correlation = dict(self.correlation or {})
            self._check_target(correlation)
            before = self._stored_states(correlation)
            over_http = getattr(self.store, "deliver_event", None)  # a ServiceStore: the server delivers
            if callable(over_http):
                contract = over_http(self.workflow, self.event, correlation=correlation, payload=payload,
                                     idempotency_key=self.idempotency_key)
            else:
                contract = self.workflow.deliver_event(self.event, correlation=correlation, payload=payload,
                                                       store=self.store, idempotency_key=self.idempotency_key,
                                                       now=self._now())
        except Exception as exc:
            self.last_error = error_record(exc)
            # a refusal often means the store moved on (another process delivered): show the workflow as it is now
            with contextlib.suppress(Exception):
                self.contract = self._reload(self.execution_id) or self.contract
                self._sync_widget()
            raise
        receipt = self._receipt(contract, correlation, before)
        self.last_result = contract
        self.select(execution_id=contract.execution_id)
        self.last_delivery = receipt
        return contract

    def _check_target(self, correlation: Mapping[str, Any]) -> None:
        """Refuse a delivery that would reach another workflow than the selected one: ``deliver_event`` finds its
        workflow by correlation, and once the selected one has finished a newer one may hold the same correlation.
        ``WorkflowNotFoundError`` names both; nothing is written."""
        if self.execution_id is None:  # no workflow selected: deliver_event says whether one matches
            return
        try:
            active = self.store.find_by_correlation(self.graph.name, correlation)
        except Exception:  # a malformed correlation: deliver_event reports it
            return
        refusal = self._not_selected(correlation, active)
        if refusal is not None:
            raise refusal

    def _not_selected(self, correlation: Mapping[str, Any], active: Any) -> Exception | None:
        """The refusal of a delivery that ``active`` (the store's active workflow for ``correlation``) would
        receive instead of the selected workflow, or None."""
        if self.execution_id is None or active is None or active == self.execution_id:
            return None
        from igniter_nb.errors import WorkflowNotFoundError

        return WorkflowNotFoundError(
            f"the selected {self.graph.name} workflow {self.execution_id} is no longer the active one for "
            f"correlation {pairs(self._ordered(correlation))}: workflow {active} (started after it) is. Nothing "
            f"was delivered; to deliver to the newer one, select it: sim.select(execution_id={active!r})",
            graph=self.graph.name, execution_id=self.execution_id, active_execution_id=active,
            correlation=dict(correlation))

    def _stored_states(self, correlation: Mapping[str, Any]) -> tuple[str | None, dict[str, tuple[str, Any]]]:
        """The status and ``{node: (status, version)}`` the store holds for the workflow about to receive."""
        try:
            execution_id = self.store.find_by_correlation(self.graph.name, correlation) or self.execution_id
        except Exception:  # a malformed correlation: deliver_event reports it
            return None, {}
        if execution_id is None:
            return None, {}
        record = self.store.record(execution_id)
        states = (record.snapshot or {}).get("states") or {}
        return record.status, {str(k): (str(v.get("status")), v.get("version")) for k, v in states.items()
                               if isinstance(v, Mapping)}

    def _receipt(self, contract: Any, correlation: Mapping[str, Any],
                 before: tuple[str | None, dict[str, tuple[str, Any]]]) -> Delivery:
        status_before, states_before = before
        node = self._await_node()
        order = {name: i for i, name in enumerate(self.graph.resolution_order)}
        after = {name: (str(st.status), st.version) for name, st in contract.execution.states.items()}
        ran = sorted((name for name, state in after.items()
                      if name in order and state != states_before.get(name) and name != getattr(node, "name", None)
                      and state[0] in ("succeeded", "failed")), key=lambda name: order[name])
        idempotent = bool(states_before) and all(states_before.get(name) == state for name, state in after.items())
        from igniter_nb.workflow.engine import waiting_events

        return Delivery(graph=self.graph.name, event=str(self.event), correlation=self._ordered(correlation),
                        execution_id=contract.execution_id, await_node=getattr(node, "name", None),
                        status_before=status_before, status_after=contract.workflow_status,
                        recomputed=tuple(ran), idempotent=idempotent,
                        waiting_for=tuple(w["event"] for w in waiting_events(contract.execution)))


__all__ = ["CSS", "LISTED_WORKFLOWS", "SHOWN_WORKFLOWS", "WIDGET_MIME", "Delivery", "DeliveryPreview", "EventSimulator", "example_from_schema"]
