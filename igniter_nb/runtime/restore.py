"""Restoring an execution from its snapshot (``runtime/snapshot.py`` builds snapshots, this reads them back):
checks that a stored record is the execution it claims to be, rebuilds the contract, its node states, children
and collections in the graph the class has now, and keeps the parts of the snapshot it can stand for unchanged
as their encoded form, so the next save encodes only what changed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from igniter_nb.compiler.registry import lookup_contract
from igniter_nb.errors import GraphChangedError, IgniterError, SnapshotEncodingError
from igniter_nb.events.event import Event
from igniter_nb.runtime import codec
from igniter_nb.runtime.collection import CollectionResult
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.depth import descend
from igniter_nb.runtime.event_chunks import EventChunks
from igniter_nb.runtime.graph_change import (
    GraphChanges,
    computed_awaits,
    kind_changes,
    orphaned_waits,
    removed_since_saved,
    retract_dropped,
)
from igniter_nb.runtime.invalidation import invalidate_dependents
from igniter_nb.runtime.restore_checks import (  # (check_record, check_snapshot: importable from here too)
    _private_copy,
    _shown,
    _text,
    check_record,
    check_snapshot,
)
from igniter_nb.runtime.shipping import ShippedResult
from igniter_nb.runtime.snapshot import (
    SELF_ENCODING_TYPES,
    children_restored,
    decode_error,
    reusable_stored_form,
)
from igniter_nb.runtime.states import NodeState
from igniter_nb.runtime.status import BLOCKED, Status

if TYPE_CHECKING:
    from igniter_nb.model import AwaitNode
    from igniter_nb.runtime.execution import Execution


class _Cursor:
    """Where a restore is in the snapshot, for the error that names a malformed field."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at = "snapshot"


def restore_contract(
    cls: Any, snapshot: Mapping[str, Any], *, store: Any = None, executor: Any = None, owned: bool = False
) -> Any:
    """A new ``cls`` instance continuing the execution in ``snapshot`` (same id, states, events).

    An execution that ran collection items on an ``executor`` runner continues with ``executor`` if given,
    else inline (a process pool cannot be stored). The restored execution keeps parts of the snapshot as its
    encoded form (see :func:`snapshot_execution`), so a snapshot someone else may change is copied first;
    ``owned=True`` says the caller hands it over (a dict a store just returned) and nobody changes it later.

    The snapshot restores into the graph ``cls`` has *now*: what the graph no longer has is dropped (see
    ``runtime/graph_change.py``). Malformed stored data raises ``SnapshotEncodingError`` naming the field, never
    a raw Python error; contract classes come only from contracts defined in this process (nothing named in
    stored data is ever imported).
    """
    return _restored(cls, snapshot, store, executor, owned, None)


def restore_attributes(contract: Any, snapshot: Mapping[str, Any], *, store: Any) -> tuple[Any, ...]:
    """The attributes ``Contract._setup`` would give ``contract`` (an instance ``type(contract).__new__`` made,
    not set up), ``Contract._attributes``' tuple, holding the execution in ``snapshot`` (owned, as from
    :func:`restore_contract` with ``owned=True``) restored completely, none of them set on ``contract`` yet: a
    contract restored on first touch (``runtime/first_touch.py``) sets them all at once when they are ready, so
    another thread never reads a half-restored execution. Raises what :func:`restore_contract` raises."""
    attributes: tuple[Any, ...] = _restored(type(contract), snapshot, store, None, True, contract)
    return attributes


def _restored(cls: Any, snapshot: Mapping[str, Any], store: Any, executor: Any, owned: bool, into: Any) -> Any:
    graph = cls.compiled_graph()
    check_snapshot(snapshot, graph.name)
    if not owned:
        snapshot = _private_copy(snapshot, graph.name)
    cursor = _Cursor()
    try:
        return _restore(cls, graph, snapshot, store, executor, cursor, into)
    except (SnapshotEncodingError, GraphChangedError):
        raise
    except IgniterError as exc:  # e.g. stored inputs a changed graph no longer accepts
        raise _malformed(graph.name, snapshot, cursor.at, exc.message, type(exc).__name__) from exc
    except Exception as exc:  # RecursionError (absurdly deep data) included
        raise _malformed(graph.name, snapshot, cursor.at, f"{type(exc).__name__}: {exc}", type(exc).__name__) from exc


