"""``EventSimulator``: pick a waiting workflow, edit an event payload, dry-run it, deliver it.

A plain object (tests drive it without a browser) with a thin ipywidgets 8 view (``sim.widget``)::

    sim = ig.nb.EventSimulator(LeadWorkflow, store)
    sim.select(correlation={"request_id": "req-1", "company_id": "co-42"}, event="billing_data_fetched")
    sim.dry_run()        # DeliveryPreview: matched execution, await node, what would recompute, errors
    sim.deliver()        # the updated contract (LeadWorkflow.deliver_event under the hood)

``dry_run`` runs the same checks as ``Workflow.deliver_event`` — correlation, awaited event, payload schema,
the active workflow, a repeated signal — against the store **without writing to it** and without running any
of the workflow's own nodes (``simulate=True`` also plays the delivery on a throw-away in-memory copy to show
the status it would reach). ``deliver`` raises the workflow layer's errors; the widget shows them as messages.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any

from igniter_nb.notebook import html as h
from igniter_nb.notebook.render import Engine, render_graph

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
#: CSS classes of the widget's parts (stable: the real-browser test finds the widget by them).
CSS = {
    "root": "igniter-event-simulator",
    "workflow": "igniter-sim-workflow",
    "event": "igniter-sim-event",
    "payload": "igniter-sim-payload",
    "dry_run": "igniter-dry-run",
    "deliver": "igniter-deliver",
    "status": "igniter-sim-status",
    "message": "igniter-sim-message",
    "graph": "igniter-sim-graph",
    "diagnostics": "igniter-sim-diagnostics",
}


# --------------------------------------------------------------------------------------------- schema examples


def example_from_schema(schema: Any) -> Any:
    """A placeholder payload for an await's ``schema``: a pydantic model or type hint → an example value with
    the right types: strings ``"string"``, numbers 0, booleans false, enums and literals their first member,
    nested models and ``$ref``s expanded, defaults and ``examples`` used when the schema gives them. No schema
    → ``{}``."""
    if schema is None:
        return {}
    try:
        if hasattr(schema, "model_json_schema"):
            js = schema.model_json_schema()
        else:
            import pydantic

            js = pydantic.TypeAdapter(schema).json_schema()
    except Exception:  # a hint pydantic cannot describe: start from an empty object
        return {}
    return _example(js, js.get("$defs") or {}, 0)


def _example(js: Any, defs: Mapping[str, Any], depth: int) -> Any:
    if not isinstance(js, Mapping) or depth > 8:
        return None
    if "$ref" in js:
        name = str(js["$ref"]).rsplit("/", 1)[-1]
        return _example(defs.get(name, {}), defs, depth + 1)
    if "default" in js:
        return js["default"]
    if js.get("examples"):
        return js["examples"][0]
    if "const" in js:
        return js["const"]
    if js.get("enum"):
        return js["enum"][0]
    for combo in ("anyOf", "oneOf", "allOf"):
        options = [o for o in js.get(combo) or () if not (isinstance(o, Mapping) and o.get("type") == "null")]
        if options:
            return _example(options[0], defs, depth + 1)
    kind = js.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in js:
        props = js.get("properties") or {}
        return {name: _example(sub, defs, depth + 1) for name, sub in props.items()}
    if kind == "array":
        item = _example(js.get("items") or {}, defs, depth + 1)
        return [] if item is None else [item]
    placeholders = {"string": "string", "integer": 0, "number": 0.0, "boolean": False, "null": None}
    if js.get("format") == "date-time":
        return "2026-01-01T00:00:00Z"
    if js.get("format") == "date":
        return "2026-01-01"
    return placeholders.get(str(kind))


# --------------------------------------------------------------------------------------------- preview


@dataclass(frozen=True, slots=True)
class DeliveryPreview:
    """What ``EventSimulator.dry_run()`` found; nothing was written.

    ``execution_id`` — the active workflow the correlation matches (None if none); ``await_node`` — the node the
    event binds to; ``would_recompute`` — the await's downstream nodes not yet succeeded (resolution order);
    ``errors`` — ``{"type", "message"}`` per problem (plus ``nearest`` for ``WorkflowNotFoundError``), the errors
    ``deliver`` would raise; ``idempotent`` — the
    event was already delivered with this idempotency key, so ``deliver`` returns the workflow unchanged.
    With ``simulate=True``: ``status_after`` and ``changes`` (``{node: (before, after)}``) from a throw-away copy.
    """

    graph: str
    event: str | None
    correlation: Mapping[str, Any] | None
    execution_id: str | None = None
    await_node: str | None = None
    status_before: str | None = None
    would_recompute: tuple[str, ...] = ()
    payload: Any = None
    errors: tuple[Mapping[str, Any], ...] = ()
    idempotent: bool = False
    status_after: str | None = None
    changes: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether ``deliver`` would accept the event."""
        return not self.errors

    @property
    def error(self) -> str | None:
        """The first error as ``Type: message`` (None when ``ok``)."""
        return f"{self.errors[0]['type']}: {self.errors[0]['message']}" if self.errors else None

    def to_dict(self) -> dict[str, Any]:
        return {"graph": self.graph, "event": self.event, "correlation": dict(self.correlation or {}),
                "execution_id": self.execution_id, "await_node": self.await_node,
                "status_before": self.status_before, "would_recompute": list(self.would_recompute),
                "payload": _plain(self.payload), "ok": self.ok, "errors": [dict(e) for e in self.errors],
                "idempotent": self.idempotent, "status_after": self.status_after,
                "changes": {k: list(v) for k, v in self.changes.items()}}

    def to_text(self) -> str:
        head = f"dry run: {self.event} -> {self.graph} {_pairs(self.correlation)}"
        lines = [head + (" — would deliver" if self.ok else " — would be rejected")]
        lines.append(f"  matched execution: {self.execution_id or 'none'} ({self.status_before or '-'})")
        if self.await_node:
            lines.append(f"  await node: {self.await_node}")
        lines.append(f"  would recompute: {', '.join(self.would_recompute) or 'nothing'}")
        if self.idempotent:
            lines.append("  already delivered with this idempotency key: deliver returns the workflow unchanged")
        if self.status_after:
            lines.append(f"  status after: {self.status_after}")
        lines.extend(f"  {name}: {old} -> {new}" for name, (old, new) in self.changes.items())
        lines.extend(f"  error {e['type']}: {e['message']}" for e in self.errors)
        lines.append("  (nothing written)")
        return "\n".join(lines)

    def to_html(self) -> str:
        rows: list[list[Any]] = [
            ["event", self.event or "—"], ["correlation", _pairs(self.correlation) or "—"],
            ["matched execution", self.execution_id or "none"], ["status now", self.status_before or "—"],
            ["await node", self.await_node or "—"],
            ["would recompute", ", ".join(self.would_recompute) or "nothing"],
        ]
        if self.idempotent:
            rows.append(["idempotent", "already delivered with this key: deliver returns it unchanged"])
        if self.status_after:
            rows.append(["status after", self.status_after])
        verdict = "would deliver" if self.ok else "would be rejected"
        parts = [h.heading(f"Dry run {self.graph}", "ready" if self.ok else "failed", f"{verdict} · nothing written"),
                 h.table(rows, ["", "value"], status_column=None)]
        if self.changes:
            parts.append(h.table(([k, a, b] for k, (a, b) in self.changes.items()), ["node", "before", "status"]))
        parts.extend(_error_html(e["type"], e["message"]) for e in self.errors)
        return "".join(parts)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": self.to_text(), "text/html": self.to_html()}


