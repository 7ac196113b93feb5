"""What a picture says about an instance's state: ``NodeFacts`` per node and ``InstanceFacts`` for the whole,
read from a contract, an ``Execution``, a states view, a replay or bare status strings.

Re-exported by ``igniter_nb.diagnostics.view``, which turns these facts into label lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from igniter_nb._error_text import first_line, unreadable
from igniter_nb.diagnostics.view_text import clean

if TYPE_CHECKING:
    from igniter_nb.compiler.graph import CompiledGraph

BLOCKED = frozenset({"pending", "waiting"})


@dataclass(frozen=True, slots=True)
class NodeFacts:
    """What the picture says about one node's state."""

    status: str
    waiting_for: tuple[str, ...] = ()
    event: str | None = None
    error_type: str | None = None
    error: str | None = None  # the first line of the error message
    token: str | None = None
    pending: tuple[str, ...] = ()  # what a deferred node's payload asks for (``tool call: search (toolu_01)``)
    outcome: tuple[str, ...] = ()  # what a succeeded node's value says beyond its status (``1 of 3 items failed``)


@dataclass(frozen=True, slots=True)
class InstanceFacts:
    """What the picture says about the instance as a whole (read from a contract or execution)."""

    states: dict[str, NodeFacts]
    supplied: frozenset[str] = frozenset()
    correlation: tuple[tuple[str, Any], ...] = ()
    deadlines: tuple[tuple[str, str], ...] = ()


def _first_line(text: Any) -> str | None:
    """The first line every quoted cause shows (``_error_text.first_line``: cut at 500 characters), None when
    there is no text; a placeholder naming the type when ``str()`` of it raises (the picture must still draw)."""
    if text is None:
        return None
    try:
        whole = str(text)
    except Exception:  # any failure: the node still failed, and its picture says so
        return unreadable(text)
    return first_line(whole) or None


def _error_message(error: Any) -> str | None:
    try:
        message = getattr(error, "message", None)
    except Exception:  # a ``message`` property that raises: as unreadable as a ``__str__`` that does
        return unreadable(error)
    return _first_line(message if message is not None else error)


def _name_text(value: Any, limit: int) -> str:
    return clean(value if isinstance(value, str) else repr(value), limit)


def pending_summary(payload: Any) -> tuple[str, ...]:
    """Lines saying what a deferred node's payload asks someone to do (empty when there is nothing to say).
    Today: the tool calls an LLM node waits on, one line each — ``tool call: search_catalogue (toolu_01)`` —
    names and ids cut short, at most three calls named, then ``+N more tool calls``. Cleaned like every label;
    the renderer escapes them."""
    calls = payload.get("tool_calls") if isinstance(payload, Mapping) else None
    if not isinstance(calls, list | tuple):
        return ()
    lines = []
    for call in calls[:3]:
        if not isinstance(call, Mapping):
            continue
        name, ident = call.get("name"), call.get("id")
        text = _name_text(name, 24) if name is not None else "?"
        lines.append(clean(f"tool call: {text}" + (f" ({_name_text(ident, 18)})" if ident is not None else "")))
    if len(calls) > 3:
        lines.append(f"+{len(calls) - 3} more tool calls")
    return tuple(lines)


def outcome_lines(value: Any = None, selection: Any = None) -> tuple[str, ...]:
    """What a succeeded node's value says that its status does not: a collection's failed items (``2 of 3 items
    failed`` — in ``collect`` mode the node succeeds with failed items) and the contract a branch ran (``ran
    Express``). ``value`` is a ``CollectionResult`` or its states-view dict; ``selection`` a branch's
    ``branch_selected`` payload."""
    lines: list[str] = []
    summary: Any = None
    if type(value).__name__ == "CollectionResult" and type(value).__module__.startswith("igniter_nb."):
        summary = value.summary
    elif isinstance(value, Mapping) and value.get("type") == "collection":
        summary = value
    if isinstance(summary, Mapping):
        failed, total = summary.get("failed"), summary.get("total")
        if type(failed) is int and failed > 0 and type(total) is int:
            lines.append(f"{failed:,} of {total:,} items failed")
    chosen = selection.get("selected_contract") if isinstance(selection, Mapping) else None
    if chosen:
        lines.append(f"ran {_name_text(chosen, 40)}")
    return tuple(lines)


