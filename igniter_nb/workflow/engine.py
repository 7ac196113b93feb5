"""Durable workflows: ``start`` and ``deliver_event`` (cancel, expire and retry live in ``workflow/control.py``).

A workflow is a contract execution saved in a store with its correlation and a workflow record
(``execution.workflow``): status, correlation, deadlines, the awaits of its graph, and the signal log — which
events arrived, in what order, with which idempotency key and payload digest, and which await each satisfied.
Every save is compare-and-set; a delivery that loses a race re-reads and re-applies, so concurrent deliveries
lose nothing and apply each signal exactly once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

from igniter_nb.errors import (
    AwaitedEventMismatchError,
    ConcurrencyError,
    DuplicateSignalError,
    DuplicateWorkflowError,
    GraphChangedError,
    SnapshotNotFoundError,
    StoreError,
    WorkflowArgumentError,
    WorkflowNotFoundError,
)
from igniter_nb.model import AwaitNode
from igniter_nb.runtime.event_chunks import takes_event_chunks
from igniter_nb.runtime.graph_change import current_awaits, removed_awaits, stored_awaits
from igniter_nb.runtime.invalidation import invalidate_dependents
from igniter_nb.runtime.restore import restore_record
from igniter_nb.runtime.status import Status
from igniter_nb.runtime.store_runner import persist
from igniter_nb.runtime.utc_text import utc_text
from igniter_nb.runtime.workers import lock_to_take
from igniter_nb.workflow.completing import deliver_completing
from igniter_nb.workflow.contract_class import contract_class
from igniter_nb.workflow.correlation import check_delivery_correlation, correlation_from_inputs, nearest, shown
from igniter_nb.workflow.lookalike_start import warn_of_lookalike
from igniter_nb.workflow.lookalikes import lookalike, twins
from igniter_nb.workflow.payloads import private_copy, validate_payload
from igniter_nb.workflow.quiet import deliver_quietly
from igniter_nb.workflow.rollout import held_payloads, refuse_dropping
from igniter_nb.workflow.signals import check_idempotency_key, live_signals, payload_digest, repeated_signal

ACTIVE = ("running", "waiting")
FINISHED = ("succeeded", "failed", "cancelled", "timed_out")
MAX_ATTEMPTS = 50

_STATUS_OF_CONTRACT = {
    Status.SUCCEEDED: "succeeded",
    Status.FAILED: "failed",
    Status.WAITING: "waiting",
    Status.PENDING: "running",  # own work outstanding (a deferred token), not an external event
}


def _now(now: Any) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    if not isinstance(now, dt.datetime):
        raise WorkflowArgumentError(f"now= must be a timezone-aware datetime, got {type(now).__name__} {now!r:.80}",
                                    argument="now")
    if now.tzinfo is None or now.utcoffset() is None:
        raise WorkflowArgumentError("now= must be timezone-aware (e.g. datetime.now(datetime.UTC))", argument="now")
    try:  # (stamps are written in UTC: 0001-01-01T01:00+14:00 has no UTC time)
        now.astimezone(dt.UTC)
    except OverflowError:
        raise WorkflowArgumentError(f"now= {now.isoformat()} is outside the range of UTC datetimes (years 1 to 9999)",
                                    argument="now") from None
    return now


def _deadlines(graph: Any, moment: dt.datetime) -> dict[str, str]:
    """``{await: deadline}`` for the awaits with a ``timeout``; a deadline past year 9999 (a timeout of
    millennia) is not recorded: no clock can reach it, so that await never times out."""
    deadlines = {}
    for node in graph.await_nodes:
        if node.timeout:
            try:
                deadlines[node.name] = _iso(moment + dt.timedelta(seconds=node.timeout))
            except OverflowError:
                continue
    return deadlines


@functools.lru_cache(maxsize=16)  # a delivery stamps several fields with the same moment
def _iso(moment: dt.datetime) -> str:
    return utc_text(moment)


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


_STORE_METHODS = ("save", "record", "list", "find_by_correlation")


def _store(store: Any) -> Any:
    if store is not None:
        for name in _STORE_METHODS:  # (a loop, not all() over a generator: every delivery asks)
            if not callable(getattr(store, name, None)):
                break
        else:
            return store
        if isinstance(store, dt.datetime | dt.date):
            hint = ": did you mean now=? (store is the first argument of expire_due and migrate)"
        elif isinstance(store, str | bytes):
            hint = ": a store URL — igniter_nb.stores.from_url(url) makes the store"
        else:
            hint = ""
        raise WorkflowArgumentError(
            f"store= must be a store (igniter_nb.stores: MemoryStore, SQLStore, FileStore, RedisStore, ...), got "
            f"{type(store).__name__} {store!r:.80}{hint}", argument="store", given=type(store).__name__)
    from igniter_nb.config import default_store

    return default_store()


def _await_or_none(graph: Any, event: str) -> AwaitNode | None:
    for node in graph.await_nodes:
        if node.event == event:
            return node  # type: ignore[no-any-return]
    return None


def _mismatch(graph: Any, event: str) -> AwaitedEventMismatchError:
    awaited = ", ".join(n.event for n in graph.await_nodes) or "none"
    return AwaitedEventMismatchError(f"{graph.name} does not await event '{event}' (it awaits: {awaited})",
                                     graph=graph.name, event=event)


def await_for_event(graph: Any, event: str) -> AwaitNode:
    node = _await_or_none(graph, event)
    if node is None:
        raise _mismatch(graph, event)
    return node


# ---------------------------------------------------------------------------- status
def refresh_status(contract: Any, now: dt.datetime, stamp: str | None = None) -> str:
    """Resolve what can be resolved, set the workflow status from it, and emit the matching event. ``stamp``:
    ``now``'s text, when the caller has written it already."""
    ex = contract.execution
    wf = ex.workflow
    ex.resolve_all()
    if wf["status"] in ("cancelled", "timed_out"):
        return str(wf["status"])
    status = _STATUS_OF_CONTRACT[ex.status_of()]
    wf["status"] = status
    wf["updated_at"] = _iso(now) if stamp is None else stamp
    if status != "failed":
        wf.pop("error", None)  # (a workflow retried by retry_workflow)
    if status == "succeeded":
        ex.bus.emit("workflow_succeeded", status="succeeded", payload={"correlation": wf["correlation"]})
    elif status == "failed":
        err = ex.first_error()
        wf["error"] = {"type": type(err).__name__, "message": getattr(err, "message", str(err)), "node": err.node}
        ex.bus.emit("workflow_failed", status="failed", payload={"correlation": wf["correlation"], "error": str(err)})
    elif status == "waiting":
        ex.bus.emit("workflow_waiting", status="waiting", payload={"waiting_on": waiting_events(ex)})
    return status


