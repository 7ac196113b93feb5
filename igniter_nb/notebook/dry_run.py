"""What a delivery would do, found without doing it: the checks of ``Workflow.deliver_event`` made against the
store read-only (``EventSimulator.dry_run``), and with ``simulate=True`` the delivery played on a throw-away copy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from igniter_nb.notebook.delivery import DeliveryPreview, error_record

if TYPE_CHECKING:
    from igniter_nb.notebook.simulator import EventSimulator


def preview_delivery(sim: EventSimulator, *, simulate: bool = False) -> DeliveryPreview:
    """The ``DeliveryPreview`` of delivering ``sim.event`` with ``sim.payload`` to ``sim.correlation``: every
    independent problem ``deliver_event`` would raise, the matched workflow, the await node and what would
    recompute. Reads the store, never writes it, runs no workflow node unless ``simulate``."""
    from igniter_nb.errors import PayloadValidationError
    from igniter_nb.workflow import engine
    from igniter_nb.workflow.correlation import check_delivery_correlation
    from igniter_nb.workflow.payloads import validate_payload

    errors: list[dict[str, Any]] = []
    node = corr = value = None
    if not sim.event:
        errors.append({"type": "AwaitedEventMismatchError", "message": "no event selected"})
    else:
        try:
            node = engine.await_for_event(sim.graph, sim.event)
        except Exception as exc:
            errors.append(error_record(exc))
    try:
        corr = check_delivery_correlation(sim.graph, sim.correlation)
    except Exception as exc:
        errors.append(error_record(exc))
    try:
        payload = sim.payload
    except PayloadValidationError as exc:
        payload = None
        errors.append(error_record(exc))
    else:
        if node is not None:
            try:
                value = validate_payload(sim.graph.name, node, payload)
            except Exception as exc:
                errors.append(error_record(exc))
    execution_id = status_before = None
    recompute: tuple[str, ...] = ()
    idempotent = False
    contract = None
    if corr is not None:
        execution_id = sim.store.find_by_correlation(sim.graph.name, corr)
        if execution_id is None:
            latest = engine._latest_with_correlation(sim.store, sim.graph.name, corr)
            finished = None
            if latest is not None:
                finished = sim.workflow.restore(latest.snapshot, store=_scratch())
                prior = engine._prior_signal(finished, node.name) if node is not None else None
                key = sim.idempotency_key
                if prior is not None and key is not None and prior.get("idempotency_key") == key:
                    idempotent, execution_id, contract = True, latest.execution_id, finished
            if not idempotent:
                detail = f" (the latest one, {latest.execution_id}, is {latest.status})" if latest is not None else ""
                errors.append(error_record(engine._not_found(sim.workflow, sim.store, corr, detail)))
        else:
            contract = sim._load(execution_id)
            if node is not None:
                prior = engine._prior_signal(contract, node.name)
                state = contract.execution.states.get(node.name)
                if prior is not None:
                    key = sim.idempotency_key
                    if key is not None and prior.get("idempotency_key") == key:
                        idempotent = True
                    else:
                        errors.append({"type": "DuplicateSignalError", "message": (
                            f"event '{sim.event}' was already delivered to {sim.graph.name} {execution_id} "
                            f"(signal #{prior['order']} at {prior['received_at']}, idempotency key "
                            f"{prior.get('idempotency_key')!r})")})
                elif state is not None and str(state.status) == "failed":
                    errors.append({"type": "AwaitedEventMismatchError",
                                   "message": f"await '{node.name}' of {execution_id} is no longer waiting ({state.error})"})
        if contract is not None:
            status_before = contract.workflow_status
            if node is not None and not idempotent:
                states = contract.execution.states
                order = {name: i for i, name in enumerate(sim.graph.resolution_order)}
                recompute = tuple(sorted(
                    (n for n in sim.graph.downstream_of(node.name)
                     if n in order and str(getattr(states.get(n), "status", "unresolved")) != "succeeded"),
                    key=lambda n: order[n]))
    status_after = None
    changes: dict[str, tuple[str, str]] = {}
    if simulate and not errors and contract is not None and not idempotent and execution_id is not None:
        status_after, changes = _simulate(sim, execution_id, corr or {}, value)
    return DeliveryPreview(
        graph=sim.graph.name, event=sim.event, correlation=dict(sim.correlation or {}),
        execution_id=execution_id, await_node=node.name if node is not None else None,
        status_before=status_before, would_recompute=recompute, payload=payload, errors=tuple(errors),
        idempotent=idempotent, status_after=status_after, changes=changes)


def _simulate(sim: EventSimulator, execution_id: str, corr: Mapping[str, Any],
              value: Any) -> tuple[str | None, dict[str, tuple[str, str]]]:
    record = sim.store.record(execution_id)
    scratch = _scratch()
    scratch.save(record.snapshot, graph=record.graph, correlation=record.correlation, status=record.status)
    before = {k: str(v.get("status")) for k, v in (record.snapshot.get("states") or {}).items() if isinstance(v, Mapping)}
    try:
        after_contract = sim.workflow.deliver_event(sim.event, correlation=dict(corr), payload=value, store=scratch,
                                                    idempotency_key=sim.idempotency_key, now=sim._now())
    except Exception as exc:  # the checks above passed, so this is the workflow's own failure
        return f"error: {type(exc).__name__}", {}
    after = {name: str(st.status) for name, st in after_contract.execution.states.items()}
    order = {name: i for i, name in enumerate(sim.graph.resolution_order)}
    names = sorted({*before, *after}, key=lambda n: (order.get(n, len(order)), n))
    changes = {n: (before.get(n, "unresolved"), after.get(n, "unresolved")) for n in names
               if before.get(n, "unresolved") != after.get(n, "unresolved")}
    return after_contract.workflow_status, changes


def _scratch() -> Any:
    from igniter_nb.stores import MemoryStore

    return MemoryStore()


__all__ = ["preview_delivery"]
