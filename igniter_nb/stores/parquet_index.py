"""The ``ParquetStore``'s sidecar index (``_index.sqlite``): its tables, the queries that read it, and how its
failures are reported.

The index is derived data — the latest version, status and active correlation of each execution, and the saves in
progress (``intents``) — so lookups and listings read no parquet file; ``ParquetStore.rebuild_index`` recreates it
from the log. ``parquet.py`` holds the store that keeps it.
"""

from __future__ import annotations

import builtins
import contextlib
import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from igniter_nb.errors import StoreError
from igniter_nb.stores.base import Metadata
from igniter_nb.stores.rules import INTERNAL_GRAPH_PREFIX

if TYPE_CHECKING:
    from igniter_nb.stores.parquet import ParquetStore

# Served by `executions_latest_correlation` read backwards; rowid (in the index too) orders equal times by save.
# An execution whose delete's intent is noted (a delete under way, or killed before it finished: the next writer or
# opening finishes it) is not found by any read: every query of the executions table leaves it out.
DELETING = 0  # an intent of version 0: a delete under way (finished by the next writer, as a save's is)
NOT_DELETING = f"execution_id NOT IN (SELECT execution_id FROM intents WHERE version = {DELETING})"

FIND_LATEST = (
    f"SELECT execution_id FROM executions WHERE graph = ? AND correlation = ? AND {NOT_DELETING} "
    "ORDER BY saved_at DESC, rowid DESC LIMIT 1"
)

# correlations(): newest save first (rowid orders equal times by save), served by the two indexes below read
# backwards — the partial one for the active executions — with no sort and no parquet file read.
ACTIVE_CORRELATIONS = (
    "SELECT execution_id, correlation FROM executions WHERE graph = ? AND active_key IS NOT NULL "
    f"AND {NOT_DELETING} ORDER BY saved_at DESC, rowid DESC LIMIT ?"
)
ALL_CORRELATIONS = (
    "SELECT execution_id, correlation FROM executions WHERE graph = ? AND correlation IS NOT NULL "
    f"AND {NOT_DELETING} ORDER BY saved_at DESC, rowid DESC LIMIT ?"
)

INDEX_SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    execution_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    saved_at TEXT NOT NULL,
    graph TEXT,
    correlation TEXT,
    status TEXT,
    active_key TEXT UNIQUE
);
CREATE INDEX IF NOT EXISTS executions_graph ON executions (graph);
CREATE INDEX IF NOT EXISTS executions_latest_correlation ON executions (graph, correlation, saved_at);
CREATE INDEX IF NOT EXISTS executions_graph_recent ON executions (graph, saved_at);
CREATE INDEX IF NOT EXISTS executions_graph_active_recent ON executions (graph, saved_at) WHERE active_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS executions_recent ON executions (saved_at, execution_id);
CREATE INDEX IF NOT EXISTS executions_graph_recent_id ON executions (graph, saved_at, execution_id);
CREATE INDEX IF NOT EXISTS executions_status_recent ON executions (status, saved_at, execution_id);
CREATE INDEX IF NOT EXISTS executions_graph_status_recent ON executions (graph, status, saved_at, execution_id);
CREATE TABLE IF NOT EXISTS intents (execution_id TEXT NOT NULL, version INTEGER NOT NULL,
                                    PRIMARY KEY (execution_id, version));
"""


@contextlib.contextmanager
def sidecar_errors(store: ParquetStore, execution_id: str) -> Iterator[None]:
    """A full disk can fail the sidecar index first: a ``StoreError`` naming it, like a failed parquet write."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise StoreError(f"{store!r}: could not save execution {execution_id!r}: {exc} (index "
                         f"{store.root / '_index.sqlite'}); nothing of this save is visible",
                         execution_id=execution_id) from exc


@contextlib.contextmanager
def delete_errors(store: ParquetStore, execution_id: str) -> Iterator[None]:
    """A full (or read-only) disk failing a delete: a ``StoreError`` naming the store, the execution and the index
    (a delete whose intent was noted is finished by the next writer once it can write)."""
    try:
        yield
    except (OSError, sqlite3.OperationalError) as exc:
        raise StoreError(f"{store!r}: could not delete execution {execution_id!r}: "
                         f"{getattr(exc, 'strerror', None) or exc} (index {store.root / '_index.sqlite'}); once it "
                         "can write, the next writer finishes a delete that had begun",
                         execution_id=execution_id) from exc


_LISTED = f"(graph IS NULL OR substr(graph, 1, {len(INTERNAL_GRAPH_PREFIX)}) <> ?)"


def filters(graph: str | None, status: str | None) -> tuple[builtins.list[str], builtins.list[str]]:
    """The ``WHERE`` terms and parameters of a listing of ``graph`` / ``status`` (None: any graph but the internal
    ones, ``stores/rules.py``'s ``listed``; any status)."""
    where: builtins.list[str] = [NOT_DELETING]  # (a delete's intent noted: not found)
    params: builtins.list[str] = []
    if graph is not None:
        where, params = [*where, "graph = ?"], [*params, graph]
    else:  # substr and <>: exact bytes (SQLite's LIKE ignores ASCII case)
        where, params = [*where, _LISTED], [*params, INTERNAL_GRAPH_PREFIX]
    if status is not None:
        where, params = [*where, "status = ?"], [*params, status]
    return where, params


def key_text(key: tuple[str, str]) -> str:
    """The ``active_key`` column's text of a ``(graph, correlation)`` key."""
    return f"{key[0]}\x00{key[1]}"


def metadata(row: dict[str, Any]) -> Metadata:
    """The metadata of an index row (``ParquetStore._row``)."""
    return Metadata(row["graph"], row["correlation"], row["status"])


__all__ = ["ACTIVE_CORRELATIONS", "ALL_CORRELATIONS", "DELETING", "FIND_LATEST", "INDEX_SCHEMA", "NOT_DELETING", "delete_errors",
           "filters", "key_text", "metadata", "sidecar_errors"]
