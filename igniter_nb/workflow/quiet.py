"""Quiet deliveries: a delivery that runs nothing, applied to the stored record.

Most deliveries to a waiting workflow satisfy an await whose dependents all still wait for another await (in a
workflow awaiting 40 documents, 39 of 40): no user code runs and the workflow stays ``waiting``. The general path
(``workflow/engine.py``) restores the whole contract, resumes the await, invalidates and re-resolves its
dependents, and encodes a whole new snapshot — for a change of two or three node states and a dozen events.

:func:`deliver_quietly` makes the same change on the stored record itself: the await's state becomes
``succeeded`` with its encoded value, each dependent waits on what is left, the signal joins the workflow record,
and exactly the events the general path records (same kinds, order, fields and payloads) are appended, then the
record is saved with the same compare-and-set. The contract it returns is restored from the record it saved
when first read (``runtime/first_touch.py``); a record that would not restore is never saved by this path
(``applied_save.restores`` decides before the save, without building the contract).

It applies only where that is clearly the same thing, and answers ``None`` otherwise, *before writing anything*:
the caller then takes the general path, which reads the record again. Decided once per compiled graph and await
(:func:`plan_for`): the graph has only inputs, plain function computes and awaits, no reactions, and a contract
class that does not change how instances are made; the await's dependents are computes behind an output that read
it directly and do not read each other. Decided per record (:func:`_apply`): the record is in today's form, the
workflow waits, its awaits are the graph's (no rename, no held payload, no graph change), the await waits, each
dependent waits and every other dependency it has succeeded or waits (at least one waits), and the signal is new.
Repeats, idempotent replays, conflicts, late and unknown events, payloads the codec cannot store and anything
unusual take the general path, which raises what it always raised. A lost race (the save's compare-and-set: another
writer saved since the record was read) raises ``ConcurrencyError``, nothing written, and ``deliver_event`` reads the
record again, as after a lost race of the general path.

``GENERAL_ONLY`` (tests only) sends every delivery down the general path, so the two can be compared.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Mapping
from typing import Any, TypeGuard

from igniter_nb.errors import IgniterError
from igniter_nb.events.event import Event
from igniter_nb.runtime import codec
from igniter_nb.runtime.event_chunks import EventChunks, takes_event_chunks
from igniter_nb.runtime.snapshot import FORMAT, _encode_event
from igniter_nb.workflow.applied_save import next_snapshot, saved_contract

GENERAL_ONLY = False  # tests: every delivery takes the general path (the differential tests compare the two)

_TAG = codec.TAG
_STATE_KEYS = ("status", "version", "resolved_at", "invalidated_by", "waiting_for", "value", "error")
_DEFERRED_KEYS = ("token", "payload", "source_node", "event")
_SNAPSHOT_KEYS = ("format", "graph", "contract", "execution_id", "status", "runner", "inputs", "states", "events",
                  "bound_events", "children", "children_given", "selections", "collections", "workflow", "saved_at")
_SNAPSHOT_KEYS_BOUND = (*_SNAPSHOT_KEYS[:10], "bound_in_states", *_SNAPSHOT_KEYS[10:])
_SCALARS = (str, int, bool, type(None))
_BLOCKED = ("waiting", "pending")
_KNOWN_STATUS = frozenset({"succeeded", "failed", "waiting", "pending", "stale", "running"})


class _Plan:
    """What a quiet delivery to one await of one graph does, worked out once."""

    __slots__ = (
        "await_name",
        "await_path",
        "awaits",
        "awaits_dict",
        "dependents",
        "graph_name",
        "input_names",
        "invalidated",
        "node_names",
        "plan",
        "roots",
        "started",
        "targets",
    )

    def __init__(self, graph: Any, node: Any, walk: tuple[Any, ...], targets: tuple[str, ...]) -> None:
        names = {name for name, _, _ in walk}
        self.graph_name = graph.name
        self.await_name = node.name
        self.await_path = node.path
        self.dependents = tuple(name for name, _, _ in walk)
        self.invalidated = tuple(
            (name, path, outputs) for name, path, outputs in walk)  # node_invalidated per node, then its outputs
        self.started = tuple((t, graph.nodes_by_name[t].path) for t in targets if t in names)  # re-resolved, in order
        self.targets = targets
        self.roots = {name: graph.dep_roots[name] for name in names}
        self.plan = graph.dep_plan  # (every node's dependencies, as orphaned_waits reads them)
        self.awaits = tuple((n.name, n.event) for n in graph.await_nodes)
        self.awaits_dict = dict(self.awaits)  # (what a stored workflow's "awaits" must equal: never changed)
        self.node_names = frozenset(graph.nodes_by_name)
        self.input_names = frozenset(n.name for n in graph.nodes if n.kind == "input")


def plan_for(cls: Any, graph: Any, node: Any) -> _Plan | None:
    """The plan of a quiet delivery to await ``node`` of ``graph`` (``cls``'s), or None when such a delivery
    could make a node run or be seen live; kept per graph (in its ``runtime_cache``, freed with it: the class is
    held weakly)."""
    cache = graph.runtime_cache.get("quiet_plans")
    if cache is None or cache["cls"]() is not cls:
        cache = graph.runtime_cache["quiet_plans"] = {"cls": weakref.ref(cls), "graph": _graph_eligible(cls, graph),
                                                      "plans": {}}
    plans = cache["plans"]
    plan = plans.get(node.name, _UNKNOWN)
    if plan is _UNKNOWN:
        plan = plans[node.name] = _plan(graph, node) if cache["graph"] else None
    return plan  # type: ignore[no-any-return]


_UNKNOWN = object()


def _graph_eligible(cls: Any, graph: Any) -> bool:
    if graph.reactions or graph.run_options.get("runner") not in (None, "inline"):
        return False
    if graph.run_options.get("executor") is not None:
        return False
    owners = [k for k in cls.__mro__ if "_setup" in vars(k) or "_create" in vars(k)]
    if len(owners) != 1 or not {"_setup", "_create"} <= vars(owners[0]).keys():
        return False  # (a class that changes how instances are made, as Contract does, may subscribe to their events)
    for n in graph.nodes:
        if n.kind == "compute":
            if getattr(n, "callable_kind", None) != "function":
                return False
        elif n.kind not in ("input", "await"):
            return False
    return True


def _plan(graph: Any, node: Any) -> _Plan | None:
    from igniter_nb.runtime.execution import _all_targets

    targets = _all_targets(graph)
    walk = graph.invalidation_walk(node.name)
    if not walk or node.name in targets:
        return None
    names = {name for name, _, _ in walk}
    if names != set(graph.dependents.get(node.name, ())):
        return None  # something reads a dependent: it would be invalidated and re-resolved in turn
    for name in names:
        dep = graph.nodes_by_name[name]
        if dep.kind != "compute" or not graph.simple_deps[name] or name not in targets:
            return None
        roots = graph.dep_roots[name]
        if node.name not in roots or names.intersection(roots):
            return None
    return _Plan(graph, node, walk, targets)


# ---------------------------------------------------------------------------- the delivery
def deliver_quietly(cls: Any, graph: Any, node: Any, store: Any, corr: dict[str, Any], event: str, value: Any,
                    key: str | None, digest: str | None, received_at: str, updated_at: str, record: Any, *,
                    saved_at: str | None = None) -> Any:
    """The contract after delivering ``event`` (validated payload ``value``) to ``record`` (the active workflow,
    just read) as a quiet delivery, saved; None when this delivery is not clearly quiet (nothing written: take the
    general path); ``ConcurrencyError`` when the save lost a race (nothing written: read the record again).
    ``saved_at``: the snapshot's ``saved_at`` when the caller has read the clock for this delivery already (else it
    is read when the snapshot is built)."""
    if GENERAL_ONLY or digest is None:
        return None
    plan = plan_for(cls, graph, node)
    if plan is None:
        return None
    try:
        snapshot = _apply(plan, cls, record, corr, event, value, key, digest, received_at, updated_at, store,
                          saved_at)
    except (IgniterError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None  # (the general path reports what is wrong with it, if anything)
    if snapshot is None:
        return None
    return saved_contract(cls, graph, plan, snapshot, store, record, "waiting", corr)


def _apply(plan: _Plan, cls: Any, record: Any, corr: dict[str, Any], event: str, value: Any, key: str | None,
           digest: str, received_at: str, updated_at: str, store: Any,
           saved_at: str | None = None) -> dict[str, Any] | None:
    """The next snapshot of ``record`` after the quiet delivery, or None when the record is not one it applies
    to. Builds a new dict; the parts of the record it keeps are shared with it (a store's fresh read)."""
    snap = record.snapshot
    node_name = plan.await_name
    # First what decides whether the delivery is quiet at all (a delivery that completes a join is answered here,
    # before anything is built): the await waits, and each dependent still waits on another await.
    states = waiting_states(plan, record)
    if states is None:
        return None
    waits = _waits(plan, states)
    if waits is None:
        return None
    checked = record_checks(plan, cls, record, corr, event, key, digest)
    if checked is None:
        return None
    runner, inputs, wf, signals, bound = checked
    # ``value`` is the delivery's own copy of the payload (``payloads.validate_payload``): plain data is stored as
    # it is (the contract returned shares it with the snapshot only), not copied a second time
    encoded = value
    if not codec.is_plain(value):
        encoded = codec.encode(value, node=node_name, path=f"states.{node_name}.value")
        if not codec.is_plain(encoded):
            return None
    now = time.time()
    new_states = dict(states)
    new_states[node_name] = {"status": "succeeded", "version": states[node_name]["version"] + 1, "resolved_at": now,
                             "invalidated_by": None, "waiting_for": [], "value": encoded, "error": None}
    for name, (deferred, waiting_for) in waits.items():
        new_states[name] = {"status": "waiting", "version": states[name]["version"] + 2, "resolved_at": now,
                            "invalidated_by": None, "waiting_for": list(waiting_for),
                            "value": {_TAG: "deferred", "value": {**deferred, "payload": dict(deferred["payload"])}},
                            "error": None}
    workflow, order = delivered_workflow(wf, signals, node_name, event, corr, key, digest, received_at, updated_at,
                                         "waiting")
    raw = snap["events"]
    last_seq = log_end(raw, store)
    if last_seq is None:
        return None
    execution_id = record.execution_id
    graph_name = plan.graph_name
    targets = list(plan.targets)
    emitted = head_events(plan, event, corr, key, order)
    for name, dpath in plan.started:
        deferred, waiting_for = waits[name]
        emitted.append(("node_started", name, dpath, "running", {}))
        emitted.append(("node_waiting", name, dpath, "waiting", {**deferred, "waiting_for": list(waiting_for)}))
    emitted.append(("execution_finished", None, None, "waiting",
                    {"graph": graph_name, "targets": list(targets), "status": "waiting"}))
    waiting_on = [{"node": n, "event": e} for n, e in plan.awaits
                  if (st := new_states.get(n)) is not None and st["status"] == "waiting"]
    emitted.append(("workflow_waiting", None, None, "waiting", {"waiting_on": waiting_on}))
    new_events = appended_events(raw, last_seq, execution_id, emitted, now)
    return next_snapshot(plan, record, "waiting", runner, inputs, new_states, new_events, bound, workflow, saved_at)


def waiting_states(plan: _Plan, record: Any) -> dict[str, Any] | None:
    """The stored node states of ``record`` when its snapshot and states are dicts and the await ``plan`` delivers
    to waits (the form of every state is checked later, by :func:`record_checks`); None otherwise."""
    snap = record.snapshot
    states = snap.get("states") if type(snap) is dict else None
    if type(states) is not dict:
        return None
    mine = states.get(plan.await_name)
    if type(mine) is not dict or mine.get("status") != "waiting":
        return None
    return states


def delivered_workflow(wf: dict[str, Any], signals: list[Any], node_name: str, event: str, corr: dict[str, Any],
                       key: str | None, digest: str, received_at: str, updated_at: str,
                       status: str) -> tuple[dict[str, Any], int]:
    """``(workflow record, signal order)``: ``wf`` with the delivery's signal, as ``deliver_event`` then
    ``refresh_status`` leave it for a workflow left ``status`` (not failed)."""
    signal = {"order": len(signals) + 1, "event": event, "node": node_name, "correlation": corr,
              "idempotency_key": key, "payload_digest": digest, "received_at": received_at}
    workflow = dict(wf)
    workflow["signals"] = [*signals, {**signal, "correlation": codec.plain_copy(corr)}]
    workflow["satisfied_events"] = [*wf.get("satisfied_events", ()), event]
    workflow["last_external_event"] = {**signal, "correlation": codec.plain_copy(corr)}  # (its own copy)
    workflow["status"] = status
    workflow["updated_at"] = updated_at
    workflow.pop("error", None)
    return workflow, len(signals) + 1


def head_events(plan: _Plan, event: str, corr: dict[str, Any], key: str | None, order: int) -> list[tuple[Any, ...]]:
    """``(type, node, path, status, payload)`` of the events the general path records from the signal to the
    start of the re-resolution: received, the await resumed, its dependents invalidated, satisfied, resumed."""
    node_name = plan.await_name
    path = plan.await_path
    emitted: list[tuple[Any, ...]] = [
        ("external_event_received", node_name, path, "succeeded",
         {"event": event, "correlation": corr, "idempotency_key": key, "order": order, "reached": True}),
        ("node_succeeded", node_name, path, "succeeded", {}),
        ("node_resumed", node_name, path, "succeeded", {"resumed": True}),
    ]
    for name, dpath, outputs in plan.invalidated:  # (a payload per event: a chunk never holds one dict twice)
        emitted.append(("node_invalidated", name, dpath, "stale", {"cause": node_name}))
        for out_name, out_path in outputs:
            emitted.append(("node_invalidated", out_name, out_path, "stale", {"cause": node_name}))
    emitted.append(("await_satisfied", node_name, path, "succeeded", {"event": event, "order": order}))
    emitted.append(("workflow_resumed", None, None, "running", {"event": event}))
    emitted.append(("execution_started", None, None, None, {"graph": plan.graph_name, "targets": list(plan.targets)}))
    return emitted


def log_end(raw: Any, store: Any) -> int | None:
    """The last seq of a stored event log in the form ``store`` takes it (chunks or a list), else None."""
    chunked = takes_event_chunks(store)
    if type(raw) is EventChunks:
        return raw.last_seq if chunked else None
    if type(raw) is list and not chunked:
        return int(raw[-1]["seq"]) if raw else 0
    return None


def appended_events(raw: Any, last_seq: int, execution_id: str, emitted: list[tuple[Any, ...]], now: float) -> Any:
    """The stored log ``raw`` with ``emitted`` (fresh plain payloads) after it, in its form."""
    if type(raw) is EventChunks:  # rows as snapshot._event_rows makes them: every payload here is fresh plain data
        return raw.extended_rows([(last_seq + i, etype, enode, epath, estatus, payload or None, now)
                                  for i, (etype, enode, epath, estatus, payload) in enumerate(emitted, 1)])
    return [*raw, *(_encode_event(Event(last_seq + i, etype, execution_id, enode, epath, estatus, payload, now))
                    for i, (etype, enode, epath, estatus, payload) in enumerate(emitted, 1))]


def record_checks(plan: _Plan, cls: Any, record: Any, corr: dict[str, Any], event: str, key: str | None,
                  digest: str) -> tuple[Any, dict[str, Any], dict[str, Any], list[Any], list[str]] | None:
    """``(runner, inputs, workflow, signals, awaits bound in states)`` of ``record`` when it is in today's form, waits,
    has the graph's awaits (no rename, held payload or graph change), every state well formed, no blocked state a
    restore would drop, every target resolved, and ``event`` is a new signal; else None. (The form the quiet and
    the completing deliveries apply to: ``workflow/completing.py``.)"""
    snap = record.snapshot
    states = snap["states"]
    bound_in = snap.get("bound_in_states")
    if tuple(snap) != (_SNAPSHOT_KEYS if bound_in is None else _SNAPSHOT_KEYS_BOUND):
        return None
    if (snap["format"] != FORMAT or snap["graph"] != plan.graph_name or snap["status"] != "waiting"
            or snap["execution_id"] != record.execution_id or snap["contract"] != f"{cls.__module__}:{cls.__qualname__}"
            or snap["bound_events"] != {} or snap["children"] != {} or snap["children_given"] != {}
            or snap["selections"] != {} or snap["collections"] != {}):
        return None
    runner = snap["runner"]
    if type(runner) is not dict or runner.get("runner") != "inline":
        return None
    inputs = snap["inputs"]
    if type(inputs) is not dict or not inputs.keys() <= plan.input_names:
        return None
    for v in inputs.values():
        if type(v) not in _SCALARS:
            return None
    wf = snap["workflow"]
    if type(wf) is not dict or wf.get("status") != "waiting" or wf.get("awaits") != plan.awaits_dict:
        return None
    signals = wf.get("signals")
    if type(signals) is not list:
        return None
    node_name = plan.await_name
    for s in signals:
        if type(s) is not dict or s.get("retracted"):
            return None
        # A signal of this await, or with this key: a repeat, an idempotent replay or a conflict, which the
        # general path answers (``signals.repeated_signal`` finds no repeat exactly when no signal in force matches).
        if s.get("node") == node_name or (key is not None and s.get("idempotency_key") == key):
            return None
    if not codec.is_plain(corr):
        return None
    if not states.keys() <= plan.node_names:
        return None
    for data in states.values():
        if not _well_formed(data):
            return None
    # Awaits holding a value no delivery gave (restore would put them back to waiting); blocked states whose waits
    # none of their dependencies still has (restore would drop them): the general path handles both.
    bound = [n for n in bound_in or () if type(n) is str and n in states and states[n]["status"] == "succeeded"]
    if bound_in is not None and (type(bound_in) is not list or len(bound) != len(bound_in)):
        return None
    for name, _ in plan.awaits:
        st = states.get(name)
        if st is not None and st["status"] == "succeeded" and name not in bound:
            return None
    if _orphaned(plan, states):
        return None
    for target in plan.targets:
        st = states.get(target)
        if st is None or st["status"] == "stale" or st["status"] == "running":
            return None
    return runner, inputs, wf, signals, bound


def _waits(plan: _Plan, states: Mapping[str, Any]) -> dict[str, tuple[dict[str, Any], list[str]]] | None:
    """``{dependent: (the pending value it will wait with, what it will wait for)}`` once the await has its value,
    as ``NodeSteps._not_ready`` finds them; None when a dependent would not simply wait again (it would run, fail,
    be pending, or was not waiting)."""
    waits = {}
    for name in plan.dependents:
        found = wait_of(plan, states, name)
        if found is None or found is READY:
            return None
        waits[name] = found
    return waits


READY: Any = ("ready",)  # (wait_of: every other dependency succeeded)


def wait_of(plan: _Plan, states: Mapping[str, Any], name: str) -> Any:
    """What waiting dependent ``name`` does once the await has its value: ``(the pending value it will wait with,
    what it will wait for)`` as ``NodeSteps._not_ready`` finds them; ``READY`` when every other dependency has
    succeeded (it runs); None when it was not waiting or a dependency is neither succeeded nor waiting."""
    st = states.get(name)
    if type(st) is not dict or st.get("status") != "waiting":  # (the form of every state is checked after)
        return None
    first = None
    waiting_for: list[str] = []
    for root in plan.roots[name]:
        if root == plan.await_name:
            continue  # (succeeded by this delivery)
        rst = states.get(root)
        if type(rst) is not dict:
            return None
        status = rst.get("status")
        if status == "succeeded":
            continue
        if status != "waiting":
            return None
        if first is None:
            first = rst["value"]
        for w in rst["waiting_for"] or (root,):
            if w not in waiting_for:
                waiting_for.append(w)
    if first is None:
        return READY
    if not _deferred(first):
        return None
    inner = first["value"]
    return ({"token": inner["token"], "payload": dict(inner["payload"]), "source_node": inner["source_node"],
             "event": inner["event"]}, waiting_for)


def _well_formed(data: Any) -> TypeGuard[dict[str, Any]]:
    """A stored node state in today's form, its fields of the types a restore accepts."""
    if type(data) is not dict or tuple(data) != _STATE_KEYS:
        return False
    if data["status"] not in _KNOWN_STATUS or type(data["version"]) is not int:
        return False
    waiting_for = data["waiting_for"]
    if type(waiting_for) is not list:
        return False
    for w in waiting_for:
        if type(w) is not str:
            return False
    resolved_at = data["resolved_at"]
    if resolved_at is not None and type(resolved_at) is not float and type(resolved_at) is not int:
        return False
    invalidated_by = data["invalidated_by"]
    return (invalidated_by is None or type(invalidated_by) is str) and data["error"] is None


def _deferred(value: Any) -> bool:
    """Whether a stored value is an await's pending value in today's form, plain (an event payload copies it)."""
    if type(value) is not dict or tuple(value) != (_TAG, "value") or value[_TAG] != "deferred":
        return False
    inner = value["value"]
    if type(inner) is not dict or tuple(inner) != _DEFERRED_KEYS:
        return False
    payload = inner["payload"]
    if type(inner["token"]) is not str or type(payload) is not dict:
        return False
    return all(type(k) is str and k != _TAG and type(v) in _SCALARS for k, v in payload.items())


def _orphaned(plan: _Plan, states: Mapping[str, Any]) -> bool:
    """Whether a blocked state waits for something none of its dependencies waits for (``orphaned_waits``: the
    restore would drop it), or is a node this plan does not know the dependencies of (the general path decides)."""
    for name, st in states.items():
        waits = st["waiting_for"]
        if st["status"] not in _BLOCKED or not waits or name in waits:
            continue
        through: set[str] = set()
        for _, root, _ in plan.plan.get(name, ()):
            dep = states.get(root)
            if dep is not None and dep["status"] in _BLOCKED:
                through.update(dep["waiting_for"])
        if not through.issuperset(waits):
            return True
    return False


__all__ = ["GENERAL_ONLY", "deliver_quietly", "plan_for"]