def facts_of(value: Any) -> NodeFacts:
    """Accept a ``NodeState``, a states-view dict, a replay dict or a bare status string."""
    if isinstance(value, str):
        return NodeFacts(str(value))
    if isinstance(value, Mapping):
        deferred = value.get("value")
        event, token, payload = value.get("event"), value.get("token"), value.get("payload")
        if isinstance(deferred, Mapping):
            event = event or deferred.get("event")
            token = token or deferred.get("token")
            payload = payload if payload is not None else deferred.get("payload")
        error_type = value.get("error_type")
        error = value.get("error") if "error_type" in value or "error" in value else None
        if error_type is None and error is not None:
            error_type, error = str(error), None  # a replay state carries the type only
        status = str(value.get("status") or "unresolved")
        return NodeFacts(status, tuple(value.get("waiting_for") or ()), event,
                         None if error_type is None else str(error_type), _first_line(error),
                         None if token is None else str(token),
                         pending_summary(payload) if status in BLOCKED else (),
                         outcome_lines(deferred, value.get("selection")) if status == "succeeded" else ())
    status = str(getattr(value, "status", "unresolved"))
    deferred = getattr(value, "value", None)
    error = getattr(value, "error", None)
    blocked = status in BLOCKED
    token = getattr(deferred, "token", None) if blocked else None
    return NodeFacts(status, tuple(getattr(value, "waiting_for", ()) or ()), getattr(deferred, "event", None),
                     type(error).__name__ if error is not None else None,
                     _error_message(error) if error is not None else None, token,
                     pending_summary(getattr(deferred, "payload", None)) if blocked else (),
                     outcome_lines(deferred) if status == "succeeded" else ())


def instance_facts(source: Any, graph: CompiledGraph | None = None) -> InstanceFacts | None:
    """Facts from a contract instance, an ``Execution`` or a mapping of node name → state (``None``: a class
    view). A contract or execution also gives the supplied inputs, the correlation values and the deadlines."""
    if source is None:
        return None
    execution = getattr(source, "execution", None) if not isinstance(source, Mapping) else None
    if execution is None and hasattr(source, "states") and not isinstance(source, Mapping):
        execution = source
    if execution is None:
        return InstanceFacts({str(k): facts_of(v) for k, v in dict(source).items()})
    # (a record edited by hand or read over HTTP: a part that is not a map draws as missing, never an error)
    # (a copy first: a threads run's workers may record nodes while a picture of the run is drawn)
    states = {str(k): facts_of(v) for k, v in dict(_map(getattr(execution, "states", None))).items()}
    children = getattr(execution, "children", None)
    selection = getattr(children, "selection", None)
    if selection is not None:  # which contract each branch ran: its payload lives beside the node states
        for name, st in states.items():
            chosen = outcome_lines(None, selection(name)) if st.status == "succeeded" else ()
            if chosen:
                states[name] = replace(st, outcome=st.outcome + chosen)
    inputs = _map(getattr(execution, "inputs", None))
    record = _map(getattr(execution, "workflow", None))
    correlation: dict[str, Any] = dict(_map(record.get("correlation")))
    keys = graph.correlation_keys if graph is not None else ()
    for key in keys:
        if key not in correlation and key in inputs:
            correlation[key] = inputs[key]
    deadlines = tuple(sorted((str(k), str(v)) for k, v in _map(record.get("deadlines")).items()))
    return InstanceFacts(states, frozenset(str(k) for k in inputs), tuple(correlation.items()), deadlines)


def _map(value: Any) -> Mapping[Any, Any]:
    return value if isinstance(value, Mapping) else {}


__all__ = ["BLOCKED", "InstanceFacts", "NodeFacts", "facts_of", "instance_facts", "outcome_lines", "pending_summary"]