def _pairs(correlation: Mapping[str, Any] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (correlation or {}).items())


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if callable(dump) else value


def _error_html(kind: str, message: str) -> str:
    return (f'<div style="font-family:Helvetica,Arial,sans-serif;font-size:12px;color:#991b1b;background:#fee2e2;'
            f'border:1px solid #fca5a5;border-radius:4px;padding:3px 6px;margin:3px 0">'
            f"<b>{escape(kind)}</b>: {escape(message)}</div>")


def _error_record(exc: BaseException) -> dict[str, Any]:
    """``{"type", "message"}`` of an error, plus ``nearest`` (the closest active correlations) when it has them."""
    message = getattr(exc, "message", None)
    record: dict[str, Any] = {"type": type(exc).__name__,
                              "message": message if isinstance(message, str) and message else str(exc)}
    nearest = (getattr(exc, "context", None) or {}).get("nearest")
    if nearest:
        record["nearest"] = list(nearest)
    return record


# --------------------------------------------------------------------------------------------- simulator


class EventSimulator:
    """Deliver external events to a contract's stored workflows by hand, from Python or a widget.

    ``workflow`` is the contract class (``LeadWorkflow``), ``store`` the store its workflows live in (default:
    the configured store). ``now`` (an aware datetime or a callable returning one) is passed to
    ``deliver_event`` so notebooks need no real clock.

    State: ``execution_id``/``contract`` (the selected workflow, kept after it finishes), ``correlation`` (the
    delivery target), ``event``, ``payload_text`` (the JSON editor's text), ``idempotency_key``,
    ``last_preview``, ``last_result``, ``last_error`` (``{"type", "message"}`` of the last failed call).
    """

    def __init__(self, workflow: Any, store: Any = None, *, now: dt.datetime | Callable[[], dt.datetime] | None = None,
                 engine: Engine = "auto") -> None:
        if not hasattr(workflow, "compiled_graph"):
            raise TypeError(f"EventSimulator needs a contract class, got {workflow!r}")
        if store is None:
            from igniter_nb.config import default_store

            store = default_store()
        self.workflow = workflow
        self.graph = workflow.compiled_graph()
        if not self.graph.await_nodes:
            raise ValueError(f"{self.graph.name} awaits no events: nothing to simulate")
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
        self.last_result: Any = None
        self.last_error: dict[str, Any] | None = None
        self._widget: Any = None
        self._syncing = False
        self.select()

    def __repr__(self) -> str:
        return f"EventSimulator({self.graph.name}, {len(self.workflows())} active)"

    # ------------------------------------------------------------------ reading the store
    def workflows(self) -> list[Any]:
        """The store's active workflows of this contract (``StoredExecution``), sorted by correlation then id."""
        from igniter_nb.stores.base import ACTIVE_STATUSES

        found = [rec for status in sorted(ACTIVE_STATUSES) for rec in self.store.list(graph=self.graph.name, status=status)]
        keys = self.graph.correlation_keys
        return sorted(found, key=lambda r: ([str((r.correlation or {}).get(k, "")) for k in keys], r.execution_id))

    def _match(self, correlation: Mapping[str, Any]) -> Any:
        wanted = {str(k): v for k, v in correlation.items()}
        return next((r for r in self.workflows() if dict(r.correlation or {}) == wanted), None)

    def _load(self, execution_id: str) -> Any:
        from igniter_nb.stores import MemoryStore

        record = self.store.record(execution_id)
        # restored against a scratch store: nothing the simulator reads can ever write to the real one
        contract = self.workflow.restore(record.snapshot, store=MemoryStore())
        contract.execution.store_version = record.version
        return contract

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

    def payload_example(self, event: str | None = None) -> Any:
        """The example payload for ``event`` (default: the selected one) built from its await's schema."""
        event = event or self.event
        node = next((n for n in self.graph.await_nodes if n.event == event), None)
        return example_from_schema(node.schema if node is not None else None)

    @property
    def payload(self) -> Any:
        """The payload editor's text parsed as JSON (``ValueError`` when it is not JSON)."""
        return json.loads(self.payload_text) if self.payload_text.strip() else None

    # ------------------------------------------------------------------ choosing
    def select(self, correlation: Mapping[str, Any] | None = None, event: str | None = None, payload: Any = None,
               *, execution_id: str | None = None, idempotency_key: str | None = None) -> EventSimulator:
        """Choose the target workflow, the event and the payload; returns ``self``.

        ``correlation`` picks among the active workflows; one that matches none is kept as the target anyway,
        so ``dry_run`` can say why (``WorkflowNotFoundError`` with the nearest candidates). ``execution_id``
        picks a stored workflow directly. Without either, the current selection stays (the first active
        workflow at the start). ``event`` defaults to the first event the workflow still awaits; ``payload`` (a
        value, or JSON text as typed in the editor) defaults to an example built from the event's schema
        whenever the workflow or event changes.
        """
        before = (self.execution_id, self.event)
        if execution_id is not None:
            record = self.store.record(execution_id)
            self.execution_id = execution_id
            self.correlation = self._ordered(record.correlation)
        elif correlation is not None:
            self.correlation = {str(k): v for k, v in correlation.items()}
            match = self._match(self.correlation)
            self.execution_id = match.execution_id if match is not None else None
        elif self.execution_id is None and self.correlation is None:
            first = next(iter(self.workflows()), None)
            if first is not None:
                self.execution_id = first.execution_id
                self.correlation = self._ordered(first.correlation)
        self.contract = self._load(self.execution_id) if self.execution_id is not None else None
        if idempotency_key is not None:
            self.idempotency_key = idempotency_key or None
        if event is not None:
            self.event = event
        elif self.event is None or self.execution_id != before[0] or self.event not in self.awaited_events():
            awaited = self.awaited_events()
            if awaited or self.event is None:
                self.event = awaited[0] if awaited else self.graph.await_nodes[0].event
        if payload is not None:
            self.payload_text = payload if isinstance(payload, str) else json.dumps(_plain(payload), indent=2)
        elif (self.execution_id, self.event) != before:
            self.payload_text = json.dumps(self.payload_example(), indent=2)
        self._sync_widget()
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
        ``changes``.
        """
        from igniter_nb.workflow import engine
        from igniter_nb.workflow.correlation import check_delivery_correlation
        from igniter_nb.workflow.payloads import validate_payload

        errors: list[dict[str, Any]] = []
        node = corr = value = None
        if not self.event:
            errors.append({"type": "AwaitedEventMismatchError", "message": "no event selected"})
        else:
            try:
                node = engine.await_for_event(self.graph, self.event)
            except Exception as exc:
                errors.append(_error_record(exc))
        try:
            corr = check_delivery_correlation(self.graph, self.correlation)
        except Exception as exc:
            errors.append(_error_record(exc))
        try:
            payload = self.payload
        except ValueError as exc:
            payload = None
            errors.append({"type": "PayloadValidationError", "message": f"payload is not valid JSON: {exc}"})
        else:
            if node is not None:
                try:
                    value = validate_payload(self.graph.name, node, payload)
                except Exception as exc:
                    errors.append(_error_record(exc))
        execution_id = status_before = None
        recompute: tuple[str, ...] = ()
        idempotent = False
        contract = None
        if corr is not None:
            execution_id = self.store.find_by_correlation(self.graph.name, corr)
            if execution_id is None:
                latest = engine._latest_with_correlation(self.store, self.graph.name, corr)
                finished = None
                if latest is not None:
                    finished = self.workflow.restore(latest.snapshot, store=_scratch())
                    prior = engine._prior_signal(finished, node.name) if node is not None else None
                    key = self.idempotency_key
                    if prior is not None and key is not None and prior.get("idempotency_key") == key:
                        idempotent, execution_id, contract = True, latest.execution_id, finished
                if not idempotent:
                    detail = f" (the latest one, {latest.execution_id}, is {latest.status})" if latest is not None else ""
                    errors.append(_error_record(engine._not_found(self.workflow, self.store, corr, detail)))
            else:
                contract = self._load(execution_id)
                if node is not None:
                    prior = engine._prior_signal(contract, node.name)
                    state = contract.execution.states.get(node.name)
                    if prior is not None:
                        key = self.idempotency_key
                        if key is not None and prior.get("idempotency_key") == key:
                            idempotent = True
                        else:
                            errors.append({"type": "DuplicateSignalError", "message": (
                                f"event '{self.event}' was already delivered to {self.graph.name} {execution_id} "
                                f"(signal #{prior['order']} at {prior['received_at']}, idempotency key "
                                f"{prior.get('idempotency_key')!r})")})
                    elif state is not None and str(state.status) == "failed":
                        errors.append({"type": "AwaitedEventMismatchError",
                                       "message": f"await '{node.name}' of {execution_id} is no longer waiting ({state.error})"})
            if contract is not None:
                status_before = contract.workflow_status
                if node is not None and not idempotent:
                    states = contract.execution.states
                    order = {name: i for i, name in enumerate(self.graph.resolution_order)}
                    recompute = tuple(sorted(
                        (n for n in self.graph.downstream_of(node.name)
                         if n in order and str(getattr(states.get(n), "status", "unresolved")) != "succeeded"),
                        key=lambda n: order[n]))
        status_after = None
        changes: dict[str, tuple[str, str]] = {}
        if simulate and not errors and contract is not None and not idempotent and execution_id is not None:
            status_after, changes = self._simulate(execution_id, corr or {}, value)
        preview = DeliveryPreview(
            graph=self.graph.name, event=self.event, correlation=dict(self.correlation or {}),
            execution_id=execution_id, await_node=node.name if node is not None else None,
            status_before=status_before, would_recompute=recompute, payload=payload, errors=tuple(errors),
            idempotent=idempotent, status_after=status_after, changes=changes)
        self.last_preview = preview
        self.last_error = dict(preview.errors[0]) if preview.errors else None
        return preview

    def _simulate(self, execution_id: str, corr: Mapping[str, Any], value: Any) -> tuple[str | None, dict[str, tuple[str, str]]]:
        record = self.store.record(execution_id)
        scratch = _scratch()
        scratch.save(record.snapshot, graph=record.graph, correlation=record.correlation, status=record.status)
        before = {k: str(v.get("status")) for k, v in (record.snapshot.get("states") or {}).items() if isinstance(v, Mapping)}
        try:
            after_contract = self.workflow.deliver_event(self.event, correlation=dict(corr), payload=value, store=scratch,
                                                         idempotency_key=self.idempotency_key, now=self._now())
        except Exception as exc:  # the checks above passed, so this is the workflow's own failure
            return f"error: {type(exc).__name__}", {}
        after = {name: str(st.status) for name, st in after_contract.execution.states.items()}
        order = {name: i for i, name in enumerate(self.graph.resolution_order)}
        names = sorted({*before, *after}, key=lambda n: (order.get(n, len(order)), n))
        changes = {n: (before.get(n, "unresolved"), after.get(n, "unresolved")) for n in names
                   if before.get(n, "unresolved") != after.get(n, "unresolved")}
        return after_contract.workflow_status, changes

    # ------------------------------------------------------------------ deliver
    def deliver(self) -> Any:
        """Deliver the selected event and payload with ``Workflow.deliver_event``; returns the updated contract.

        Raises what ``deliver_event`` raises (``WorkflowNotFoundError``, ``AwaitedEventMismatchError``,
        ``PayloadValidationError``, ``DuplicateSignalError``; ``ValueError`` for a payload that is not JSON);
        ``last_error`` keeps it as ``{"type", "message"}`` and the widget shows it as a message. After a
        delivery the workflow stays selected (also once it has finished) and the next awaited event is chosen.
        """
        self.last_error = None
        try:
            if not self.event:
                from igniter_nb.errors import AwaitedEventMismatchError

                raise AwaitedEventMismatchError("no event selected", graph=self.graph.name)
            payload = self.payload
            contract = self.workflow.deliver_event(self.event, correlation=dict(self.correlation or {}),
                                                   payload=payload, store=self.store,
                                                   idempotency_key=self.idempotency_key, now=self._now())
        except Exception as exc:
            self.last_error = _error_record(exc)
            self._sync_widget()
            raise
        self.last_result = contract
        self.last_preview = None
        self.execution_id = contract.execution_id
        self.select(execution_id=contract.execution_id)
        return contract

    # ------------------------------------------------------------------ static views
    def svg(self) -> str | None:
        """The selected workflow's graph coloured by state (the notebook renderer for contract instances)."""
        if self.contract is None:
            return None
        from igniter_nb.notebook.reprs import view_status

        ex = self.contract.execution
        return render_graph(ex.graph, states=ex.states, status=view_status(ex), engine=self.engine)

    def _status_html(self) -> str:
        if self.contract is None:
            return h.heading(f"EventSimulator {self.graph.name}", None, "no workflow selected")
        corr = _pairs(self.correlation)
        return (h.heading(f"EventSimulator {self.graph.name}", None, corr)
                + '<div style="font-family:Helvetica,Arial,sans-serif;font-size:13px;margin:2px 0">workflow status: '
                + h.badge(self.status) + "</div>")

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
            parts.append(h.table(([s["order"], s["event"], s["node"], s.get("idempotency_key"), s["received_at"]]
                                  for s in signals), ["#", "event received", "await node", "idempotency key",
                                                      "received_at"], status_column=None))
        if self.status == "succeeded":
            outputs = []
            for out in self.graph.outputs:
                st = ex.output_state(out.name)
                outputs.append([out.name, str(st.status), _plain(st.value)])
            parts.append(h.table(outputs, ["output", "status", "value"]))
        error = (ex.workflow or {}).get("error")
        if error:
            parts.append(_error_html(str(error.get("type")), str(error.get("message"))))
        return "".join(parts)

    def _message_html(self) -> str:
        if self.last_error is not None:
            return _error_html(self.last_error["type"], self.last_error["message"])
        if self.last_preview is not None:
            return self.last_preview.to_html()
        return ""

    def to_html(self) -> str:
        rows = [[_pairs(self._ordered(r.correlation)), r.status,
                 ", ".join(_waits(self.graph, r.snapshot)) or "—"] for r in self.workflows()]
        parts = [self._status_html(),
                 h.table(rows, ["active workflow", "status", "waiting for"], total=len(rows)),
                 h.table([[self.event or "—", ", ".join(self.awaited_events()) or "none"]],
                         ["selected event", "still awaited"], status_column=None),
                 '<div style="font-family:Helvetica,Arial,sans-serif;font-size:12px;color:#475569;margin-top:4px">'
                 "payload (JSON)</div>" + h.pre(self.payload_text), self._message_html(), self.diagnostics_html()]
        svg = self.svg()
        if svg:
            parts.append(svg)
        return "".join(parts)

    def to_text(self) -> str:
        lines = [f"EventSimulator {self.graph.name}: {len(self.workflows())} active workflows"]
        if self.contract is not None:
            lines.append(f"  selected: {_pairs(self.correlation)} ({self.status})")
        lines.append(f"  event: {self.event or '-'} (still awaited: {', '.join(self.awaited_events()) or 'none'})")
        lines.append("  payload: " + h.short(self.payload_text, 200))
        if self.last_error is not None:
            lines.append(f"  error {self.last_error['type']}: {self.last_error['message']}")
        return "\n".join(lines)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/plain": self.to_text(), "text/html": self.to_html()}
        try:
            view = self.widget._repr_mimebundle_()
        except Exception:  # no ipywidgets or no kernel comm: the static parts are the whole output
            return bundle
        if isinstance(view, dict) and WIDGET_MIME in view:
            bundle[WIDGET_MIME] = view[WIDGET_MIME]
        return bundle

    # ------------------------------------------------------------------ widget
    @property
    def widget(self) -> Any:
        """The ipywidgets view: workflow and event dropdowns, a JSON payload editor, Dry-run and Deliver
        buttons, a status line, a message area, the coloured graph and the diagnostics."""
        if self._widget is None:
            self._widget = self._build()
            self._sync_widget()
        return self._widget

    def _build(self) -> Any:
        import ipywidgets as w

        style = {"description_width": "initial"}
        self._w_workflow = w.Dropdown(description="workflow", style=style, layout=w.Layout(width="520px"))
        self._w_event = w.Dropdown(description="event", style=style, layout=w.Layout(width="520px"))
        self._w_payload = w.Textarea(description="payload (JSON)", rows=6, style=style,
                                     layout=w.Layout(width="520px"))
        self._w_dry = w.Button(description="Dry-run", tooltip="check the delivery without writing anything",
                               icon="search")
        self._w_deliver = w.Button(description="Deliver", tooltip="deliver the event to the store",
                                   button_style="primary", icon="paper-plane")
        self._w_status = w.HTML()
        self._w_message = w.HTML()
        self._w_graph = w.HTML()
        self._w_diagnostics = w.HTML()
        parts = {"workflow": self._w_workflow, "event": self._w_event, "payload": self._w_payload,
                 "dry_run": self._w_dry, "deliver": self._w_deliver, "status": self._w_status,
                 "message": self._w_message, "graph": self._w_graph, "diagnostics": self._w_diagnostics}
        for key, part in parts.items():
            part.add_class(CSS[key])
        self._w_workflow.observe(self._on_workflow, names="value")
        self._w_event.observe(self._on_event, names="value")
        self._w_payload.observe(self._on_payload, names="value")
        self._w_dry.on_click(lambda _: self._click_dry_run())
        self._w_deliver.on_click(lambda _: self._click_deliver())
        root = w.VBox([self._w_status, self._w_workflow, self._w_event, self._w_payload,
                       w.HBox([self._w_dry, self._w_deliver]), self._w_message, self._w_graph, self._w_diagnostics])
        root.add_class(CSS["root"])
        return root

    def _workflow_options(self) -> list[tuple[str, str]]:
        def label(corr: Mapping[str, Any] | None, status: Any) -> str:
            return _pairs(self._ordered(corr)) + f" ({status})"

        options = [(label(r.correlation, r.status), r.execution_id) for r in self.workflows()]
        if self.execution_id is not None and all(eid != self.execution_id for _, eid in options):
            options.insert(0, (label(self.correlation, self.status), self.execution_id))  # finished, still shown
        return options

    def _sync_widget(self) -> None:
        """Put the object's state into the widget (no-op before the widget is built)."""
        if self._widget is None:
            return
        self._syncing = True
        try:
            self._w_workflow.options = self._workflow_options()
            self._w_workflow.value = self.execution_id
            events = self.awaited_events()
            if self.event and self.event not in events:
                events = [self.event, *events]
            self._w_event.options = events
            self._w_event.value = self.event if self.event in events else None
            self._w_payload.value = self.payload_text
            self._w_message.value = self._message_html()
            self._w_graph.value = self.svg() or ""
            self._w_diagnostics.value = self.diagnostics_html()
            self._w_status.value = self._status_html()  # last: a front end seeing the new status has the rest
        finally:
            self._syncing = False

    def _guard(self, action: Callable[[], Any]) -> None:
        """Run a widget action; an error becomes the message, never an exception in the front end."""
        try:
            action()
        except Exception as exc:
            self.last_error = _error_record(exc)
            self._sync_widget()

    def _on_workflow(self, change: Mapping[str, Any]) -> None:
        if not self._syncing and change["new"]:
            self._guard(lambda: self.select(execution_id=change["new"]))

    def _on_event(self, change: Mapping[str, Any]) -> None:
        if not self._syncing and change["new"]:
            def choose() -> None:
                self.last_error = None
                self.event = change["new"]
                self.payload_text = json.dumps(self.payload_example(), indent=2)
                self._sync_widget()

            self._guard(choose)

    def _on_payload(self, change: Mapping[str, Any]) -> None:
        if not self._syncing:
            self.payload_text = str(change["new"])

    def _click_dry_run(self) -> None:
        def run() -> None:
            self.dry_run()
            self._sync_widget()

        self._guard(run)

    def _click_deliver(self) -> None:
        self._guard(self.deliver)


def _scratch() -> Any:
    from igniter_nb.stores import MemoryStore

    return MemoryStore()


def _waits(graph: Any, snapshot: Mapping[str, Any] | None) -> list[str]:
    """Events a stored snapshot's await nodes wait for (read from the snapshot, nothing restored)."""
    states = (snapshot or {}).get("states") or {}
    return [n.event for n in graph.await_nodes
            if isinstance(states.get(n.name), Mapping) and states[n.name].get("status") == "waiting"]


__all__ = ["CSS", "DeliveryPreview", "EventSimulator", "example_from_schema"]
