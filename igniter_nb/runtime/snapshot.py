"""Snapshots: an execution as JSON-safe data (never pickle), and back.

Format ``igniter_nb.snapshot/1``::

    {"format", "graph", "contract" ("module:QualName"), "execution_id", "runner", "inputs", "states",
     "events", "bound_events", "bound_in_states" (only when not empty), "children", "collections", "workflow"}

Values go through ``runtime.codec`` (tagged JSON). Child results are stored once, under ``children``, and
referenced from states by execution id; errors keep their class name, message and context (L-12).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import marshal
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from igniter_nb import errors as errors_module
from igniter_nb.compiler.registry import lookup_contract
from igniter_nb.errors import GraphChangedError, IgniterError, ResolutionError, SnapshotEncodingError
from igniter_nb.events.event import Event
from igniter_nb.runtime import codec
from igniter_nb.runtime.collection import CollectionResult
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.depth import descend
from igniter_nb.runtime.event_chunks import NO_EVENTS, EventChunks, event_row
from igniter_nb.runtime.graph_change import GraphChanges, removed_since_saved
from igniter_nb.runtime.result import Result
from igniter_nb.runtime.shipping import ShippedResult
from igniter_nb.runtime.states import NodeState
from igniter_nb.runtime.status import Status

if TYPE_CHECKING:
    from igniter_nb.runtime.execution import Execution

FORMAT = "igniter_nb.snapshot/1"

# While restoring, child contracts restored so far, by execution id (child results point at them).
_restoring: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("igniter_restoring", default=None)


# ---------------------------------------------------------------------------- errors
def encode_error(error: BaseException | None) -> dict[str, Any] | None:
    if error is None:
        return None
    if isinstance(error, IgniterError):
        data = {"type": type(error).__name__, "message": error.message, "context": codec.encode(error.context)}
        if error.__cause__ is not None and "cause_type" not in error.context:
            data["cause_type"] = type(error.__cause__).__name__
        return data
    return {"type": "ResolutionError", "message": f"{type(error).__name__}: {error}", "context": {},
            "cause_type": type(error).__name__}


def decode_error(data: Mapping[str, Any] | None) -> IgniterError | None:
    """Rebuild a stored error as its own igniter_nb class (others become ``ResolutionError``); the message is
    never given its location suffix twice."""
    if data is None:
        return None
    cls = getattr(errors_module, str(data.get("type")), None)
    if not (isinstance(cls, type) and issubclass(cls, IgniterError)):
        cls = ResolutionError
    context = dict(codec.decode(data.get("context") or {}))
    if data.get("cause_type") and "cause_type" not in context:
        context["cause_type"] = data["cause_type"]
    err = cls.__new__(cls)
    IgniterError.__init__(err, str(data.get("message", "")), context=context)
    if cls is errors_module.CycleError:
        err.cycle = list(context.get("cycle") or [])  # type: ignore[attr-defined]
    if cls is errors_module.PendingError:
        err.deferred = None  # type: ignore[attr-defined]
    return err


# ---------------------------------------------------------------------------- value tags
def _encode_result(result: Result) -> dict[str, Any]:
    return {"execution_id": result.execution_id, "graph": result.graph}


def _decode_result(data: Mapping[str, Any]) -> Any:
    restored = _restoring.get() or {}
    child = restored.get(data["execution_id"])
    if child is None:
        raise SnapshotEncodingError(f"snapshot refers to child execution {data['execution_id']} of {data['graph']}, "
                                    "which it does not contain")
    return child.result


codec.register_codec("child_result", Result, _encode_result, _decode_result)
codec.register_codec("deferred", DeferredResult, lambda d: d.to_dict(), DeferredResult.from_dict)
codec.register_codec("error", IgniterError, encode_error, decode_error)


def _decode_collection(data: Mapping[str, Any]) -> Any:
    restored = _restoring.get() or {}
    found = restored.get(f"collection:{data['node']}")
    if found is None:
        raise SnapshotEncodingError(f"snapshot refers to collection '{data['node']}', which it does not contain")
    return found


codec.register_codec("collection_result", CollectionResult, lambda r: {"node": r.node}, _decode_collection)


def _contract_ref(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


# ---------------------------------------------------------------------------- snapshot
def snapshot_execution(execution: Execution, *, copy: bool = True, event_chunks: bool = False) -> dict[str, Any]:
    """The execution as JSON-safe data (no resolution happens here).

    Events are encoded once and the encoded dicts are kept on the execution (events never change), so a save
    does not re-encode the log. ``copy=False`` returns those shared dicts themselves, for a caller that only
    serialises them (a store); the default returns a private copy. ``event_chunks=True`` (with ``copy=False``,
    for a store that takes them: ``runtime/event_chunks.py``) gives the log as :class:`EventChunks` — the chunks
    it was restored from plus one chunk of the events added since — instead of a list.
    """
    graph = execution.graph
    states: dict[str, Any] = {}
    kept = execution.encoded_states
    for name, st in execution.states.items():
        found = kept.get(name)
        if found is not None and found[0] is st and _unchanged(st.value, found[1]["value"]):
            states[name] = found[1]  # unchanged since it was restored or last encoded: its encoded form as it is
            continue
        states[name] = data = _encode_state(execution, name, st)
        if st.error is None and type(st.value) in _SCALARS:
            kept[name] = (st, data)
        elif found is not None:
            del kept[name]
    children = execution.children
    instances = children.instances
    child_snapshots = ({slot: _owned_by(slot, snapshot_child, child) for slot, child in instances.items()}
                       if instances else {})
    collections: dict[str, Any] = {}
    for name, run in getattr(children, "collections", _EMPTY).items():
        items = []
        for item in run.items.values():
            child = item.contract
            shipped = None
            if child is None and isinstance(item.result, ShippedResult):
                r = item.result
                shipped = {"graph": r.graph, "execution_id": r.execution_id, "status": str(r.status),
                           "outputs": codec.encode(dict(r._outputs), node=name, path=f"collections.{name}.outputs")}
            items.append({
                "key": codec.encode(item.key),
                "status": str(item.status),
                "inputs": codec.encode(dict(item.inputs), node=name, path=f"collections.{name}.inputs"),
                "error": encode_error(item.error),
                "child_execution_id": item.child_execution_id,
                "deferred": (codec.encode(item.deferred.to_dict(), node=name, path=f"collections.{name}.deferred")
                             if item.deferred is not None else None),
                "child": _owned_by(name, snapshot_child, child) if child is not None else None,
                "shipped": shipped,
            })
        collections[name] = {"contract": _contract_ref(run.contract), "items": items}
    events = _chunked_events(execution) if event_chunks and not copy else _encoded_events(execution)
    try:  # (an empty part is {} without a call: most snapshots have no bound payload, children or selections)
        inputs = codec.encode(execution.inputs, path="inputs")  # (a fresh copy: encode copies)
        bound_in_states = _bound_in_states(execution) if execution.bound_events else _NOTHING
        bound = codec.encode({n: v for n, v in execution.bound_events.items() if n not in bound_in_states},
                             path="bound_events") if len(execution.bound_events) > len(bound_in_states) else {}
        workflow = codec.encode(execution.workflow, path="workflow") if execution.workflow is not None else None
        given = getattr(children, "given", _EMPTY)
        given = codec.encode(dict(given), path="children.given") if given else {}
        selections = getattr(children, "selections", _EMPTY)
        selections = codec.encode(dict(selections), path="children.selections") if selections else {}
    except SnapshotEncodingError as exc:
        raise exc.with_context(graph=graph.name, execution_id=execution.execution_id) from None
    cls = execution.contract_class
    snapshot = {
        "format": FORMAT,
        "graph": graph.name,
        "contract": _contract_ref(cls),
        "execution_id": execution.execution_id,
        "status": str(execution.status_of()),
        "runner": execution.runner.to_dict(),
        "inputs": inputs,
        "states": states,
        "events": events,
        "bound_events": bound,
        **({"bound_in_states": bound_in_states} if bound_in_states else {}),
        "children": child_snapshots,
        "children_given": given,
        "selections": selections,
        "collections": collections,
        "workflow": workflow,
        "saved_at": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
    }
    # A private copy shares nothing with the caches above (marshal copies plain data at C speed; nothing is
    # persisted or read from outside).
    if not copy:
        return snapshot
    try:
        return marshal.loads(marshal.dumps(snapshot))  # type: ignore[no-any-return]
    except ValueError:  # "too deeply nested": hundreds of nested child contracts
        raise SnapshotEncodingError(
            "the snapshot is nested too deeply to copy or store (hundreds of child contracts inside each other; "
            "about 400 levels are supported)", graph=graph.name, execution_id=execution.execution_id) from None


_EMPTY: Mapping[str, Any] = {}  # (never changed)
_NOTHING: list[str] = []  # (never changed)
_SCALARS = frozenset({str, int, bool, type(None)})  # immutable values that encode as themselves (floats may not)
_STATE_KEYS = ("status", "version", "resolved_at", "invalidated_by", "waiting_for", "value", "error")


def _encode_state(execution: Execution, name: str, st: NodeState) -> dict[str, Any]:
    """One node state as snapshot data (the only place a state is encoded)."""
    try:
        value = codec.encode(st.value, node=name, path=f"states.{name}.value")
    except SnapshotEncodingError as exc:
        raise exc.with_context(graph=execution.graph.name, node=name, execution_id=execution.execution_id) from None
    return {
        "status": str(st.status),
        "version": st.version,
        "resolved_at": st.resolved_at,
        "invalidated_by": st.invalidated_by,
        "waiting_for": list(st.waiting_for),
        "value": value,
        "error": encode_error(st.error),
    }


def _reusable(st: NodeState, data: dict[str, Any]) -> bool:
    """Whether the stored form ``data`` a state was just restored from may stand for the state in a later save
    while the state is unchanged (see :func:`_unchanged`): every field in today's order and form, no error (an
    exception object may be changed), and a value that is the stored one itself (plain data the state shares
    with ``data``) or a pending value (``DeferredResult``: what an await waits with)."""
    return (st.error is None and (st.value is data["value"] or type(st.value) is DeferredResult)
            and tuple(data) == _STATE_KEYS and type(data["waiting_for"]) is list and data["status"] == st.status._value_)


def _unchanged(value: Any, stored: Any) -> bool:
    """Whether encoding ``value`` now would give exactly ``stored``, its encoded form when it was kept — the
    state holding it being the same immutable ``NodeState``. A scalar cannot change; plain data shared with
    ``stored`` changes with it, so it only has to be plain still (an in-place change that added, say, a date is
    encoded again, as before); a pending value is compared with what it encodes to (its payload is a dict)."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is DeferredResult:
        if type(stored) is not dict or len(stored) != 2 or stored.get(codec.TAG) != "deferred":
            return False
        try:  # (version 2 writes no back-references: equal data of equal types in equal order, equal bytes)
            return marshal.dumps(value.to_dict(), 2) == marshal.dumps(stored["value"], 2) and codec.is_plain(stored["value"])
        except ValueError:  # not plain data any more
            return False
    return value is stored and codec.is_plain(value)


