"""Operator actions on stored workflows: ``cancel``, ``expire_due`` and ``retry_workflow``.

Each re-reads the workflow and saves it with compare-and-set, re-applying its change when another writer saved
first. ``cancel`` and ``expire_due`` work on every stored workflow, also one that no longer restores into the
current graph (a child contract no longer defined, hand-edited data): they then change the stored record itself
— the workflow status, its ``cancelled`` entry, one event appended to the log — and save it, so a workflow
nobody can restore still frees its correlation. A record whose snapshot names another execution is refused.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from typing import Any

from igniter_nb.errors import (
    AwaitTimeoutError,
    ConcurrencyError,
    IgniterError,
    SnapshotNotFoundError,
    WorkflowArgumentError,
)
from igniter_nb.runtime.restore import check_record, restore_record
from igniter_nb.runtime.status import Status
from igniter_nb.workflow.contract_class import contract_class
from igniter_nb.workflow.correlation import check_delivery_correlation, shown
from igniter_nb.workflow.engine import (
    ACTIVE,
    MAX_ATTEMPTS,
    _iso,
    _latest_with_correlation,
    _now,
    _parse,
    _store,
    _workflow_of,
    not_found,
    refresh_status,
    save_workflow,
)
from igniter_nb.workflow.rollout import restore_keeping_payloads
from igniter_nb.workflow.signals import live_signals


def update_stored(
    cls: Any,
    store: Any,
    execution_id: str,
    moment: dt.datetime,
    change: Callable[[Any], bool],
    change_record: Callable[[dict[str, Any], IgniterError], str | None],
) -> Any:
    """Re-read the active workflow ``execution_id`` and apply ``change(contract)`` (False: nothing to do) until a
    compare-and-set save wins; returns the contract, or None when it is not active (any more).

    When the stored workflow does not restore, ``change_record(snapshot, error)`` changes the stored snapshot
    itself and returns the record's new status (None: nothing to do); the saved ``StoredExecution`` is returned.
    """
    for _ in range(MAX_ATTEMPTS):
        try:
            record = store.record(execution_id)
        except SnapshotNotFoundError:
            return None
        check_record(record)  # never act on a record that would overwrite another execution
        workflow = _workflow_of(record.snapshot)
        if workflow is None or workflow.get("status") not in ACTIVE:
            return None
        try:
            contract = restore_record(cls, record, store=store)
        except IgniterError as exc:
            status = change_record(record.snapshot, exc)
            if status is None:
                return None
            try:
                store.save(record.snapshot, status=status, expected_version=record.version)
            except ConcurrencyError:
                continue
            return store.record(execution_id)
        if not change(contract):
            return None
        try:
            save_workflow(contract, store, moment)
        except ConcurrencyError:
            continue
        return contract
    raise ConcurrencyError(f"could not update {execution_id}: {MAX_ATTEMPTS} conflicting saves in a row",
                           execution_id=execution_id)


def _append_stored_event(snapshot: dict[str, Any], kind: str, status: str, payload: dict[str, Any]) -> None:
    """Append an event to a stored snapshot's log (for a workflow changed without restoring it)."""
    events = snapshot.get("events")
    if not isinstance(events, list):
        return
    last = events[-1].get("seq") if events and isinstance(events[-1], Mapping) else 0
    seq = last + 1 if type(last) is int else len(events) + 1
    events.append({"seq": seq, "type": kind, "node": None, "path": None, "status": status, "payload": payload,
                   "timestamp": time.time()})


def _unrestorable(error: IgniterError) -> str:
    return f"{type(error).__name__}: {error.message}"[:500]