def _malformed(graph_name: str, snapshot: Mapping[str, Any], where: str, why: str, cause: str) -> SnapshotEncodingError:
    eid = _text(snapshot.get("execution_id"))
    shown = codec.short_path(where)  # (a node or collection name from stored data: cut, its newlines escaped)
    return codec.located(SnapshotEncodingError(
        f"stored snapshot of {graph_name} execution {eid} cannot be restored: {shown} is malformed ({why[:300]})",
        graph=graph_name, execution_id=eid, path=shown, cause_type=cause), where)


def _restore(cls: Any, graph: Any, snapshot: Mapping[str, Any], store: Any, executor: Any, cursor: _Cursor,
             into: Any = None) -> Any:
    """The restored contract; with ``into`` (an instance not set up), the attributes ``into._attributes`` gives
    it, restored and not yet set (:func:`restore_attributes`)."""
    cursor.at = "execution_id"
    execution_id = snapshot.get("execution_id")
    if type(execution_id) is not str or not execution_id:
        raise TypeError(f"execution_id must be a non-empty string, got {_shown(execution_id)}")
    cursor.at = "runner"
    runner: Mapping[str, Any] = _mapping(snapshot, "runner")  # (only read; copied before the one change below)
    if runner.get("runner") == "executor" and executor is None:
        # an executor cannot be stored: the class's own (``c.run_with("executor", executor=...)``) is attached again,
        # so a workflow a server or an RQ worker restores keeps fanning out; one the caller passed is not known here
        executor = graph.run_options.get("executor")
        if executor is None:
            runner = {**runner, "runner": "inline"}
    cursor.at = "inputs"
    inputs = codec.decode_shared(_mapping(snapshot, "inputs"))
    known = _input_names(graph)
    dropped: list[str] = []
    if not inputs.keys() <= known:  # an input the graph no longer has (a deploy changed it)
        dropped = [k for k in inputs if k not in known]
        inputs = {k: v for k, v in inputs.items() if k in known}
    if into is None:
        made = cls._create(inputs, runner=runner.get("runner"), max_workers=runner.get("max_workers"), store=store,
                           executor=executor, execution_id=execution_id)
        execution = made.execution
    else:  # (as _create does, the attributes kept rather than set)
        made = into._attributes(dict(inputs), runner=runner.get("runner"), max_workers=runner.get("max_workers"),
                                store=store, executor=executor, execution_id=execution_id)
        execution = made[0]
    token = children_restored.set({})
    try:
        _apply(execution, snapshot, cursor, dropped)
    finally:
        children_restored.reset(token)
    return made


@functools.lru_cache(maxsize=256)  # per compiled graph (compared by identity): asked on every restore
def _input_names(graph: Any) -> frozenset[str]:
    return frozenset(n.name for n in graph.input_nodes)