def _bound_in_states(execution: Execution) -> list[str]:
    """Awaits whose delivered payload is also their succeeded state's value (the same object): saved once, in
    the state, instead of twice — a large payload would otherwise double every snapshot."""
    states = execution.states
    found = []
    for name, value in execution.bound_events.items():
        st = states.get(name)
        if st is not None and st.value is value and st.status is Status.SUCCEEDED:
            found.append(name)
    return found


def _owned_by(node: str, encode: Any, value: Any) -> Any:
    """``encode(value)``, an encoding error saying which node of this execution holds ``value`` (a child's
    snapshot, a collection item): outer executions overwrite it, so it names the node of the outermost one."""
    try:
        return encode(value)
    except SnapshotEncodingError as exc:
        exc.context["owner_node"] = node
        raise


def _encode_event(e: Event) -> dict[str, Any]:
    payload = e.payload
    status = e.status
    if not payload:  # (most events: a node started or succeeded)
        return {"seq": e.seq, "type": e.type, "node": e.node, "path": e.path,
                "status": status if status is None or type(status) is str else str(status), "payload": {},
                "timestamp": e.timestamp}
    data = {"seq": e.seq, "type": e.type, "node": e.node, "path": e.path,
            "status": str(status) if status is not None else None, "payload": None, "timestamp": e.timestamp}
    data["payload"], tagged = _encoded_payload(e)
    if tagged:
        data["tagged"] = True  # the payload is in tagged form (plain payloads encode as themselves)
    return data


