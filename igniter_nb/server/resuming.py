"""Resuming a stored execution from outside: a pending node by its token (``POST /v1/executions/{id}/resume``), or
a remote node by the outcome of the remote execution it waits for (a callback, or ``Contract.sync_remote``).

Each change is applied to the stored execution with a compare-and-set save, re-read and re-applied when another
writer saved first; nothing is written when the change is refused. A workflow gets its status refreshed (and its
``workflow_resumed`` / ``workflow_succeeded`` ... events) as a delivered event would give it.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Callable, Mapping
from typing import Any

from igniter_nb.errors import ConcurrencyError
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.status import BLOCKED, STALE
from igniter_nb.server.errors import RequestProblem
from igniter_nb.server.remote import FINISHED, capability_digest, delivering, remote_token, remote_wait, waits_for
from igniter_nb.server.remote_dropped import dropped_remote_waits, dropped_wait_error
from igniter_nb.settings import redact_url_value

MAX_ATTEMPTS = 50
#: The event a remote node's resumption leaves in the execution's log.
REMOTE_RESUMED = "remote_resumed"
_ACTIVE = ("running", "pending", "waiting")


def update_stored(store: Any, execution_id: str, class_of: Callable[[Any], Any],
                  change: Callable[[Any], bool], *, restore: Callable[[int], Any] | None = None) -> tuple[Any, bool]:
    """Restore ``execution_id`` (as ``class_of(record)``), apply ``change(contract)`` and save it (compare-and-set),
    again from a fresh read while other writers win. Returns ``(contract, changed)``; ``change`` returning False
    saves nothing. ``restore(attempt)`` (0 first), when given, reads and restores instead (and may refuse)."""
    from igniter_nb.runtime.restore import restore_record
    from igniter_nb.runtime.store_runner import persist

    for attempt in range(MAX_ATTEMPTS):
        if restore is not None:
            contract = restore(attempt)
        else:
            record = store.record(execution_id)
            contract = restore_record(class_of(record), record, store=store)
        try:
            if not change(contract):
                return contract, False
            persist(contract.execution, store)
        except ConcurrencyError:
            continue
        return contract, True
    raise ConcurrencyError(f"could not update execution {execution_id}: {MAX_ATTEMPTS} conflicting saves in a row",
                           execution_id=execution_id)


def _check_active(contract: Any) -> None:
    workflow = contract.execution.workflow
    if workflow is not None and workflow.get("status") not in _ACTIVE:
        ex = contract.execution
        raise RequestProblem(f"{ex.graph.name} workflow {ex.execution_id} is {workflow.get('status')}: nothing of it "
                             "can be resumed", status=409, graph=ex.graph.name, execution_id=ex.execution_id)


def _resumed(contract: Any, now: dt.datetime | None, detail: Mapping[str, Any]) -> None:
    """Resolve what the resumed node unblocked; a workflow's status follows (with its events)."""
    ex = contract.execution
    if ex.workflow is None:
        ex.resolve_all()
        return
    from igniter_nb.workflow.engine import refresh_status

    ex.bus.emit("workflow_resumed", status="running", payload=dict(detail))
    refresh_status(contract, now or dt.datetime.now(dt.UTC))


def _blocked_on(execution: Any, token: str) -> DeferredResult | None:
    for st in execution.states.values():
        if st.status in BLOCKED and isinstance(st.value, DeferredResult) and st.value.token == token:
            return st.value
    return None


# ----------------------------------------------------------------------------------------------- by token


def resume_token(contract: Any, token: str, value: Any, now: dt.datetime | None = None) -> bool:
    """Resume the node of ``contract`` (at any depth) pending on ``token`` with ``value``: the change behind
    ``POST /v1/executions/{id}/resume``. Awaited events are refused: they are delivered, with their checks."""
    from igniter_nb.runtime.children import holds_token

    _check_active(contract)
    ex = contract.execution
    context = {"graph": ex.graph.name, "execution_id": ex.execution_id, "token": token[:500]}
    if not holds_token(contract, token):
        pending = sorted({st.value.token for st in ex.states.values()
                          if st.status in BLOCKED and isinstance(st.value, DeferredResult) and not st.value.event})
        shown = ", ".join(pending[:20]) or "none"
        raise RequestProblem(f"no node of {ex.graph.name} {ex.execution_id} is pending on token {token[:200]!r} "
                             f"(pending tokens: {shown})", status=409, **context)
    deferred = _blocked_on(ex, token)
    if deferred is not None and deferred.event is not None:
        raise RequestProblem(f"token {token[:200]!r} is await '{deferred.source_node}' waiting for event "
                             f"'{deferred.event}': deliver the event (POST /v1/contracts/{{name}}/events) instead",
                             **context, event=deferred.event)
    ex.resume_by_token(token, value)
    _resumed(contract, now, {"token": token})
    return True