def waiting_events(execution: Any) -> list[dict[str, str]]:
    """``[{node, event}]`` for each await node currently waiting (each event once: L-36)."""
    found = []
    for node in execution.graph.await_nodes:
        st = execution.states.get(node.name)
        if st is not None and st.status is Status.WAITING:
            found.append({"node": node.name, "event": node.event})
    return found


def save_workflow(contract: Any, store: Any, moment: dt.datetime) -> None:
    """Save with compare-and-set; a value that cannot be stored fails its node and the workflow (refreshed)."""
    persist(contract.execution, store, after_failure=lambda: refresh_status(contract, moment))


# ---------------------------------------------------------------------------- start
def start(cls: Any, inputs: Mapping[str, Any], *, store: Any = None, now: dt.datetime | None = None,
          execution_id: str | None = None) -> Any:
    """Create a workflow, resolve until it succeeds, fails or waits, and save it. Never raises for a failing
    node (the workflow is saved as ``failed``); raises ``DuplicateWorkflowError`` if an active workflow has
    the same correlation, and ``InputError`` for bad inputs or blank correlation values; warns
    (``LookalikeCorrelationWarning``) when an active workflow's correlation only looks the same. ``execution_id``
    (internal: the RQ start job derives it from its job id) names the new execution instead of a random id."""
    graph = contract_class(cls, "start").compiled_graph()
    moment = _now(now)
    store = _store(store)
    correlation = correlation_from_inputs(graph, inputs)
    if correlation:
        existing = store.find_by_correlation(graph.name, correlation)
        if existing is not None:
            raise DuplicateWorkflowError(
                f"an active {graph.name} workflow already has correlation {shown(correlation)} (execution {existing})",
                graph=graph.name, correlation=correlation, existing_execution_id=existing,
            )
        warn_of_lookalike(store, graph.name, correlation)  # (before anything is written: an "error" filter refuses)
    # the workflow's own copy of each input: a caller changing its object after the start changes neither the
    # contract returned nor what is stored (payloads.private_copy, as for a delivered payload)
    contract = cls._create({k: private_copy(v) for k, v in inputs.items()}, store=store, execution_id=execution_id)
    ex = contract.execution
    deadlines = _deadlines(graph, moment)
    ex.workflow = {
        "status": "running",
        "correlation": correlation,
        "started_at": _iso(moment),
        "updated_at": _iso(moment),
        "deadlines": deadlines,
        "awaits": current_awaits(graph),  # what a later deploy's graph is compared with (graph_change.py)
        "signals": [],
    }
    ex.bus.emit("workflow_started", status="running", payload={"graph": graph.name, "correlation": correlation})
    for key in graph.correlation_keys:  # the workflow's identity is known from the start (shown as resolved)
        ex.resolve(key)
    refresh_status(contract, moment)
    ex.store_version = 0  # must not exist yet
    try:
        save_workflow(contract, store, moment)
    except StoreError as exc:
        if type(exc) is not StoreError or not exc.context.get("may_be_written"):
            raise
        raise _start_maybe_saved(exc, store, graph.name, correlation, ex.execution_id) from exc
    return contract