def _encoded_payload(e: Event) -> tuple[Any, bool]:
    """``(encoded payload, whether it is in tagged form)`` of an event with a payload."""
    payload = e.payload
    raw = payload if type(payload) is dict else dict(payload)  # (the copy below copies a dict already)
    plain = codec.plain_copy(raw)
    if plain is not None:
        return plain, False
    try:
        return codec.encode(raw, node=e.node, path=f"events[{e.seq}].payload"), True
    except SnapshotEncodingError:
        return {"unencodable": True}, False


def _event_rows(events: list[Event]) -> list[tuple[Any, ...]]:
    """The events encoded as rows (``runtime/event_chunks.py``): what :func:`_encode_event` gives, as a tuple."""
    rows: list[tuple[Any, ...]] = []
    add = rows.append
    plain_copy, not_plain = codec._plain_copy, codec._NOT_PLAIN  # (the copy itself: no wrapper call per payload)
    for e in events:
        seq, etype, _, node, path, status, payload, at = e
        if status is not None and type(status) is not str:
            status = str(status)
        if not payload:  # (most events: a node started or succeeded)
            add((seq, etype, node, path, status, None, at))
            continue
        plain = plain_copy(payload, 0) if type(payload) is dict else not_plain
        if plain is not not_plain:
            add((seq, etype, node, path, status, plain, at))
            continue
        encoded, tagged = _encoded_payload(e)
        add((seq, etype, node, path, status, encoded, at, True) if tagged else (seq, etype, node, path, status, encoded, at))
    return rows