# ----------------------------------------------------------------------------------------------- by remote outcome


def remote_deferreds(execution: Any) -> dict[str, DeferredResult]:
    """``{token: deferred}`` of every remote execution ``execution`` waits for, at any depth: its own remote nodes,
    those of composed and branch children and those of every blocked collection item (a blocked collection node
    shows only its first item's wait)."""
    found: dict[str, DeferredResult] = {}
    stack = [execution]
    while stack:  # a loop over the child tree, not recursion: children may nest any number of levels
        ex = stack.pop()
        for st in ex.states.values():
            if st.status in BLOCKED and remote_wait(st.value) is not None:
                found.setdefault(st.value.token, st.value)
        runs = ex.children
        stack.extend(child.execution for child in runs.instances.values())
        for run in runs.collections.values():
            stack.extend(item.contract.execution for item in run.blocked_items())
    return found


def remote_waits(execution: Any) -> dict[str, Mapping[str, Any]]:
    """``{token: deferred payload}`` of every remote execution ``execution`` (or a child of it) waits for."""
    return {token: remote_wait(deferred) or {} for token, deferred in remote_deferreds(execution).items()}


def _reopen(execution: Any, token: str) -> str | None:
    """Make the remote node waiting on ``token`` (here, or in a composed or branch child) resolve again, and
    each node holding such a child; returns the node of ``execution`` that was reopened."""
    from igniter_nb.runtime.children import holds_token
    from igniter_nb.runtime.invalidation import invalidate_dependents

    nodes = execution.graph.nodes_by_name
    target = next((name for name, st in execution.states.items()
                   if st.status in BLOCKED and isinstance(st.value, DeferredResult) and st.value.token == token
                   and nodes[name].kind == "remote" and waits_for(st.value, nodes[name], execution.graph)), None)
    if target is None:
        target = next((name for name, child in execution.children.instances.items()
                       if holds_token(child, token) and _reopen(child.execution, token) is not None), None)
    if target is None:  # a collection item's child: reopened there; the collection continues that item's child
        for name, run in execution.children.collections.items():
            item = run.item_for_token(token)
            if item is not None and item.contract is not None and _reopen(item.contract.execution, token) is not None:
                target = name
                break
    if target is None:
        return None
    st = execution.states[target]
    execution.states[target] = st._replace(status=STALE, version=st.version + 1, invalidated_by=target)
    invalidate_dependents(execution, (target,), target)
    return str(target)


def _applied_before(execution: Any, remote_execution_id: str) -> Mapping[str, Any] | None:
    for event in execution.bus.events:
        if event.type == REMOTE_RESUMED and event.payload.get("remote_execution_id") == remote_execution_id:
            return event.payload  # type: ignore[no-any-return]
    return None


def _capability_matches(capability: str, digest: Any) -> bool:
    return isinstance(digest, str) and hmac.compare_digest(capability_digest(capability), digest)


#: What the callback route answers every caller whose token is not one the execution handed out — the same for an
#: execution that does not exist, so the answer never tells which execution ids exist.
CALLBACK_REFUSED = "the callback token is not one this execution handed out"
_NO_DIGEST = capability_digest("")  # compared against when there is nothing to compare: the same work either way


def _handed_out(execution: Any) -> list[str]:
    """The digests of every callback token ``execution`` (or a child of it) handed out that still means something:
    its remote waits' and those of the waits it already resumed (a repeated callback is answered, not refused)."""
    digests = [d for d in (w.get("callback_digest") for w in remote_waits(execution).values()) if isinstance(d, str)]
    digests += [e.payload["callback_digest"] for e in execution.bus.events
                if e.type == REMOTE_RESUMED and isinstance(e.payload.get("callback_digest"), str)]
    return digests


def refuse_callback(execution_id: str) -> RequestProblem:
    """The 401 of every callback whose token is not one ``execution_id`` handed out (whatever the id)."""
    return RequestProblem(CALLBACK_REFUSED, status=401, execution_id=execution_id[:200])


