"""What a delivery would do, found without doing it: the checks of ``Workflow.deliver_event`` made against a store
read-only, and with ``simulate=True`` the delivery played on a throw-away copy.

``preview_delivery`` is a plain function of the contract class, the store and the delivery — the
``EventSimulator`` calls it for a store, and the server's dry-run route (``POST /v1/contracts/{name}/events/dry-run``)
calls it for the store it serves, so a dry run over HTTP answers exactly what one in the notebook does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from igniter_nb.notebook.delivery import DeliveryPreview, error_record

_NOT_GIVEN: Any = object()


def preview_delivery(workflow: Any, store: Any, *, event: str | None, correlation: Mapping[str, Any] | None,
                     payload: Any = None, idempotency_key: str | None = None,
                     payload_problem: Mapping[str, Any] | None = None) -> DeliveryPreview:
    """The ``DeliveryPreview`` of delivering ``event`` with ``payload`` to the ``workflow`` (a contract class)
    whose correlation is ``correlation``: every independent problem ``deliver_event`` would raise, the matched
    workflow, the await node and what would recompute. Reads ``store``, never writes it, runs no workflow node.
    Each error says which ``check`` found it: ``event``, ``correlation``, ``payload`` or ``workflow`` (the
    matched workflow: none active, the event already delivered, the await no longer waiting, the idempotency key
    blank or recorded with another payload or event — the rules of ``deliver_event``) — in that order.

    ``payload_problem`` (``{"type", "message"}``) stands for a payload that could not even be read (editor text
    that is not JSON): it is reported instead of validating ``payload``."""
    from igniter_nb.workflow import engine
    from igniter_nb.workflow.correlation import check_delivery_correlation
    from igniter_nb.workflow.payloads import validate_payload
    from igniter_nb.workflow.signals import check_idempotency_key, live_signals

    graph = workflow.compiled_graph()
    errors: list[dict[str, Any]] = []

    def problem(check: str, found: BaseException | Mapping[str, Any]) -> None:
        record = error_record(found) if isinstance(found, BaseException) else dict(found)
        errors.append({**record, "check": check})

    node = corr = None
    if not event:
        problem("event", {"type": "AwaitedEventMismatchError", "message": "no event selected"})
    else:
        try:
            node = engine.await_for_event(graph, event)
        except Exception as exc:
            problem("event", exc)
    try:
        corr = check_delivery_correlation(graph, correlation)
    except Exception as exc:
        problem("correlation", exc)
    value: Any = _NOT_GIVEN  # the payload as the await would hold it (its digest is what a retry must repeat)
    if payload_problem is not None:
        payload = None
        problem("payload", payload_problem)
    elif node is not None:
        try:
            value = validate_payload(graph.name, node, payload)
        except Exception as exc:
            problem("payload", exc)
    key = None
    try:
        key = check_idempotency_key(idempotency_key)
    except Exception as exc:
        problem("workflow", exc)
    execution_id = status_before = None
    recompute: tuple[str, ...] = ()
    idempotent = False
    contract = None

    def repeated(signals: list[Mapping[str, Any]], target: str) -> bool:
        """Whether the delivery repeats a recorded signal (deliver answers it unchanged); a repeat deliver would
        refuse (``DuplicateSignalError``, ``IdempotencyConflictError``) becomes a problem — the rules of
        ``deliver_event`` (``workflow/signals.py``), so the dry run and the delivery never disagree."""
        assert node is not None and event is not None
        return _repeats(signals, node, event, key, value, graph=graph.name, execution_id=target,
                        problem=lambda exc: problem("workflow", exc))

    if corr is not None:
        execution_id = store.find_by_correlation(graph.name, corr)
        if execution_id is None:
            latest = engine._latest_with_correlation(store, graph.name, corr)
            refused = False
            if latest is not None and node is not None:
                before = len(errors)
                signals = live_signals(latest.snapshot.get("workflow") if isinstance(latest.snapshot, Mapping) else None)
                if repeated(signals, latest.execution_id):
                    idempotent, execution_id = True, latest.execution_id
                    contract = workflow.restore(latest.snapshot, store=scratch_store())
                refused = len(errors) > before  # a late repeat: deliver refuses it as such, not as "not found"
            if not idempotent and not refused:
                detail = f" (the latest one, {latest.execution_id}, is {latest.status})" if latest is not None else ""
                problem("workflow", engine._not_found(workflow, store, corr, detail))
        else:
            contract = load_contract(workflow, store, execution_id)
            if node is not None:
                state = contract.execution.states.get(node.name)
                before = len(errors)
                if repeated(live_signals(contract.execution.workflow), execution_id):
                    idempotent = True
                elif len(errors) == before and state is not None and str(state.status) == "failed":
                    problem("workflow", {"type": "AwaitedEventMismatchError",
                                         "message": f"await '{node.name}' of {execution_id} is no longer waiting "
                                                    f"({state.error})"})
        if contract is not None:
            status_before = contract.workflow_status
            if node is not None and not idempotent:
                states = contract.execution.states
                order = {name: i for i, name in enumerate(graph.resolution_order)}
                recompute = tuple(sorted(
                    (n for n in graph.downstream_of(node.name)
                     if n in order and str(getattr(states.get(n), "status", "unresolved")) != "succeeded"),
                    key=lambda n: order[n]))
    return DeliveryPreview(
        graph=graph.name, event=event, correlation=dict(correlation or {}),
        execution_id=execution_id, await_node=node.name if node is not None else None,
        status_before=status_before, would_recompute=recompute, payload=payload, errors=tuple(errors),
        idempotent=idempotent)


def _repeats(signals: list[Mapping[str, Any]], node: Any, event: str, key: str | None, value: Any, *, graph: str,
             execution_id: str, problem: Any) -> bool:
    """``repeated_signal`` for a dry run: True for a retry of a recorded signal; a refusal goes to ``problem``. A
    payload that could not be validated (``value`` is ``_NOT_GIVEN``) is not compared with the recorded one: its own
    error already says what is wrong with it."""
    from igniter_nb.workflow.signals import payload_digest, repeated_signal

    if value is _NOT_GIVEN:
        same_key = next((s for s in signals if key is not None and s.get("idempotency_key") == key), None)
        digest = same_key.get("payload_digest") if same_key is not None else None
    else:
        digest = payload_digest(value)
    try:
        return repeated_signal(signals, node.name, event, key, digest, graph=graph, execution_id=execution_id,
                               path=node.path) is not None
    except Exception as exc:  # DuplicateSignalError, IdempotencyConflictError: what deliver_event would raise
        problem(exc)
        return False


def simulate_delivery(workflow: Any, record: Any, *, event: str, correlation: Mapping[str, Any], payload: Any,
                      idempotency_key: str | None, now: dt.datetime | None) -> tuple[str | None, dict[str, tuple[str, str]]]:
    """Play a delivery on a throw-away in-memory copy of the stored ``record`` (the workflow's compute functions
    run here, in this process): the status it would reach and ``{node: (before, after)}`` of what changed."""
    scratch = scratch_store()
    scratch.save(record.snapshot, graph=record.graph, correlation=record.correlation, status=record.status)
    before = {k: str(v.get("status")) for k, v in (record.snapshot.get("states") or {}).items() if isinstance(v, Mapping)}
    try:
        after_contract = workflow.deliver_event(event, correlation=dict(correlation), payload=payload, store=scratch,
                                                idempotency_key=idempotency_key, now=now)
    except Exception as exc:  # the checks passed, so this is the workflow's own failure
        return f"error: {type(exc).__name__}", {}
    after = {name: str(st.status) for name, st in after_contract.execution.states.items()}
    graph = workflow.compiled_graph()
    order = {name: i for i, name in enumerate(graph.resolution_order)}
    names = sorted({*before, *after}, key=lambda n: (order.get(n, len(order)), n))
    changes = {n: (before.get(n, "unresolved"), after.get(n, "unresolved")) for n in names
               if before.get(n, "unresolved") != after.get(n, "unresolved")}
    return after_contract.workflow_status, changes


def unsendable_payload(exc: BaseException) -> dict[str, Any] | None:
    """``{"type", "message"}`` of a payload a server refused to read or the client could not send (a body over the
    size limit: 413; nesting, numbers or text its JSON reader refuses: 400; text with an unpaired surrogate), else
    None (any other failure is not the payload's)."""
    status = getattr(exc, "status_code", None)
    if status in (400, 413):
        message = getattr(exc, "server_message", None) or str(exc)
    elif type(exc) is ValueError and str(exc).startswith("cannot send payload"):
        message = str(exc)
    else:
        return None
    return {"type": "PayloadValidationError", "message": f"the server cannot take this payload: {message}"}


def load_contract(workflow: Any, store: Any, execution_id: str) -> Any:
    """The stored execution restored against a scratch store: nothing done with it can write to ``store``."""
    return contract_of(workflow, store.record(execution_id))


def contract_of(workflow: Any, record: Any) -> Any:
    """A stored record restored against a scratch store (its ``store_version`` kept). A record that cannot be
    restored raises ``SnapshotEncodingError`` naming its execution."""
    from igniter_nb.errors import SnapshotEncodingError

    try:
        contract = workflow.restore(record.snapshot, store=scratch_store())
    except SnapshotEncodingError as exc:
        if record.execution_id in str(exc):
            raise
        raise SnapshotEncodingError(f"stored workflow {record.execution_id} cannot be restored: {exc}",
                                    execution_id=record.execution_id) from exc
    contract.execution.store_version = record.version
    return contract


def scratch_store() -> Any:
    from igniter_nb.stores import MemoryStore

    return MemoryStore()


__all__ = ["contract_of", "load_contract", "preview_delivery", "scratch_store", "simulate_delivery",
           "unsendable_payload"]