def _encoded_events(execution: Execution) -> list[dict[str, Any]]:
    """The event log, encoded. Events never change, so each is encoded once per execution, and a restored
    log keeps the encoded form it was read from (still unloaded, it is never even decoded): a save costs what
    happened since the last one. The encoded dicts are shared by successive snapshots and never changed."""
    cache = _encode_new_events(execution)
    chunks = execution.event_chunks
    if chunks is not None:  # saved to a store that takes plain lists: the chunks become dicts again, once
        cache[:0] = chunks.load()
        execution.event_chunks = None
    return list(cache)


def _chunked_events(execution: Execution) -> EventChunks:
    """The event log as the chunks it was restored (or last saved) with, plus one chunk of the events added
    since: only those are encoded and serialised, as rows (``runtime/event_chunks.py``)."""
    new = _unencoded_events(execution)
    cache = execution.encoded_events  # (events encoded for a plain save before: they join the new chunk)
    rows = [*map(event_row, cache), *_event_rows(new)] if cache else _event_rows(new)
    chunks = (execution.event_chunks or NO_EVENTS).extended_rows(rows)
    execution.event_chunks = chunks
    cache.clear()
    return chunks


def _encode_new_events(execution: Execution) -> list[dict[str, Any]]:
    """``execution.encoded_events`` brought up to date: the encoded form of the events after those held in
    ``execution.event_chunks`` (if any). The encoded events are ``event_chunks`` then this list, in order."""
    new = _unencoded_events(execution)
    cache = execution.encoded_events
    cache.extend(_encode_event(e) for e in new)
    return cache


def _unencoded_events(execution: Execution) -> list[Event]:
    """The events after those held encoded in ``execution.event_chunks`` then ``execution.encoded_events``; when
    the log was replaced since, all of it (and both are emptied)."""
    bus = execution.bus
    cache = execution.encoded_events
    chunks = execution.event_chunks
    held = chunks.count if chunks is not None else 0
    log = bus.log
    # The first bus.unloaded events are the restored ones not materialised yet (held in the chunks, then in
    # ``cache``); ``log`` holds the rest. ``done``: how many of ``log`` are encoded already.
    done = held + len(cache) - bus.unloaded
    if done:
        last = cache[-1]["seq"] if cache else chunks.last_seq
    if done < 0 or done > len(log) or (done and last != log[done - 1].seq):
        log = bus.events  # the log was replaced: encode all of it again
        cache.clear()
        execution.event_chunks = None
        done = 0
    return log[done:]


