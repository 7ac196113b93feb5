"""Snapshots: an execution as JSON-safe data (never pickle), and back.

Format ``igniter_nb.snapshot/1``::

    {"format", "graph", "contract" ("module:QualName"), "execution_id", "runner", "inputs", "states",
     "events", "bound_events", "bound_in_states" (only when not empty), "children", "collections", "workflow"}

Values go through ``runtime.codec`` (tagged JSON). Child results are stored once, under ``children``, and
referenced from states by execution id; errors keep their class name, message and context (L-12).
"""

from __future__ import annotations

import contextvars
import marshal
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from igniter_nb import errors as errors_module
from igniter_nb.errors import IgniterError, ResolutionError, SnapshotEncodingError
from igniter_nb.events.event import Event
from igniter_nb.runtime import codec
from igniter_nb.runtime.collection import CollectionResult
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.depth import descend
from igniter_nb.runtime.event_chunks import NO_EVENTS, EventChunks, event_row
from igniter_nb.runtime.result import Result
from igniter_nb.runtime.shipping import ShippedResult
from igniter_nb.runtime.states import NodeState, state_of
from igniter_nb.runtime.status import Status
from igniter_nb.runtime.utc_text import utc_now_text

if TYPE_CHECKING:
    from igniter_nb.runtime.execution import Execution

FORMAT = "igniter_nb.snapshot/1"

# While restoring, child contracts restored so far, by execution id (child results point at them).
children_restored: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("igniter_restoring", default=None)


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
    restored = children_restored.get() or {}
    child = restored.get(data["execution_id"])
    if child is None:
        raise SnapshotEncodingError(f"snapshot refers to child execution {data['execution_id']} of {data['graph']}, "
                                    "which it does not contain")
    return child.result


codec.register_codec("child_result", Result, _encode_result, _decode_result)
codec.register_codec("deferred", DeferredResult, lambda d: d.to_dict(), DeferredResult.from_dict)
codec.register_codec("error", IgniterError, encode_error, decode_error)


def _decode_collection(data: Mapping[str, Any]) -> Any:
    restored = children_restored.get() or {}
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
    # each entry as stored: a NodeState, or a compact succeeded scalar (runtime/states.py), kept by that entry
    # (one C-level copy: a threads run may record nodes meanwhile)
    for name, entry in dict.copy(execution.states).items():
        found = kept.get(name)
        if found is not None and found[0] is entry and (type(entry) is tuple
                                                         or _unchanged(entry.value, found[1]["value"])):
            states[name] = found[1]  # unchanged since it was restored or last encoded: its encoded form as it is
            continue
        st = state_of(entry)
        states[name] = data = _encode_state(execution, name, st)
        if st.error is None and type(st.value) in SELF_ENCODING_TYPES:
            kept[name] = (entry, data)
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
        "saved_at": utc_now_text(),
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
SELF_ENCODING_TYPES = frozenset({str, int, bool, type(None)})  # immutable values that encode as themselves (floats may not)
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


def reusable_stored_form(st: NodeState, data: dict[str, Any]) -> bool:
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
    if kind in SELF_ENCODING_TYPES:
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