# ---------------------------------------------------------------------------- cancel
def cancel(cls: Any, *, correlation: Mapping[str, Any], store: Any = None, reason: str | None = None,
           now: dt.datetime | None = None) -> Any:
    """Cancel the active workflow with ``correlation``; it stops waiting and frees its correlation. Returns the
    contract, or — for a stored workflow that no longer restores — the ``StoredExecution`` saved."""
    graph = contract_class(cls, "cancel").compiled_graph()
    corr = check_delivery_correlation(graph, correlation)
    if reason is not None and not isinstance(reason, str):
        raise WorkflowArgumentError(f"reason must be a string, got {type(reason).__name__}", argument="reason")
    moment = _now(now)
    store = _store(store)
    execution_id = store.find_by_correlation(graph.name, corr)
    if execution_id is None:
        raise not_found(cls, store, corr)

    def cancelled(workflow: dict[str, Any]) -> None:
        workflow["status"] = "cancelled"
        workflow["updated_at"] = _iso(moment)
        workflow["cancelled"] = {"at": _iso(moment), "reason": reason}

    def change(contract: Any) -> bool:
        cancelled(contract.execution.workflow)
        contract.execution.bus.emit("workflow_cancelled", status="cancelled", payload={"reason": reason})
        return True

    def change_record(snapshot: dict[str, Any], error: IgniterError) -> str:
        cancelled(snapshot["workflow"])
        _append_stored_event(snapshot, "workflow_cancelled", "cancelled",
                             {"reason": reason, "unrestorable": _unrestorable(error)})
        return "cancelled"

    result = update_stored(cls, store, execution_id, moment, change, change_record)
    if result is None:
        raise not_found(cls, store, corr, " (it finished meanwhile)")
    return result


# ---------------------------------------------------------------------------- expire
def _due(workflow: Mapping[str, Any], moment: dt.datetime) -> list[str]:
    """Awaits whose recorded deadline is at or before ``moment`` (a deadline that does not parse never is; one
    without a zone is read as UTC, the zone deadlines are written in)."""
    deadlines = workflow.get("deadlines")
    due = []
    for name, deadline in (deadlines.items() if isinstance(deadlines, Mapping) else ()):
        try:
            parsed = _parse(deadline)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.UTC)
            passed = parsed <= moment
        except (TypeError, ValueError, AttributeError):
            continue
        if passed:
            due.append(name)
    return due


def expire_due(cls: Any, store: Any = None, now: dt.datetime | None = None) -> list[Any]:
    """Time out every active workflow of this contract whose await deadline has passed; returns them (contracts,
    or ``StoredExecution``s for stored workflows that no longer restore).

    The deadlines are the ones recorded at ``start``, so a workflow keeps its deadline when a deploy drops the
    ``timeout``; an await the current graph no longer has cannot time out.
    """
    graph = contract_class(cls, "expire_due").compiled_graph()
    moment = _now(now)
    store = _store(store)
    awaits = {n.name: n for n in graph.await_nodes}
    expired = []

    def change(contract: Any) -> bool:
        ex = contract.execution
        wf = ex.workflow
        due = []
        for name in _due(wf, moment):
            st = ex.states.get(name)
            if name in awaits and (st is None or st.status in (Status.WAITING, Status.STALE)):
                due.append(name)
        if not due:
            return False
        for name in due:
            node = awaits[name]
            deadline = wf["deadlines"][name]
            within = f"within {node.timeout:g}s " if node.timeout else ""
            err = AwaitTimeoutError(
                f"event '{node.event}' did not arrive {within}(deadline {deadline})",
                graph=graph.name, node=node.name, path=node.path, execution_id=ex.execution_id,
                source_location=node.source_location,
            )
            ex.resolver.write(node, ex.resolver.failed(node, err))
            ex.bus.emit("await_timed_out", node.name, node.path, "failed", {"event": node.event, "deadline": deadline})
        from igniter_nb.runtime.invalidation import invalidate_dependents

        invalidate_dependents(ex, due, due[0])
        ex.resolve_all()
        wf["status"] = "timed_out"
        wf["updated_at"] = _iso(moment)
        ex.bus.emit("workflow_timed_out", status="timed_out", payload={"awaits": due})
        return True

    def change_record(snapshot: dict[str, Any], error: IgniterError) -> str | None:
        wf = snapshot["workflow"]
        stored = snapshot.get("states")
        states: Mapping[str, Any] = stored if isinstance(stored, Mapping) else {}
        due = [name for name in _due(wf, moment)
               if not (isinstance(states.get(name), Mapping) and states[name].get("status") == "succeeded")]
        if not due:
            return None
        wf["status"] = "timed_out"
        wf["updated_at"] = _iso(moment)
        _append_stored_event(snapshot, "workflow_timed_out", "timed_out",
                             {"awaits": due, "unrestorable": _unrestorable(error)})
        return "timed_out"

    for status in ACTIVE:
        for rec in store.list(graph=graph.name, status=status):
            workflow = _workflow_of(rec.snapshot)
            if workflow is None or not _due(workflow, moment):
                continue
            updated = update_stored(cls, store, rec.execution_id, moment, change, change_record)
            if updated is not None:
                expired.append(updated)
    return expired