def _start_maybe_saved(exc: StoreError, store: Any, graph: str, correlation: dict[str, Any],
                       execution_id: str) -> StoreError:
    """The error of a start whose save may have been carried out (its connection was lost after the save was sent:
    the answer may be all that was lost). The store's own advice is a delivery's (retry with the same idempotency
    key); a start has none: the caller reads the execution, or starts again — a correlated workflow that was
    stored makes that a ``DuplicateWorkflowError`` naming it."""
    cause = exc.__cause__
    why = f"{type(cause).__name__}: {cause}" if cause is not None else exc.message
    again = (f"; or start it again: DuplicateWorkflowError names it if it was stored (correlation {shown(correlation)})"
             if correlation else "; starting it again would start a second workflow (it has no correlation)")
    return StoreError(
        f"{store!r}: could not save the start of {graph} execution {execution_id!r}: the connection to the store was "
        f"lost ({why}); if that was after the save was sent, the workflow may have been started: read it with "
        f"store.record({execution_id!r}) (SnapshotNotFoundError: it was not){again}",
        graph=graph, execution_id=execution_id, may_be_written=True)


# ---------------------------------------------------------------------------- deliver
def not_found(cls: Any, store: Any, correlation: dict[str, Any], detail: str = "") -> WorkflowNotFoundError:
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
    candidates += _twins_of(store, graph.name, correlation, candidates)
    near = nearest(correlation, candidates)
    hint = ""
    if near:
        hint = "; nearest active: " + ", ".join(
            f"{shown(n['correlation'])} (differs in "
            f"{', '.join(_difference(k, correlation, n['correlation']) for k in n['differs_in']) or 'nothing'})"
            for n in near)
        lacking = [k for k in correlation if any(k not in n["correlation"] for n in near)]
        if lacking:  # started before a deploy added the key: nothing can address it until it has a value
            hint += (f"; a workflow started before a deploy added a correlation key lacks it: give old workflows a "
                     f"value with {cls.__name__}.migrate(store, inputs={{{lacking[0]!r}: ...}})")
    return WorkflowNotFoundError(
        f"no active {graph.name} workflow has correlation {shown(correlation)}{detail}{hint}",
        graph=graph.name, correlation=correlation, nearest=near,
    )


_not_found = not_found  # (the notebook simulator's name for it)


