"""Rows of ``SQLStore``'s executions table: the values a save writes (a first save, a compare-and-set that may
skip the read — the fast path —, the long way once it has read what is stored) and the record a row read back is."""

from __future__ import annotations

import datetime as dt
from typing import Any

from igniter_nb.stores.base import Metadata, SaveRequest, StoredExecution, ensure_aware, utc_now
from igniter_nb.stores.sql_schema import correlation_digest


def is_fast(req: SaveRequest) -> bool:
    """Whether ``req`` can skip the read: a compare-and-set on an existing version that names all its metadata
    (what the runtime's saves do), so ``req.resolve(stored)`` is these values whatever is stored."""
    return (
        req.expected_version is not None and req.expected_version > 0
        and req.graph is not None and req.correlation_json is not None and req.status is not None
    )


def first_values(req: SaveRequest) -> dict[str, Any]:
    """The row the first save of an execution writes (``expected_version=0``): what the long way computes when
    nothing is stored (an id or correlation already taken makes the insert fail; the long way then says which)."""
    return row_values(req, req.resolve(None), 1)


def fast_values(req: SaveRequest) -> dict[str, Any]:
    """The row a fast-path save writes (``is_fast(req)``): the same values the long way computes."""
    assert req.expected_version is not None
    meta = Metadata(req.graph, req.correlation_json, req.status)  # == req.resolve(stored) when all three are given
    return row_values(req, meta, req.expected_version + 1)


def row_values(req: SaveRequest, meta: Metadata, version: int) -> dict[str, Any]:
    """The row of version ``version`` with metadata ``meta``, saved now."""
    return {
        "eid": req.execution_id,
        "graph": meta.graph,
        "correlation_key": meta.correlation_json,
        "correlation_digest": correlation_digest(meta.correlation_json),
        "status": meta.status,
        "active": meta.active_key is not None,
        "version": version,
        "snapshot": req.snapshot_json,
        "updated_at": utc_now(),
    }


def record_of(eid: str, snapshot: Any, version: int, graph: str | None, correlation_key: str | None,
              status: str | None, updated_at: dt.datetime) -> StoredExecution:
    """The record of a row read back (its snapshot already whole: stores/packing.py)."""
    return StoredExecution(
        execution_id=eid,
        snapshot=snapshot,
        version=version,
        graph=graph,
        correlation=Metadata(graph, correlation_key, status).correlation(),
        status=status,
        updated_at=ensure_aware(updated_at),
    )
