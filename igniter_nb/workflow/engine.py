"""Durable workflows: ``start``, ``deliver_event``, ``cancel``, ``expire_due``.

A workflow is a contract execution saved in a store with its correlation and a workflow record
(``execution.workflow``): status, correlation, deadlines, and the signal log — which events arrived, in what
order, with which idempotency key, and which await each satisfied. Every save is compare-and-set; a
delivery that loses a race re-reads and re-applies, so concurrent deliveries lose nothing and apply each
signal exactly once.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

from igniter_nb.errors import (
    AwaitedEventMismatchError,
    AwaitTimeoutError,
    ConcurrencyError,
    DuplicateSignalError,
    DuplicateWorkflowError,
    WorkflowNotFoundError,
)
from igniter_nb.model import AwaitNode
from igniter_nb.runtime.snapshot import restore_contract, restore_record
from igniter_nb.runtime.status import Status
from igniter_nb.workflow.correlation import check_delivery_correlation, correlation_from_inputs, nearest
from igniter_nb.workflow.payloads import validate_payload

ACTIVE = ("running", "waiting")
FINISHED = ("succeeded", "failed", "cancelled", "timed_out")
MAX_ATTEMPTS = 50

_STATUS_OF_CONTRACT = {
    Status.SUCCEEDED: "succeeded",
    Status.FAILED: "failed",
    Status.WAITING: "waiting",
    Status.PENDING: "running",  # own work outstanding (a deferred token), not an external event
}


def _now(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ValueError("now= must be timezone-aware (e.g. datetime.now(datetime.UTC))")
    return now


@functools.lru_cache(maxsize=16)  # a delivery stamps several fields with the same moment
def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _store(store: Any) -> Any:
    if store is not None:
        return store
    from igniter_nb.config import default_store

    return default_store()


def await_for_event(graph: Any, event: str) -> AwaitNode:
    for node in graph.await_nodes:
        if node.event == event:
            return node  # type: ignore[no-any-return]
    awaited = ", ".join(n.event for n in graph.await_nodes) or "none"
    raise AwaitedEventMismatchError(f"{graph.name} does not await event '{event}' (it awaits: {awaited})",
                                    graph=graph.name, event=event)


# ---------------------------------------------------------------------------- status
def refresh_status(contract: Any, now: dt.datetime) -> str:
    """Resolve what can be resolved, set the workflow status from it, and emit the matching event."""
    ex = contract.execution
    wf = ex.workflow
    ex.resolve_all()
    if wf["status"] in ("cancelled", "timed_out"):
        return str(wf["status"])
    status = _STATUS_OF_CONTRACT[ex.status_of()]
    wf["status"] = status
    wf["updated_at"] = _iso(now)
    waiting_on = waiting_events(ex)
    if status == "succeeded":
        ex.bus.emit("workflow_succeeded", status="succeeded", payload={"correlation": wf["correlation"]})
    elif status == "failed":
        err = ex.first_error()
        wf["error"] = {"type": type(err).__name__, "message": getattr(err, "message", str(err)), "node": err.node}
        ex.bus.emit("workflow_failed", status="failed", payload={"correlation": wf["correlation"], "error": str(err)})
    elif status == "waiting":
        ex.bus.emit("workflow_waiting", status="waiting", payload={"waiting_on": waiting_on})
    return status


def waiting_events(execution: Any) -> list[dict[str, str]]:
    """``[{node, event}]`` for each await node currently waiting (each event once: L-36)."""
    found = []
    for node in execution.graph.await_nodes:
        st = execution.states.get(node.name)
        if st is not None and st.status is Status.WAITING:
            found.append({"node": node.name, "event": node.event})
    return found


def _save(contract: Any, store: Any) -> None:
    from igniter_nb.runtime.store_runner import persist

    persist(contract.execution, store)


# ---------------------------------------------------------------------------- start
def start(cls: Any, inputs: Mapping[str, Any], *, store: Any = None, now: dt.datetime | None = None) -> Any:
    """Create a workflow, resolve until it succeeds, fails or waits, and save it. Never raises for a failing
    node (the workflow is saved as ``failed``); raises ``DuplicateWorkflowError`` if an active workflow has
    the same correlation, and ``InputError`` for bad inputs or blank correlation values."""
    graph = cls.compiled_graph()
    moment = _now(now)
    store = _store(store)
    correlation = correlation_from_inputs(graph, inputs)
    if correlation:
        existing = store.find_by_correlation(graph.name, correlation)
        if existing is not None:
            raise DuplicateWorkflowError(
                f"an active {graph.name} workflow already has correlation {correlation} (execution {existing})",
                graph=graph.name, correlation=correlation, existing_execution_id=existing,
            )
    contract = cls(dict(inputs), store=store)
    ex = contract.execution
    deadlines = {n.name: _iso(moment + dt.timedelta(seconds=n.timeout)) for n in graph.await_nodes if n.timeout}
    ex.workflow = {
        "status": "running",
        "correlation": correlation,
        "started_at": _iso(moment),
        "updated_at": _iso(moment),
        "deadlines": deadlines,
        "signals": [],
    }
    ex.bus.emit("workflow_started", status="running", payload={"graph": graph.name, "correlation": correlation})
    for key in graph.correlation_keys:  # the workflow's identity is known from the start (shown as resolved)
        ex.resolve(key)
    refresh_status(contract, moment)
    ex.store_version = 0  # must not exist yet
    _save(contract, store)
    return contract


# ---------------------------------------------------------------------------- deliver
def _not_found(cls: Any, store: Any, correlation: dict[str, Any], detail: str = "") -> WorkflowNotFoundError:
    graph = cls.compiled_graph()
    lister = getattr(store, "correlations", None)
    if lister is not None:  # ids and correlations only, from the store's indexes: no snapshot is loaded
        candidates = list(lister(graph.name, active_only=True, limit=1000))
    else:  # a store written against the older protocol: full records
        candidates = []
        for status in ACTIVE:
            for rec in store.list(graph=graph.name, status=status)[:1000]:
                if rec.correlation:
                    candidates.append((rec.execution_id, rec.correlation))
    near = nearest(correlation, candidates)
    hint = ""
    if near:
        hint = "; nearest active: " + ", ".join(
            f"{n['correlation']} (differs in {', '.join(n['differs_in']) or 'nothing'})" for n in near)
    return WorkflowNotFoundError(
        f"no active {graph.name} workflow has correlation {correlation}{detail}{hint}",
        graph=graph.name, correlation=correlation, nearest=near,
    )


def _latest_with_correlation(store: Any, graph: str, correlation: dict[str, Any]) -> Any:
    """The most recent execution (any status) with this correlation — for late duplicate signals."""
    finder = getattr(store, "find_latest_by_correlation", None)
    if finder is not None:
        eid = finder(graph, correlation)
        return store.record(eid) if eid is not None else None
    latest = None
    for rec in store.list(graph=graph):
        if rec.correlation == correlation and (latest is None or rec.updated_at >= latest.updated_at):
            latest = rec
    return latest


def deliver_event(
    cls: Any,
    event: str,
    *,
    correlation: Mapping[str, Any],
    payload: Any = None,
    store: Any = None,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Any:
    """Deliver ``event`` to the active workflow with ``correlation``; returns the updated contract.

    The event may arrive before resolution reached its await (any order: L-02). Validation errors write
    nothing. A repeated event raises ``DuplicateSignalError`` unless ``idempotency_key`` equals the one
    recorded, in which case the workflow is returned unchanged.
    """
    graph = cls.compiled_graph()
    node = await_for_event(graph, event)
    corr = check_delivery_correlation(graph, correlation)
    value = validate_payload(graph.name, node, payload)
    if idempotency_key is not None and (not isinstance(idempotency_key, str) or not idempotency_key.strip()):
        raise ValueError("idempotency_key must be a non-empty string")
    store = _store(store)
    moment = _now(now)
    for _ in range(MAX_ATTEMPTS):
        execution_id = store.find_by_correlation(graph.name, corr)
        if execution_id is None:
            latest = _latest_with_correlation(store, graph.name, corr)
            if latest is not None:
                contract = restore_contract(cls, latest.snapshot, store=store, owned=True)
                prior = _prior_signal(contract, node.name)
                if prior is not None and idempotency_key is not None and prior.get("idempotency_key") == idempotency_key:
                    return contract
                raise _not_found(cls, store, corr, f" (the latest one, {latest.execution_id}, is {latest.status})")
            raise _not_found(cls, store, corr)
        contract = restore_record(cls, store.record(execution_id), store=store)
        ex = contract.execution
        wf = ex.workflow
        if wf is None or wf.get("status") not in ACTIVE:
            continue  # finished between the lookup and the read: look again
        prior = _prior_signal(contract, node.name)
        if prior is not None:
            if idempotency_key is not None and prior.get("idempotency_key") == idempotency_key:
                return contract
            raise DuplicateSignalError(
                f"event '{event}' was already delivered to {graph.name} {execution_id} "
                f"(signal #{prior['order']} at {prior['received_at']}, idempotency key {prior.get('idempotency_key')!r})",
                graph=graph.name, node=node.name, path=node.path, execution_id=execution_id, event=event,
            )
        st = ex.states.get(node.name)
        if st is not None and st.status is Status.FAILED:
            raise AwaitedEventMismatchError(f"await '{node.name}' of {execution_id} is no longer waiting ({st.error})",
                                            graph=graph.name, node=node.name, execution_id=execution_id, event=event)
        signal = {
            "order": len(wf["signals"]) + 1,
            "event": event,
            "node": node.name,
            "correlation": corr,
            "idempotency_key": idempotency_key,
            "received_at": _iso(moment),
        }
        wf["signals"].append(signal)
        # the diagnostics report reads these two from the workflow record (PRODUCT §6)
        wf["satisfied_events"] = [*wf.get("satisfied_events", ()), event]
        wf["last_external_event"] = signal
        reached = st is not None
        ex.bus.emit("external_event_received", node.name, node.path, "succeeded",
                    {"event": event, "correlation": corr, "idempotency_key": idempotency_key, "order": signal["order"],
                     "reached": reached})
        ex.resume(node.name, value)
        ex.bus.emit("await_satisfied", node.name, node.path, "succeeded", {"event": event, "order": signal["order"]})
        ex.bus.emit("workflow_resumed", status="running", payload={"event": event})
        refresh_status(contract, moment)
        try:
            _save(contract, store)
        except ConcurrencyError:
            continue
        return contract
    raise ConcurrencyError(f"could not deliver '{event}' to {graph.name} {corr}: {MAX_ATTEMPTS} conflicting saves in a row",
                           graph=graph.name)


def _prior_signal(contract: Any, node_name: str) -> dict[str, Any] | None:
    wf = contract.execution.workflow or {}
    return next((s for s in wf.get("signals", ()) if s["node"] == node_name), None)


# ---------------------------------------------------------------------------- cancel / expire
def _update_active(cls: Any, store: Any, execution_id: str, change: Any) -> Any:
    """Re-read ``execution_id`` and apply ``change(contract)`` until a compare-and-set save wins."""
    for _ in range(MAX_ATTEMPTS):
        contract = restore_record(cls, store.record(execution_id), store=store)
        wf = contract.execution.workflow
        if wf is None or wf.get("status") not in ACTIVE:
            return None
        if not change(contract):
            return None
        try:
            _save(contract, store)
        except ConcurrencyError:
            continue
        return contract
    raise ConcurrencyError(f"could not update {execution_id}: {MAX_ATTEMPTS} conflicting saves in a row")


def cancel(cls: Any, *, correlation: Mapping[str, Any], store: Any = None, reason: str | None = None,
           now: dt.datetime | None = None) -> Any:
    """Cancel the active workflow with ``correlation``; it stops waiting and frees its correlation."""
    graph = cls.compiled_graph()
    corr = check_delivery_correlation(graph, correlation)
    store = _store(store)
    moment = _now(now)
    execution_id = store.find_by_correlation(graph.name, corr)
    if execution_id is None:
        raise _not_found(cls, store, corr)

    def change(contract: Any) -> bool:
        wf = contract.execution.workflow
        wf["status"] = "cancelled"
        wf["updated_at"] = _iso(moment)
        wf["cancelled"] = {"at": _iso(moment), "reason": reason}
        contract.execution.bus.emit("workflow_cancelled", status="cancelled", payload={"reason": reason})
        return True

    result = _update_active(cls, store, execution_id, change)
    if result is None:
        raise _not_found(cls, store, corr, " (it finished meanwhile)")
    return result


def expire_due(cls: Any, store: Any = None, now: dt.datetime | None = None) -> list[Any]:
    """Time out every active workflow of this contract whose await deadline has passed; returns them."""
    graph = cls.compiled_graph()
    if not any(n.timeout for n in graph.await_nodes):
        return []
    store = _store(store)
    moment = _now(now)
    expired = []
    for status in ACTIVE:
        for rec in store.list(graph=graph.name, status=status):
            deadlines = ((rec.snapshot.get("workflow") or {}).get("deadlines")) or {}
            if not any(_parse(d) <= moment for d in deadlines.values()):
                continue

            def change(contract: Any) -> bool:
                ex = contract.execution
                wf = ex.workflow
                due = []
                for node_name, deadline in wf.get("deadlines", {}).items():
                    st = ex.states.get(node_name)
                    if _parse(deadline) <= moment and (st is None or st.status in (Status.WAITING, Status.STALE)):
                        due.append(node_name)
                if not due:
                    return False
                for node_name in due:
                    node = graph.node(node_name)
                    err = AwaitTimeoutError(
                        f"event '{node.event}' did not arrive within {node.timeout:g}s (deadline {wf['deadlines'][node_name]})",
                        graph=graph.name, node=node.name, path=node.path, execution_id=ex.execution_id,
                        source_location=node.source_location,
                    )
                    ex.resolver.write(node, ex.resolver.failed(node, err))
                    ex.bus.emit("await_timed_out", node.name, node.path, "failed",
                                {"event": node.event, "deadline": wf["deadlines"][node_name]})
                from igniter_nb.runtime.invalidation import invalidate_dependents

                invalidate_dependents(ex, due, due[0])
                ex.resolve_all()
                wf["status"] = "timed_out"
                wf["updated_at"] = _iso(moment)
                ex.bus.emit("workflow_timed_out", status="timed_out", payload={"awaits": due})
                return True

            updated = _update_active(cls, store, rec.execution_id, change)
            if updated is not None:
                expired.append(updated)
    return expired