def snapshot_child(child: Any) -> dict[str, Any]:
    # part of the parent's snapshot; a deeply nested child continues on a fresh stack (runtime/depth.py)
    return descend(_shared_snapshot, child.execution)


def _shared_snapshot(execution: Execution) -> dict[str, Any]:
    return snapshot_execution(execution, copy=False)


# ---------------------------------------------------------------------------- restore
def check_snapshot(snapshot: Any, graph_name: str) -> None:
    if not (type(snapshot) is dict or isinstance(snapshot, Mapping)) or snapshot.get("format") != FORMAT:
        found = snapshot.get("format") if isinstance(snapshot, Mapping) else type(snapshot).__name__
        raise SnapshotEncodingError(f"not an igniter_nb snapshot (format {found!r:.80}, expected {FORMAT!r})")
    if snapshot.get("graph") != graph_name:
        raise SnapshotEncodingError(f"snapshot is of graph {snapshot.get('graph')!r:.80}, not {graph_name!r}",
                                    graph=graph_name, execution_id=_text(snapshot.get("execution_id")))


def check_record(record: Any) -> None:
    """Refuse a stored record whose snapshot belongs elsewhere: restoring it would continue (and its next save
    overwrite) another execution. Happens only when a store was edited or copied by hand."""
    snapshot = record.snapshot
    found = snapshot.get("execution_id") if type(snapshot) is dict or isinstance(snapshot, Mapping) else None
    if found != record.execution_id:
        raise SnapshotEncodingError(
            f"stored record {record.execution_id!r} holds a snapshot of execution {found!r:.80}; refusing to restore "
            "it (its next save would overwrite that execution). Was the store edited or copied by hand?",
            graph=record.graph, execution_id=record.execution_id, snapshot_execution_id=_text(found))
    graph = snapshot.get("graph")
    if record.graph is not None and graph != record.graph:
        raise SnapshotEncodingError(
            f"stored record {record.execution_id!r} of graph {record.graph!r} holds a snapshot of graph {graph!r:.80}; "
            "refusing to restore it. Was the store edited or copied by hand?",
            graph=record.graph, execution_id=record.execution_id)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None if value is None else repr(value)[:80]


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
    graph = cls.compiled_graph()
    check_snapshot(snapshot, graph.name)
    if not owned:
        snapshot = _private_copy(snapshot, graph.name)
    cursor = _Cursor()
    try:
        return _restore(cls, graph, snapshot, store, executor, cursor)
    except (SnapshotEncodingError, GraphChangedError):
        raise
    except IgniterError as exc:  # e.g. stored inputs a changed graph no longer accepts
        raise _malformed(graph.name, snapshot, cursor.at, exc.message, type(exc).__name__) from exc
    except Exception as exc:  # RecursionError (absurdly deep data) included
        raise _malformed(graph.name, snapshot, cursor.at, f"{type(exc).__name__}: {exc}", type(exc).__name__) from exc


def _malformed(graph_name: str, snapshot: Mapping[str, Any], where: str, why: str, cause: str) -> SnapshotEncodingError:
    eid = _text(snapshot.get("execution_id"))
    return SnapshotEncodingError(f"stored snapshot of {graph_name} execution {eid} cannot be restored: {where} is "
                                 f"malformed ({why[:300]})", graph=graph_name, execution_id=eid, path=where,
                                 cause_type=cause)


def _restore(cls: Any, graph: Any, snapshot: Mapping[str, Any], store: Any, executor: Any, cursor: _Cursor) -> Any:
    cursor.at = "execution_id"
    execution_id = snapshot.get("execution_id")
    if type(execution_id) is not str or not execution_id:
        raise TypeError(f"execution_id must be a non-empty string, got {execution_id!r:.80}")
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
    contract = cls._create(inputs, runner=runner.get("runner"), max_workers=runner.get("max_workers"), store=store,
                   executor=executor, execution_id=execution_id)
    token = _restoring.set({})
    try:
        _apply(contract.execution, snapshot, cursor, dropped)
    finally:
        _restoring.reset(token)
    return contract


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


