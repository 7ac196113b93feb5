"""Store frames: ``store_frame`` (one row per stored execution) and ``tokens_frame`` (one row per outstanding wait).

Both read a store only through the store protocol (``store.list(graph=...)``), so anything that answers it — a
store, an exported parquet log, or a running server through ``ig.server.Client`` (``sources.as_store``) — gives
the same frames. Dtypes follow ``frames.py``.

Stored snapshots are the real ``igniter_nb.snapshot/1`` format (``runtime/snapshot.py``): node states keep the
status, ``waiting_for`` (the nodes that originate the wait) and a codec-encoded value, which for a pending or
waiting node is ``{"__ig__": "deferred", "value": {token, payload, source_node, event?, collection?}}``;
collection items keep their own ``deferred``; a workflow's record is ``snapshot["workflow"]``
(``status, correlation, started_at, updated_at, deadlines, signals``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from igniter_nb.notebook.frames import STORE_COLUMNS, TOKENS_COLUMNS, _frame, _json, _utc
from igniter_nb.notebook.sources import store_of
from igniter_nb.settings import without_url_passwords

if TYPE_CHECKING:
    from igniter_nb.notebook.frame_html import IgniterFrame


def _decoded(value: Any) -> Any:
    """``codec.decode(value)``, or ``value`` itself when it cannot be decoded outside a restore (child results)."""
    from igniter_nb.runtime import codec

    try:
        return codec.decode(value)
    except Exception:
        return value


def _deferred_of(value: Any) -> dict[str, Any] | None:
    """The deferred record of a stored state value: ``token, payload, source_node, event`` (or ``None``)."""
    if isinstance(value, Mapping) and value.get("__ig__") == "deferred" and isinstance(value.get("value"), Mapping):
        data = dict(value["value"])
    else:
        decoded = _decoded(value)
        to_dict = getattr(decoded, "to_dict", None)
        if callable(to_dict) and hasattr(decoded, "token"):
            data = dict(to_dict())
        elif isinstance(value, Mapping) and "token" in value:  # a plain (uncoded) record
            data = dict(value)
        else:
            return None
    return data if data.get("token") is not None else None


class _Wait(NamedTuple):
    node: str
    status: str
    kind: str  # "event" | "token"
    event: str | None
    token: str | None
    item: str | None
    payload: Any
    since: float | None


def _origin_waits(snapshot: Mapping[str, Any]) -> list[_Wait]:
    """The waits a stored snapshot is blocked on, one per node that *originates* a wait (a node listed in its
    own ``waiting_for``: an executor that deferred, an await node, or a composition/branch/collection whose
    child waits) — dependents blocked through them are left out. A collection gives one wait per unfinished
    item (its own token). Sorted by node name."""
    states = snapshot.get("states")
    if not isinstance(states, Mapping):
        return []
    collections = snapshot.get("collections") if isinstance(snapshot.get("collections"), Mapping) else {}
    found: list[_Wait] = []
    for name in sorted(states):
        st = states[name]
        if not isinstance(st, Mapping) or str(st.get("status")) not in ("pending", "waiting"):
            continue
        waiting_for = _names(st.get("waiting_for"))
        deferred = _deferred_of(st.get("value"))
        if name not in waiting_for and (deferred is None or deferred.get("source_node") != name):
            continue  # a dependent: it waits through another node
        since = _seconds(st.get("resolved_at"))
        collection = (collections or {}).get(name)
        items = collection.get("items") if isinstance(collection, Mapping) else None
        unfinished = [i for i in items if isinstance(i, Mapping) and i.get("status") in ("pending", "waiting")] \
            if isinstance(items, list) else []
        if unfinished:
            for item in unfinished:
                d = dict(item["deferred"]) if isinstance(item.get("deferred"), Mapping) else {}
                found.append(_Wait(str(name), str(item["status"]), "event" if d.get("event") else "token",
                                   d.get("event"), _text(d.get("token")), _text(_decoded(item.get("key"))),
                                   d.get("payload"), since))
            continue
        d = deferred or {}
        found.append(_Wait(str(name), str(st["status"]), "event" if d.get("event") else "token", d.get("event"),
                           _text(d.get("token")), None, d.get("payload"), since))
    return found


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _names(value: Any) -> list[str]:
    """A stored ``waiting_for``: the node names of a list (anything else — a snapshot edited by hand or written by
    another tool — holds none)."""
    return [str(v) for v in value] if isinstance(value, list | tuple) else []


def _seconds(value: Any) -> float | None:
    """A stored epoch time in seconds, or None when it is not one a clock can give (not a number, a bool, NaN, or
    outside years 1-9999, which no ``datetime`` holds): one odd snapshot must not break a frame of the whole store."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if _FIRST <= value <= _LAST else None