def _twins_of(store: Any, graph: str, correlation: Mapping[str, Any],
              known: list[tuple[str, Mapping[str, Any]]]) -> list[tuple[str, Mapping[str, Any]]]:
    """Active workflows whose correlation is ``correlation`` with one text value spelled without its invisible
    characters or in NFC (``workflow/lookalikes.py``): found by exact lookups, so named even when more active
    workflows are stored than the listing above reads."""
    seen = {eid for eid, _ in known}
    found: list[tuple[str, Mapping[str, Any]]] = []
    for key, value in correlation.items():
        if type(value) is not str:
            continue
        for other in twins(value):
            twin = {**correlation, key: other}
            eid = store.find_by_correlation(graph, twin)
            if eid is not None and eid not in seen:
                seen.add(eid)
                found.append((eid, twin))
    return found


def _difference(key: str, given: Mapping[str, Any], stored: Mapping[str, Any]) -> str:
    if key not in stored:
        return f"{key}: not in its correlation"
    mine, theirs = given.get(key), stored.get(key)
    if mine == theirs:  # equal in Python, but not the same stored value: 42 and 42.0, 1 and True
        return f"{key}: the value type ({type(mine).__name__} {mine!r} given, {type(theirs).__name__} {theirs!r} stored)"
    why = lookalike(mine, theirs)  # prints alike (invisible characters, NFC twins): matching stays exact
    return f"{key}: {why}" if why else key


def _latest_with_correlation(store: Any, graph: str, correlation: dict[str, Any]) -> Any:
    """The most recent execution (any status) with this correlation — for late duplicate signals."""
    finder = getattr(store, "find_latest_by_correlation", None)
    if finder is not None:
        eid = finder(graph, correlation)
        if eid is None:
            return None
        try:
            return store.record(eid)
        except SnapshotNotFoundError:  # deleted meanwhile
            return None
    latest = None
    for rec in store.list(graph=graph):
        if rec.correlation == correlation and (latest is None or rec.updated_at >= latest.updated_at):
            latest = rec
    return latest


def _active_record(store: Any, graph: str, correlation: dict[str, Any]) -> Any:
    """The record of the active execution with ``correlation``, or None: one read where the store has
    ``record_by_correlation`` (memory, SQL, Redis), else ``find_by_correlation`` then ``record`` (None when it was
    deleted while being read; it may also have finished in between: the caller checks)."""
    reader = getattr(store, "record_by_correlation", None)
    try:
        if reader is not None:
            if takes_event_chunks(store):  # the log as the store keeps it, undecoded (runtime/event_chunks.py)
                return reader(graph, correlation, event_chunks=True)
            return reader(graph, correlation)  # (SQL: a packed record's parts are a second read)
        execution_id = store.find_by_correlation(graph, correlation)
        return None if execution_id is None else store.record(execution_id)
    except SnapshotNotFoundError:
        return None