def _private_copy(snapshot: Mapping[str, Any], graph_name: str) -> dict[str, Any]:
    """A copy of a caller's snapshot that shares nothing with it: marshal (a C-level copy of plain data, never
    persisted) for the usual dicts/lists/scalars, else a walk that also accepts other mappings, sequences and
    subclasses of the JSON scalar types (an ``OrderedDict`` from ``json.loads``, a str enum...)."""
    try:
        return marshal.loads(marshal.dumps(snapshot))  # type: ignore[arg-type, no-any-return]
    except ValueError:
        pass
    try:
        copied: dict[str, Any] = _plain_data(snapshot, "snapshot", graph_name, snapshot.get("execution_id"))
    except RecursionError:
        raise SnapshotEncodingError("snapshot is nested too deeply to restore", graph=graph_name,
                                    execution_id=_text(snapshot.get("execution_id"))) from None
    return copied


def _plain_data(value: Any, path: str, graph_name: str, execution_id: Any) -> Any:
    if value is None or type(value) in (str, int, float, bool):
        return value
    for kind in (bool, int, float, str):  # subclasses (enums...) as their JSON type
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, Mapping):
        return {str(k): _plain_data(v, f"{path}.{k}", graph_name, execution_id) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_data(v, f"{path}[{i}]", graph_name, execution_id) for i, v in enumerate(value)]
    raise SnapshotEncodingError(f"snapshot is not JSON data: {type(value).__name__} at {path}", graph=graph_name,
                                execution_id=_text(execution_id), path=path)


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
    token = _restoring.set({})
    try:
        _apply(execution, snapshot, _Cursor(), [])
    finally:
        _restoring.reset(token)


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
                            value if type(value) in _SCALARS else codec.decode_shared(value),
                            decode_error(error) if error is not None else None, version, resolved_at, invalidated_by,
                            tuple(waiting_for)))


_new = tuple.__new__
_STATUS = {str(s): s for s in Status}


def _apply(execution: Execution, snapshot: Mapping[str, Any], cursor: _Cursor, dropped: list[str]) -> None:
    restored: dict[str, Any] = _restoring.get()  # type: ignore[assignment]
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
    if dropped:  # a node blocked on a node that is gone resolves again under the new graph
        gone = set(dropped)
        states = {name: st for name, st in states.items() if not gone.intersection(st.waiting_for)}
    execution.states.clear()
    execution.states.update(states)
    kept = execution.encoded_states
    kept.clear()
    for name, restored_state in states.items():
        data = raw_states[name]
        if _reusable(restored_state, data):
            kept[name] = (restored_state, data)
    bound = execution.bound_events
    bound.clear()
    in_states = snapshot.get("bound_in_states")
    if snapshot.get("bound_events") or in_states:
        cursor.at = "bound_events"
        raw_bound = _mapping(snapshot, "bound_events")
        if raw_bound:  # (usually empty: a delivered payload is kept in its await's state, bound_in_states)
            bound.update(_known(codec.decode_shared(raw_bound), nodes, dropped))
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
        token = _restoring.set(restored)
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
            _restoring.reset(token)

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


def _known(values: Any, nodes: Mapping[str, Any], dropped: list[str]) -> dict[str, Any]:
    """``values`` (keyed by node name) without the nodes the graph no longer has (added to ``dropped``)."""
    if type(values) is not dict:
        raise TypeError(f"expected an object keyed by node name, got {type(values).__name__}")
    kept = {}
    for name, value in values.items():
        if name in nodes:
            kept[name] = value
        else:
            dropped.append(name)
    return kept


def _restore_owned(cls: Any, data: Mapping[str, Any]) -> Any:
    return restore_contract(cls, data, owned=True)


def restore_nested(cls: Any, data: Mapping[str, Any]) -> Any:
    """Restore a child contract inside an outer restore (shares the outer child registry)."""
    outer = _restoring.get()
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