# ---------------------------------------------------------------------------- retry
def retry_workflow(cls: Any, *, correlation: Mapping[str, Any], store: Any = None, node: str | None = None,
                   now: dt.datetime | None = None) -> Any:
    """Re-run the failed nodes (all, or ``node`` and the failures downstream of it) of the latest workflow with
    ``correlation``, which must be ``failed``; refresh its status and save it with compare-and-set.

    A workflow that waits again is active again: it takes its correlation back, so while another workflow with
    the same correlation is active (started after the failure, or while the retry runs) it raises
    ``DuplicateWorkflowError`` and writes nothing. An await
    whose failure is retried waits for its event again: its signal is retracted from the signal log
    (``retracted`` set, kept for the audit) so the event can be delivered anew.
    """
    graph = contract_class(cls, "retry_workflow").compiled_graph()
    corr = check_delivery_correlation(graph, correlation)
    if node is not None and (not isinstance(node, str) or not graph.has_node(node)):
        raise WorkflowArgumentError(f"node={node!r:.80} is not a node of {graph.name}", graph=graph.name,
                                    argument="node")
    moment = _now(now)
    store = _store(store)
    for _ in range(MAX_ATTEMPTS):
        latest = _latest_with_correlation(store, graph.name, corr)
        if latest is None:
            raise not_found(cls, store, corr)
        workflow = _workflow_of(latest.snapshot)
        status = workflow.get("status") if workflow is not None else None
        if status in ACTIVE:  # the latest one holds the correlation: a failed one before it cannot take it back
            from igniter_nb.errors import DuplicateWorkflowError

            raise DuplicateWorkflowError(
                f"cannot retry a {graph.name} workflow with correlation {shown(corr)}: execution {latest.execution_id} is "
                f"active ({status}) with it; only a failed workflow whose correlation is free can be retried",
                graph=graph.name, correlation=corr, existing_execution_id=latest.execution_id)
        if status != "failed":
            raise not_found(cls, store, corr, f" to retry: the latest one, {latest.execution_id}, is {status}, not failed")
        contract = restore_keeping_payloads(cls, latest, store, "the workflow is not retried")
        ex = contract.execution
        retried = ex.retry(node)
        if node is not None and not retried:  # nothing to re-run: a no-op must not save a version and an event
            failed = [n for n, st in ex.states.items() if st.status is Status.FAILED]
            raise WorkflowArgumentError(
                f"node={node!r} of {graph.name} {latest.execution_id} did not fail, nor anything after it "
                f"(failed: {', '.join(failed) or 'none'}); retry a failed node or one before it, or all with node=None",
                graph=graph.name, argument="node", node=node, execution_id=latest.execution_id, failed=failed)
        ex.bus.emit("workflow_retried", status="running", payload={"nodes": retried})
        refresh_status(contract, moment)
        _retract_reopened(ex, moment)
        try:
            save_workflow(contract, store, moment)
        except ConcurrencyError:
            continue
        return contract
    raise ConcurrencyError(f"could not retry {graph.name} {shown(corr)}: {MAX_ATTEMPTS} conflicting saves in a row",
                           graph=graph.name)


def _retract_reopened(execution: Any, moment: dt.datetime) -> None:
    """Retract the signals of awaits that wait for their event again (their value failed and was retried)."""
    wf = execution.workflow
    for signal in live_signals(wf):
        st = execution.states.get(signal.get("node"))
        if st is not None and st.status is not Status.SUCCEEDED:
            signal["retracted"] = {"at": _iso(moment), "by": "retry_workflow"}  # type: ignore[index]
            satisfied = list(wf.get("satisfied_events") or ())
            if signal.get("event") in satisfied:
                satisfied.remove(signal.get("event"))
            wf["satisfied_events"] = satisfied
