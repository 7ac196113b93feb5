"""``ig.nb.llm_frame``: one row per LLM call, from a contract's event log or from every execution in a store.

Every request an ``ig.llm.Executor`` makes leaves an ``llm_call`` event (provider, model, tokens, latency,
stop reason, tool-call ids, whether the cache answered); this module turns those events into a DataFrame so
costs and behaviour can be summed, grouped and plotted. Child contracts (compositions, branches, collection
items) are included. The frame is the toolkit's ``IgniterFrame`` (``notebook/frames.py``): shown in a notebook
as every other ``ig.nb`` frame.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from igniter_nb.llm.cache import CACHE_GRAPH

if TYPE_CHECKING:
    from igniter_nb.notebook.frame_html import IgniterFrame

LLM_COLUMNS = ("execution_id", "graph", "node", "path", "seq", "timestamp", "provider", "model", "request", "round",
               "purpose", "input_tokens", "output_tokens", "latency_ms", "stop_reason", "tool_call_ids", "cached",
               "streamed", "error")
_TEXT = ("execution_id", "graph", "node", "path", "provider", "model", "purpose", "stop_reason", "tool_call_ids",
         "error")


def llm_frame(source: Any, graph: str | None = None) -> IgniterFrame:
    """One row per LLM call of ``source`` — a contract (or its execution), or a store (every stored execution,
    optionally only those of ``graph``). Columns: ``execution_id, graph, node, path, seq, timestamp`` (UTC, ms),
    ``provider, model, request`` (which request of the node's ``call``), ``round`` (tool rounds before it),
    ``purpose`` (``call`` or ``reask``), ``input_tokens, output_tokens`` (0 when the cache answered),
    ``latency_ms, stop_reason, tool_call_ids`` (JSON list), ``cached, streamed``, ``error`` (or ``<NA>``).

    An ``IgniterFrame``, as ``store_frame`` and the audit frames: a ``pandas.DataFrame`` (filter, group and sum it
    as any) whose notebook HTML is the toolkit's — UUIDs shortened, JSON whole, long cells cut —, text columns of
    pandas' ``string`` dtype, and its kind (``llm``) kept by ``ig.nb.to_parquet``/``read_parquet``."""
    execution = getattr(source, "execution", source)
    if hasattr(execution, "bus") and hasattr(execution, "graph"):
        rows = list(_live_rows(execution))
    elif callable(getattr(source, "list", None)) and callable(getattr(source, "fetch", None)):
        rows = list(_stored_rows(source, graph))
    else:
        raise TypeError(f"llm_frame() takes a contract, an execution or a store, got {type(source).__name__}")
    return _to_frame(rows)


def _row(execution_id: str, graph: str, node: Any, path: Any, seq: Any, timestamp: Any,
         payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "execution_id": execution_id, "graph": graph, "node": node, "path": path, "seq": int(seq),
        "timestamp": float(timestamp or 0.0), "provider": payload.get("provider"), "model": payload.get("model"),
        "request": int(payload.get("request") or 0), "round": int(payload.get("round") or 0),
        "purpose": payload.get("purpose"), "input_tokens": int(payload.get("input_tokens") or 0),
        "output_tokens": int(payload.get("output_tokens") or 0), "latency_ms": float(payload.get("latency_ms") or 0.0),
        "stop_reason": payload.get("stop_reason"), "tool_call_ids": json.dumps(list(payload.get("tool_call_ids") or [])),
        "cached": bool(payload.get("cached")), "streamed": bool(payload.get("streamed")), "error": payload.get("error"),
    }


def _live_rows(execution: Any) -> Iterator[dict[str, Any]]:
    graph = execution.graph.name
    for e in execution.bus.events:
        if e.type == "llm_call":
            yield _row(e.execution_id, graph, e.node, e.path, e.seq, e.timestamp, e.payload or {})
    children = execution.children
    for child in children.instances.values():
        yield from _live_rows(child.execution)
    for run in getattr(children, "collections", {}).values():
        for item in run.items.values():
            if item.contract is not None:
                yield from _live_rows(item.contract.execution)


def _stored_rows(store: Any, graph: str | None) -> Iterator[dict[str, Any]]:
    for record in store.list(graph=graph):
        if record.graph == CACHE_GRAPH:
            continue
        yield from _snapshot_rows(record.snapshot)


def _snapshot_rows(snapshot: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    execution_id = str(snapshot.get("execution_id"))
    graph = str(snapshot.get("graph"))
    for e in snapshot.get("events") or ():
        if e.get("type") == "llm_call" and isinstance(e.get("payload"), Mapping) and not e.get("tagged"):
            yield _row(execution_id, graph, e.get("node"), e.get("path"), e.get("seq"), e.get("timestamp"), e["payload"])
    for child in (snapshot.get("children") or {}).values():
        if isinstance(child, Mapping):
            yield from _snapshot_rows(child)
    for collection in (snapshot.get("collections") or {}).values():
        for item in (collection or {}).get("items") or ():
            if isinstance(item, Mapping) and isinstance(item.get("child"), Mapping):
                yield from _snapshot_rows(item["child"])


def _to_frame(rows: list[dict[str, Any]]) -> IgniterFrame:
    """The rows as the toolkit's other frames are built (``frames._frame``): an ``IgniterFrame`` (a DataFrame shown
    with short ids, whole JSON and cut cells), text as pandas' ``string`` dtype (``<NA>`` when missing), the time as
    ``datetime64[ms, UTC]``, counters ``int64``, ``latency_ms`` ``float64``, flags ``bool``."""
    import numpy as np

    from igniter_nb.notebook.frames import _frame, _utc

    rows.sort(key=lambda r: (r["execution_id"], r["seq"]))
    columns: dict[str, Any] = {}
    for name in LLM_COLUMNS:
        values = [r[name] for r in rows]
        if name == "timestamp":
            columns[name] = _utc(values)
        elif name in ("cached", "streamed"):
            columns[name] = np.array(values, dtype="bool")
        elif name == "latency_ms":
            columns[name] = np.array(values, dtype="float64")
        elif name in _TEXT:
            columns[name] = [None if v is None else str(v) for v in values]
        else:
            columns[name] = np.array(values, dtype="int64")
    return _frame(columns, _TEXT, "llm")


__all__ = ["LLM_COLUMNS", "llm_frame"]