_FIRST = dt.datetime(1, 1, 1, tzinfo=dt.UTC).timestamp()
_LAST = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC).timestamp()


def _workflow(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    wf = snapshot.get("workflow")
    return dict(wf) if isinstance(wf, Mapping) else {}


def _iso_seconds(text: Any) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()


def _started_at(snapshot: Mapping[str, Any], fallback: float) -> float:
    """When the execution began: the workflow's ``started_at``, else its first event's time, else ``fallback``."""
    started = _iso_seconds(_workflow(snapshot).get("started_at"))
    if started is not None:
        return started
    events = snapshot.get("events")
    if isinstance(events, list) and events and isinstance(events[0], Mapping):
        ts = _seconds(events[0].get("timestamp"))
        if ts is not None:
            return ts
    return fallback


def _waiting_on(snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``[{node, event}]`` of a stored snapshot: the workflow's own list when saved, else the nodes whose wait
    for an external event it originates (each node once)."""
    workflow = _workflow(snapshot)
    if isinstance(workflow.get("waiting_on"), list):
        return [dict(w) for w in workflow["waiting_on"] if isinstance(w, Mapping)]
    found: list[dict[str, Any]] = []
    for wait in _origin_waits(snapshot):
        entry = {"node": wait.node, "event": wait.event}
        if wait.kind == "event" and entry not in found:
            found.append(entry)
    return found


def _graph_filter(graph: Any) -> tuple[str | None, tuple[str, ...]]:
    """``graph=`` as (the graph name to list, its correlation keys). A name, a contract class or instance, or a
    ``CompiledGraph``; a name is looked up in the contract registry for its keys."""
    if graph is None:
        return None, ()
    compiled: Any = None
    if isinstance(graph, str):
        from igniter_nb.compiler.registry import lookup_contract

        cls = lookup_contract(graph)
        try:
            compiled = cls.compiled_graph() if cls is not None else None
        except Exception:  # a namesake that does not compile: the name alone still filters
            compiled = None
        if compiled is None or compiled.name != graph:
            return graph, ()
    elif hasattr(graph, "correlation_keys") and hasattr(graph, "nodes"):
        compiled = graph
    elif hasattr(graph, "compiled_graph"):
        compiled = graph.compiled_graph()
    else:
        raise TypeError(f"graph= must be a graph name, a contract class or a CompiledGraph, got {graph!r}")
    return str(compiled.name), tuple(str(k) for k in compiled.correlation_keys)


def _corr_keys(records: list[Any], keys: tuple[str, ...]) -> list[str]:
    """The graph's correlation keys (in ``correlate_by`` order), then any other key found, sorted."""
    found = sorted({str(k) for r in records for k in (r.correlation or {})} - set(keys))
    return [*keys, *found]


def _corr_text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _sort_time(value: float | None) -> float:
    return math.inf if value is None else value


def store_frame(store: Any, graph: Any = None, *, now: dt.datetime | None = None) -> IgniterFrame:
    """One row per stored execution or workflow (its latest version), oldest first (by ``started_at``, then
    graph, correlation and id): ``execution_id, graph, status`` (categorical) ``, version`` (int64)
    ``, correlation`` (JSON text) ``, waiting_on`` (JSON list of ``{node, event}``) ``, started_at, updated_at``
    (UTC, ms) ``, age`` (``now - started_at``), then one ``corr_<key>`` text column per correlation key.

    ``graph`` (a name, a contract class or a ``CompiledGraph``) keeps only that graph's executions; given a
    class, its ``correlate_by`` keys are columns even when no row has them. ``status`` is the store's (for a
    workflow: the workflow status); ``started_at`` is the workflow's start, or the first event of a plain
    execution; ``updated_at`` is when the latest version was saved. Reads each execution's latest snapshot once
    (one ``store.list``)."""
    import numpy as np
    import pandas as pd

    now = now or dt.datetime.now(dt.UTC)
    if not isinstance(now, dt.datetime) or now.tzinfo is None:
        raise ValueError(f"now= must be a timezone-aware datetime (e.g. datetime.now(datetime.UTC)), got {now!r}")
    name, graph_keys = _graph_filter(graph)
    records = list(store_of(store, "store_frame").list(graph=name))
    keys = _corr_keys(records, graph_keys)
    rows = []
    for r in records:
        snapshot = r.snapshot or {}
        updated = r.updated_at.timestamp()
        correlation = _json(dict(r.correlation)) if r.correlation is not None else None
        rows.append((_started_at(snapshot, updated), str(r.graph), correlation or "", str(r.execution_id), r,
                     correlation, updated))
    rows.sort(key=lambda row: row[:4])
    columns: dict[str, Any] = {
        "execution_id": [row[4].execution_id for row in rows],
        "graph": [row[4].graph for row in rows],
        "status": [row[4].status for row in rows],
        "version": np.array([row[4].version for row in rows], dtype="int64"),
        "correlation": [row[5] for row in rows],
        "waiting_on": [json.dumps(_waiting_on(row[4].snapshot or {}), sort_keys=True) for row in rows],
        "started_at": _utc(row[0] for row in rows),
        "updated_at": _utc(row[6] for row in rows),
    }
    ages = np.round((now.timestamp() - np.array([row[0] for row in rows], dtype="float64")) * 1000.0)
    columns["age"] = pd.Series(pd.to_timedelta(ages, unit="ms")).dt.as_unit("ms")
    for k in keys:
        columns[f"corr_{k}"] = [_corr_text((row[4].correlation or {}).get(k)) for row in rows]
    text = ("execution_id", "graph", "correlation", "waiting_on", *(f"corr_{k}" for k in keys))
    return _frame(columns, text, "store")


def tokens_frame(store: Any, graph: Any = None) -> IgniterFrame:
    """Outstanding waits of active executions, one row per wait, longest waiting first (by ``since``, then graph,
    correlation, id and node): ``execution_id, graph, status`` (the execution's, categorical) ``, node`` (the
    node that originates the wait: an executor that deferred, an await node, or the composition/branch/collection
    node whose child waits) ``, kind`` (``event`` or ``token``) ``, event, token, item`` (collection item key,
    one row per unfinished item) ``, payload`` (JSON text) ``, since`` (UTC, when the node started waiting)
    ``, deadline`` (UTC, an await timeout of a workflow) ``, correlation`` (JSON text) ``, updated_at`` (UTC),
    then one ``corr_<key>`` text column per correlation key (as in ``store_frame``). Reads the snapshots of the
    active executions only, each once (``store.list(graph=..., status=...)`` per active status)."""
    from igniter_nb.stores.base import ACTIVE_STATUSES

    name, graph_keys = _graph_filter(graph)
    source = store_of(store, "tokens_frame")
    # listed per active status: a finished execution's snapshot is never read (most of a long-lived store)
    records = [r for status in sorted(ACTIVE_STATUSES) for r in source.list(graph=name, status=status)]
    keys = _corr_keys(records, graph_keys)
    waits = []
    for r in records:
        snapshot = r.snapshot or {}
        deadlines = _workflow(snapshot).get("deadlines") or {}
        correlation = _json(dict(r.correlation)) if r.correlation is not None else None
        for wait in _origin_waits(snapshot):
            deadline = _iso_seconds(deadlines.get(wait.node)) if isinstance(deadlines, Mapping) else None
            waits.append((_sort_time(wait.since), str(r.graph), correlation or "", str(r.execution_id), wait.node,
                          wait.item or "", r, wait, deadline, correlation))
    waits.sort(key=lambda row: row[:6])
    columns: dict[str, Any] = {
        "execution_id": [row[6].execution_id for row in waits],
        "graph": [row[6].graph for row in waits],
        "status": [row[6].status for row in waits],
        "node": [row[7].node for row in waits],
        "kind": [row[7].kind for row in waits],
        "event": [row[7].event for row in waits],
        "token": [row[7].token for row in waits],
        "item": [row[7].item for row in waits],
        "payload": [_json(without_url_passwords(row[7].payload) if row[7].payload is not None else {}) for row in waits],
        "since": _utc(row[7].since for row in waits),
        "deadline": _utc(row[8] for row in waits),
        "correlation": [row[9] for row in waits],
        "updated_at": _utc(row[6].updated_at.timestamp() for row in waits),
    }
    for k in keys:
        columns[f"corr_{k}"] = [_corr_text((row[6].correlation or {}).get(k)) for row in waits]
    text = (*(c for c in TOKENS_COLUMNS if c not in ("status", "since", "deadline", "updated_at")),
            *(f"corr_{k}" for k in keys))
    return _frame(columns, text, "tokens")


__all__ = ["STORE_COLUMNS", "TOKENS_COLUMNS", "store_frame", "tokens_frame"]