def _workflow_of(snapshot: Any) -> Mapping[str, Any] | None:
    workflow = snapshot.get("workflow") if isinstance(snapshot, Mapping) else None
    return workflow if isinstance(workflow, Mapping) else None


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
    recorded with the same payload, in which case the workflow is returned unchanged; the same key with another
    payload or for another event raises ``IdempotencyConflictError`` (``workflow/signals.py``). An event a
    stored workflow awaits under an await the current graph no longer has raises ``GraphChangedError``.
    """
    graph = contract_class(cls, "deliver_event").compiled_graph()
    node = _await_or_none(graph, event)
    if node is None:
        try:
            corr = check_delivery_correlation(graph, correlation)
        except WorkflowNotFoundError:
            raise _mismatch(graph, event) from None
        check_idempotency_key(idempotency_key)
        _now(now)
        raise _unknown_event(cls, _store(store), corr, event)
    corr = check_delivery_correlation(graph, correlation)
    value = validate_payload(graph.name, node, payload)
    key = check_idempotency_key(idempotency_key)
    moment = _now(now)
    store = _store(store)
    digest = payload_digest(value)
    stamp = utc_text(moment)  # (every field this delivery stamps: written once, without _iso's cache of moments)
    saved_at = stamp if now is None else None  # (the clock read for this delivery: the snapshot's saved_at too)
    for _ in range(MAX_ATTEMPTS):
        record = _active_record(store, graph.name, corr)
        if record is None:
            return _deliver_late(cls, store, corr, node, event, key, digest)
        try:
            quiet = deliver_quietly(cls, graph, node, store, corr, event, value, key, digest, stamp, stamp, record,
                                    saved_at=saved_at)  # (None: not a quiet delivery, nothing written)
            if quiet is not None:
                return quiet
            done, handover = deliver_completing(cls, graph, node, store, corr, event, value, key, digest, stamp,
                                                stamp, record, saved_at=saved_at)  # (None: not applied; a handover)
        except ConcurrencyError:
            continue  # another writer saved since ``record`` was read: the general path could only lose on it too
        if done is not None:
            return done
        execution_id = record.execution_id
        held = held_payloads(graph, record.snapshot)  # (read before the restore drops them: rollout.py)
        contract = restore_record(cls, record, store=store)
        ex = contract.execution
        if handover is not None:  # the dependents deliver_completing called give what they gave, not a second call
            handover.install(ex, record)
        wf = ex.workflow
        if wf is None or wf.get("status") not in ACTIVE:
            continue  # finished between the lookup and the read: look again
        _check_renamed(cls, contract, node, event)
        if held:
            refuse_dropping(cls, contract, held, f"event {event!r} is not applied")
        if repeated_signal(live_signals(wf), node.name, event, key, digest, graph=graph.name, execution_id=execution_id,
                           path=node.path) is not None:
            return contract
        st = ex.states.get(node.name)
        reached = st is not None
        if st is not None and st.status is Status.SUCCEEDED:  # a value no signal in force delivered
            if node.name in ex.bound_events:  # given by its token (resume_from_store), not computed
                raise DuplicateSignalError(
                    f"await '{node.name}' of {graph.name} {execution_id} already has its value, given by its token "
                    f"(resume_from_store or an RQ resume job) rather than by a delivered event: event '{event}' is "
                    "not applied", graph=graph.name, node=node.name, path=node.path, execution_id=execution_id,
                    event=event)
            _drop_computed_value(ex, node)
        elif st is not None and st.status is Status.FAILED:
            raise AwaitedEventMismatchError(f"await '{node.name}' of {execution_id} is no longer waiting ({st.error})",
                                            graph=graph.name, node=node.name, execution_id=execution_id, event=event)
        signal = {
            "order": len(wf["signals"]) + 1,
            "event": event,
            "node": node.name,
            "correlation": corr,
            "idempotency_key": key,
            "payload_digest": digest,
            "received_at": stamp,
        }
        wf["signals"].append(signal)
        # the diagnostics report reads these two from the workflow record (PRODUCT §6)
        wf["satisfied_events"] = [*wf.get("satisfied_events", ()), event]
        wf["last_external_event"] = signal
        ex.bus.emit("external_event_received", node.name, node.path, "succeeded",
                    {"event": event, "correlation": corr, "idempotency_key": key, "order": signal["order"],
                     "reached": reached})
        ex.resume(node.name, value)
        if reached and st is not None and st.status is Status.SUCCEEDED:  # what the computed value gave is stale
            invalidate_dependents(ex, (node.name,), node.name)
        ex.bus.emit("await_satisfied", node.name, node.path, "succeeded", {"event": event, "order": signal["order"]})
        ex.bus.emit("workflow_resumed", status="running", payload={"event": event})
        refresh_status(contract, moment, stamp)
        try:
            save_workflow(contract, store, moment)
        except ConcurrencyError:
            continue
        return contract
    raise ConcurrencyError(f"could not deliver '{event}' to {graph.name} {shown(corr)}: {MAX_ATTEMPTS} conflicting saves in a row",
                           graph=graph.name)


def _drop_computed_value(execution: Any, node: AwaitNode) -> None:
    """Forget the value of an await that no signal in force delivered: it was computed while a deploy made the
    node a compute (or another kind) and saved without a ``migrate``, and a rollback made it an await again — the
    stored awaits say it always was one, so the restore kept the value. A computed value is never taken for a
    delivered payload (as when a compute becomes an await: ``runtime/graph_change.py``), so the delivery gives the
    await its payload and what was computed from the old value resolves again. Logged as ``graph_changed``.
    Under the execution's lock, as ``update_inputs`` and ``resume`` change states (``runtime/workers.lock_to_take``):
    a thread sharing the contract reads before or after, never between the two."""
    lock = lock_to_take(execution)  # (None on a threads-runner worker of this execution: its caller holds it)
    with lock if lock is not None else contextlib.nullcontext():
        execution.states.pop(node.name, None)
        execution.bound_events.pop(node.name, None)
    execution.bus.emit("graph_changed", payload={"removed": [node.name], "removed_awaits": [],
                                                  "computed_under_another_graph": [node.name]})


def _deliver_late(cls: Any, store: Any, corr: dict[str, Any], node: AwaitNode, event: str, key: str | None,
                  digest: str | None) -> Any:
    """No active workflow has ``corr``: a repeat of a signal the latest (finished) one recorded is answered as
    such — the workflow for a retry, ``DuplicateSignalError`` / ``IdempotencyConflictError`` otherwise."""
    graph = cls.compiled_graph()
    latest = _latest_with_correlation(store, graph.name, corr)
    if latest is None:
        raise not_found(cls, store, corr)
    signals = live_signals(_workflow_of(latest.snapshot))
    if repeated_signal(signals, node.name, event, key, digest, graph=graph.name, execution_id=latest.execution_id,
                       path=node.path) is not None:
        return restore_record(cls, latest, store=store)
    raise not_found(cls, store, corr, f" (the latest one, {latest.execution_id}, is {latest.status})")


def _check_renamed(cls: Any, contract: Any, node: AwaitNode, event: str) -> None:
    """The stored workflow awaited ``event`` under another await, which the current graph no longer has."""
    changes = contract.execution.graph_changes
    gone = [old for old, awaited in (changes.removed_awaits if changes else {}).items() if awaited == event]
    if gone:
        graph = cls.compiled_graph()
        raise GraphChangedError(
            f"workflow {contract.execution_id} of {graph.name} awaits event '{event}' as '{gone[0]}', which the "
            f"current graph no longer has (it awaits '{event}' as '{node.name}' now): move stored workflows onto the "
            f"new graph with {cls.__name__}.migrate(store, rename={{{gone[0]!r}: {node.name!r}}})",
            graph=graph.name, node=gone[0], execution_id=contract.execution_id, event=event, current_node=node.name)


def _unknown_event(cls: Any, store: Any, corr: dict[str, Any], event: str) -> Exception:
    """The error for an event the graph does not await: ``GraphChangedError`` when the active workflow with
    ``corr`` was started under a graph that awaited it (its await was removed or renamed by a deploy)."""
    graph = cls.compiled_graph()
    execution_id = store.find_by_correlation(graph.name, corr)
    if execution_id is not None:
        try:
            record = store.record(execution_id)
        except SnapshotNotFoundError:
            record = None
        gone = removed_awaits(graph, stored_awaits(record.snapshot)) if record is not None else {}
        for old, awaited in gone.items():
            if awaited == event:
                return GraphChangedError(
                    f"workflow {execution_id} of {graph.name} waits for event '{event}' at await '{old}', which the "
                    f"current graph no longer has (removed or renamed by a deploy): move it onto the new graph with "
                    f"{cls.__name__}.migrate(store, rename={{{old!r}: <new name>}}) or stop it with "
                    f"{cls.__name__}.cancel(correlation=...)",
                    graph=graph.name, node=old, execution_id=execution_id, event=event)
    return _mismatch(graph, event)


def _prior_signal(contract: Any, node_name: str) -> Mapping[str, Any] | None:
    """The signal in force recorded for ``node_name`` (the notebook simulator's preview reads it)."""
    return next((s for s in live_signals(contract.execution.workflow) if s.get("node") == node_name), None)