def restore_for_callback(store: Any, execution_id: str, capability: str, class_of: Callable[[Any], Any],
                         attempt: int = 0) -> Any:
    """The stored execution a callback presenting ``capability`` may change, read and restored once: the same 401
    unless ``capability`` is a token ``execution_id`` handed out to a remote server, whatever the id (unknown,
    malformed, of a graph this server does not serve, or stored and waiting). Every digest is compared in constant
    time. On a later ``attempt`` (a compare-and-set retry: the token was accepted before) an execution gone since is
    the store's 404, as for any change."""
    from igniter_nb.errors import SnapshotNotFoundError, StoreArgumentError
    from igniter_nb.runtime.restore import restore_record
    from igniter_nb.stores.base import check_execution_id

    contract = record = None
    if capability:
        try:
            record = store.record(check_execution_id(execution_id))
            contract = restore_record(class_of(record), record, store=store)
        except (SnapshotNotFoundError, StoreArgumentError):
            if attempt:
                raise
        except RequestProblem as exc:  # (``class_of``: a graph this server does not serve)
            if exc.status != 404 or attempt:
                raise
    digests = _handed_out(contract.execution) if contract is not None else []
    presented = capability_digest(capability)
    matched = False
    for digest in digests or [_NO_DIGEST]:
        matched |= hmac.compare_digest(presented, digest) and bool(capability)
    if not matched:
        if contract is not None and record is not None and capability:
            # a token this execution did hand out, to a remote node the graph served now no longer has: said, not
            # refused as unknown (only a holder of that very token learns it)
            for node, wait in dropped_remote_waits(contract, record.snapshot).items():
                if _capability_matches(capability, wait.get("callback_digest")):
                    raise dropped_wait_error(contract, node, wait, "the callback")
        raise refuse_callback(execution_id)
    return contract


def apply_remote_outcome(contract: Any, outcome: Mapping[str, Any], *, via: str, capability: str | None = None,
                         now: dt.datetime | None = None) -> bool:
    """Resume the remote node of ``contract`` waiting for the execution ``outcome`` reports (its execution view,
    finished): value = its outputs, or a failure naming it. With ``capability`` (a callback), the wait must have
    asked for that callback. Returns False when this outcome was applied before (a repeated callback)."""
    ex = contract.execution
    rid = str(outcome["execution_id"])
    token = remote_token(rid)
    context = {"graph": ex.graph.name, "execution_id": ex.execution_id, "remote_execution_id": rid[:200]}
    wait = remote_waits(ex).get(token)
    if wait is None:
        before = _applied_before(ex, rid)
        if before is not None and (capability is None or _capability_matches(capability, before.get("callback_digest"))):
            return False
        if before is not None:
            raise RequestProblem("the callback token does not match", status=401, **context)
        raise RequestProblem(f"no remote node of {ex.graph.name} {ex.execution_id} waits for remote execution "
                             f"{rid[:200]!r}", status=409, **context)
    if capability is not None and not _capability_matches(capability, wait.get("callback_digest")):
        raise RequestProblem("the callback token does not match", status=401, **context)
    status = outcome.get("status")
    if status not in FINISHED:
        raise RequestProblem(f"remote execution {rid[:200]!r} is {status}, not finished: nothing to resume",
                             **context, remote_status=status)
    _check_active(contract)
    record = {"remote_execution_id": rid, "remote_status": status, "remote_url": redact_url_value(wait.get("remote_url")),
              "via": via}
    if wait.get("callback_digest"):
        record["callback_digest"] = wait["callback_digest"]
    node = _reopen(ex, token)
    if node is None:  # not expected: remote_waits found the wait in the same child tree
        raise RequestProblem(f"the remote node waiting for {rid[:200]!r} could not be reopened; resume it "
                             f"with POST /v1/executions/{ex.execution_id}/resume (token {token!r})", status=409,
                             **context)
    path = ex.graph.nodes_by_name[node].path
    ex.bus.emit(REMOTE_RESUMED, node, path, str(status), record)
    with delivering({token: outcome}):
        _resumed(contract, now, {"remote_execution_id": rid, "remote_status": status})
    return True


__all__ = ["CALLBACK_REFUSED", "MAX_ATTEMPTS", "REMOTE_RESUMED", "apply_remote_outcome", "refuse_callback", "remote_deferreds", "remote_waits", "restore_for_callback",
           "resume_token", "update_stored"]