def _mapping(snapshot: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = snapshot.get(key)
    if value is None:
        return {}
    if type(value) is not dict:
        raise TypeError(f"'{key}' must be an object, got {type(value).__name__}")
    return value


def restore_record(cls: Any, record: Any, *, store: Any) -> Any:
    """Restore the ``StoredExecution`` a store just returned: its snapshot is a fresh dict, taken over without
    another copy, and the execution remembers the version it was read at (for compare-and-set saves). A record
    whose snapshot names another execution or graph is refused (:func:`check_record`)."""
    check_record(record)
    contract = restore_contract(cls, record.snapshot, store=store, owned=True)
    contract.execution.loaded_from_store(record.version)
    return contract


def _child_class(execution: Execution, slot: str, data: Mapping[str, Any]) -> Any:
    """The contract class of a stored child: the node's own contract(s), else one defined in this process. A
    module named in stored data is never imported (R5): importing runs its code."""
    node = execution.graph.nodes_by_name.get(slot)
    candidates: list[Any] = []
    if node is not None:
        if node.kind == "composition":
            candidates = [node.contract]  # type: ignore[attr-defined]
        elif node.kind == "branch":
            candidates = list(node.possible_contracts)  # type: ignore[attr-defined]
    for c in candidates:
        if c.compiled_graph().name == data.get("graph"):
            return c
    name = data.get("contract")
    found = lookup_contract(name) if isinstance(name, str) else None
    if found is None:
        raise SnapshotEncodingError(
            f"cannot restore child '{slot}': contract {name!r:.120} is not a contract defined in this process "
            "(igniter_nb never imports a module named in stored data); import the module that defines it first",
            graph=execution.graph.name, node=slot, contract=_text(name))
    return found


def apply_snapshot(execution: Execution, snapshot: Mapping[str, Any]) -> None:
    """Load ``snapshot`` into ``execution``. The snapshot must be owned (see :func:`restore_contract`): the
    execution keeps its event dicts as their encoded form and shares its untagged values."""
    token = children_restored.set({})
    try:
        _apply(execution, snapshot, _Cursor(), [])
    finally:
        children_restored.reset(token)


def _state(name: str, data: Any) -> NodeState:
    if type(data) is not dict:
        raise TypeError(f"a node state must be an object, got {type(data).__name__}")
    get = data.get
    waiting_for = get("waiting_for") or ()
    if waiting_for:
        if type(waiting_for) is not list:
            raise TypeError("'waiting_for' must be a list of node names")
        for w in waiting_for:  # (a loop, not all(...): no generator per waiting state)
            if type(w) is not str:
                raise TypeError("'waiting_for' must be a list of node names")
    resolved_at = get("resolved_at")
    if resolved_at is not None and type(resolved_at) is not float and type(resolved_at) is not int:
        raise TypeError(f"'resolved_at' must be a number, got {type(resolved_at).__name__}")
    invalidated_by = get("invalidated_by")
    if invalidated_by is not None and not isinstance(invalidated_by, str):
        raise TypeError(f"'invalidated_by' must be a node name, got {type(invalidated_by).__name__}")
    error = get("error")
    if error is not None and type(error) is not dict:
        raise TypeError(f"'error' must be an object, got {type(error).__name__}")
    version = get("version", 1)
    if type(version) is not int:
        raise TypeError(f"'version' must be an integer, got {type(version).__name__}")
    value = get("value")
    status = data["status"]
    return _new(NodeState, (name, (_STATUS.get(status) if type(status) is str else None) or Status(status),
                            value if type(value) in SELF_ENCODING_TYPES else codec.decode_shared(value),
                            decode_error(error) if error is not None else None, version, resolved_at, invalidated_by,
                            tuple(waiting_for)))


_new = tuple.__new__
_STATUS = {str(s): s for s in Status}


def _apply(execution: Execution, snapshot: Mapping[str, Any], cursor: _Cursor, dropped: list[str]) -> None:
    restored: dict[str, Any] = children_restored.get()  # type: ignore[assignment]
    graph = execution.graph
    nodes = graph.nodes_by_name
    children = execution.children
    # (Each part is checked only when present: most snapshots have no children, selections or bound payloads.)
    child_data = snapshot.get("children")
    if child_data:
        for slot, data in _mapping(snapshot, "children").items():
            cursor.at = f"children.{slot}"
            if slot not in nodes:
                dropped.append(slot)
                continue
            if type(data) is not dict:
                raise TypeError(f"a child snapshot must be an object, got {type(data).__name__}")
            child = restore_nested(_child_class(execution, slot, data), data)
            children.instances[slot] = child
            restored[child.execution_id] = child
    for key, held in (("children_given", "given"), ("selections", "selections")):
        if snapshot.get(key) and hasattr(children, held):
            cursor.at = key
            getattr(children, held).update(_known(codec.decode_shared(_mapping(snapshot, key)), nodes, dropped))
    if snapshot.get("collections"):
        cursor.at = "collections"
        _apply_collections(execution, _mapping(snapshot, "collections"), restored, cursor, dropped)
    states: dict[str, NodeState] = {}
    raw_states = _mapping(snapshot, "states")
    for name, data in raw_states.items():
        cursor.at = f"states.{name}"
        if name not in nodes:
            dropped.append(name)
            continue
        states[name] = _state(name, data)
    cursor.at = "workflow.awaits"
    kinds = kind_changes(graph, snapshot)  # (None in the usual case: the awaits it was saved with)
    other_kind: frozenset[str] = frozenset()
    if kinds is not None:  # an await that is computed now, or a node that is awaited now
        other_kind = kinds.no_longer_awaited
        for name, kept_state in list(states.items()):
            if kinds.stale(name, str(kept_state.status), kept_state.waiting_for):
                del states[name]
                if name in kinds.no_longer_awaited or name in kinds.newly_awaited:
                    dropped.append(name)
    if dropped:  # a node blocked on a node that is gone resolves again under the new graph
        gone = set(dropped)
        states = {name: st for name, st in states.items() if not gone.intersection(st.waiting_for)}
    for name in orphaned_waits(graph, states, BLOCKED):  # blocked on a dependency it no longer has: resolves again
        del states[name]
    execution.states.clear()
    execution.states.update(states)
    kept = execution.encoded_states
    kept.clear()
    for name, restored_state in states.items():
        data = raw_states[name]
        if reusable_stored_form(restored_state, data):
            kept[name] = (restored_state, data)
    bound = execution.bound_events
    bound.clear()
    in_states = snapshot.get("bound_in_states")
    if snapshot.get("bound_events") or in_states:
        cursor.at = "bound_events"
        raw_bound = _mapping(snapshot, "bound_events")
        if raw_bound:  # (usually empty: a delivered payload is kept in its await's state, bound_in_states)
            bound.update(_known(codec.decode_shared(raw_bound), nodes, dropped, other_kind))
        in_states = in_states or []
        if type(in_states) is not list:
            raise TypeError("'bound_in_states' must be a list of node names")
        for n in in_states:  # (a loop, not all(...): no generator per restore)
            if type(n) is not str:
                raise TypeError("'bound_in_states' must be a list of node names")
        for name in [*in_states, *bound]:
            st = states.get(name)
            if st is None or st.status is not Status.SUCCEEDED:
                continue
            if name in in_states or raw_bound.get(name) == raw_states[name].get("value"):
                bound[name] = st.value  # one object again (older snapshots stored it twice), so it is saved once
    cursor.at = "workflow"
    workflow = snapshot.get("workflow")
    if workflow is not None and type(workflow) is not dict:
        raise TypeError(f"'workflow' must be an object, got {type(workflow).__name__}")
    if workflow is not None and type(workflow.get("signals", [])) is not list:  # (a delivery appends to it)
        cursor.at = "workflow.signals"
        raise TypeError(f"'signals' must be a list, got {type(workflow['signals']).__name__}")
    execution.workflow = codec.decode_shared(workflow) if workflow is not None else None
    cursor.at = "events"
    raw_events = snapshot.get("events") or []
    chunks = None
    if type(raw_events) is EventChunks:  # a store that keeps the log by reference (runtime/event_chunks.py)
        chunks = raw_events
        raw_events = ()
    elif type(raw_events) is not list or (raw_events and type(raw_events[-1]) is not dict):
        raise TypeError("'events' must be a list of objects")
    execution_id = execution.execution_id
    graph_name = execution.graph.name

    def load_events() -> list[Event]:
        # Payloads may refer to the child and collection results restored with this execution: decode them
        # with this restore's registry. Each payload is a fresh copy (decode copies), so no live event shares
        # a dict with the stored, encoded one. (Read only when someone reads the log: a malformed stored event
        # is reported then, as the rest of a malformed snapshot is at restore.)
        token = children_restored.set(restored)
        events: list[Event] = []
        try:
            for e in (chunks.load() if chunks is not None else raw_events):
                events.append(Event(int(e["seq"]), e["type"], execution_id, e.get("node"), e.get("path"),
                                    e.get("status"), codec.decode(e.get("payload") or {}),
                                    float(e.get("timestamp") or 0.0)))
            return events
        except (SnapshotEncodingError, GraphChangedError):
            raise
        except Exception as exc:  # the event at len(events) is the malformed one
            raise _malformed(graph_name, {"execution_id": execution_id}, f"events[{len(events)}]",
                             f"{type(exc).__name__}: {exc}", type(exc).__name__) from exc
        finally:
            children_restored.reset(token)

    if chunks is not None:
        count, last_seq = chunks.count, chunks.last_seq
        execution.encoded_events.clear()
    else:
        count, last_seq = len(raw_events), (int(raw_events[-1]["seq"]) if raw_events else 0)
        execution.encoded_events[:] = raw_events
    execution.event_chunks = chunks
    execution.bus.replace_lazily(execution_id, count, last_seq, load_events)
    cursor.at = "workflow.awaits"
    removed = removed_since_saved(graph, snapshot) if execution.workflow is not None else None
    if dropped or removed:
        changes = GraphChanges(tuple(dict.fromkeys(dropped)), removed or {})
        execution.graph_changes = changes
        if changes.dropped:
            execution.bus.emit("graph_changed", payload=changes.to_dict())
            if type(execution.workflow) is dict:
                retract_dropped(execution.workflow, changes.dropped)
    workflow = execution.workflow
    if type(workflow) is dict and workflow.get("status") in ("running", "waiting") and graph.await_nodes:
        computed = computed_awaits(graph, execution.states, execution.bound_events, workflow)
        if computed:
            _wait_again(execution, computed)


def _wait_again(execution: Execution, names: list[str]) -> None:
    """Put awaits holding a computed value (``computed_awaits``) back to waiting for their event, so ``waiting_on``
    and diagnostics list them; what was computed from the value becomes stale. Logged as ``graph_changed``."""
    execution.bus.emit("graph_changed", payload={"removed": list(names), "removed_awaits": [],
                                                  "computed_under_another_graph": list(names)})
    invalidate_dependents(execution, names, names[0])
    resolver = execution.resolver
    for name in names:
        node = cast("AwaitNode", execution.graph.nodes_by_name[name])
        execution.encoded_states.pop(name, None)
        resolver.write(node, resolver.blocked(node, execution.await_deferred(node), Status.WAITING, (name,)))


def _known(values: Any, nodes: Mapping[str, Any], dropped: list[str], other_kind: frozenset[str] = frozenset()
           ) -> dict[str, Any]:
    """``values`` (keyed by node name) without the nodes the graph no longer has, or has as another kind (added to
    ``dropped``)."""
    if type(values) is not dict:
        raise TypeError(f"expected an object keyed by node name, got {type(values).__name__}")
    kept = {}
    for name, value in values.items():
        if name in nodes and name not in other_kind:
            kept[name] = value
        else:
            dropped.append(name)
    return kept


def _restore_owned(cls: Any, data: Mapping[str, Any]) -> Any:
    return restore_contract(cls, data, owned=True)


def restore_nested(cls: Any, data: Mapping[str, Any]) -> Any:
    """Restore a child contract inside an outer restore (shares the outer child registry)."""
    outer = children_restored.get()
    # part of the outer snapshot, already owned; a deeply nested child continues on a fresh stack
    contract = descend(_restore_owned, cls, data)
    if outer is not None:
        outer[contract.execution_id] = contract
    return contract


def _apply_collections(execution: Execution, data: Mapping[str, Any], restored: dict[str, Any], cursor: _Cursor,
                       dropped: list[str]) -> None:
    if not data:
        return
    from igniter_nb.runtime.collection import CollectionItem, CollectionRun

    children = execution.children
    for name, run_data in data.items():
        cursor.at = f"collections.{name}"
        node = execution.graph.nodes_by_name.get(name)
        if node is None or node.kind != "collection":
            dropped.append(name)
            continue
        if type(run_data) is not dict:
            raise TypeError(f"a collection must be an object, got {type(run_data).__name__}")
        run = CollectionRun(node)  # type: ignore[arg-type]
        for index, item in enumerate(run_data.get("items") or ()):
            cursor.at = f"collections.{name}.items[{index}]"
            child = restore_nested(node.contract, item["child"]) if item.get("child") else None  # type: ignore[attr-defined]
            deferred = DeferredResult.from_dict(codec.decode(item["deferred"])) if item.get("deferred") else None
            key = codec.decode(item["key"])
            result: Any = child.result if child is not None else None
            shipped = item.get("shipped")
            if result is None and shipped:
                result = ShippedResult(shipped["graph"], shipped.get("execution_id"), Status(shipped["status"]),
                                       codec.decode(shipped.get("outputs") or {}))
            run.items[key] = CollectionItem(key, Status(item["status"]), result,
                                            decode_error(item.get("error")), codec.decode(item.get("inputs") or {}),
                                            item.get("child_execution_id"), deferred)
        children.collections[name] = run
        restored[f"collection:{name}"] = CollectionResult(run.items, node.mode, node=name,  # type: ignore[attr-defined]
                                                          graph=execution.graph.name)


__all__ = ["apply_snapshot", "check_record", "check_snapshot", "restore_attributes", "restore_contract", "restore_nested",
           "restore_record"]
