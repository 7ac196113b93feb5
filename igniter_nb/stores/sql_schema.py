"""The SQL store's schema and statements: three tables, their indexes, and every statement ``SQLStore`` runs, built
once with bind parameters (``stores/sql.py`` runs them; ``stores/sql_hot.py`` runs the hot ones on the DBAPI
connection)."""

from __future__ import annotations

import functools
import hashlib
import itertools
from typing import TYPE_CHECKING, Any

from igniter_nb.model.reserved import INTERNAL_GRAPH_PREFIX

if TYPE_CHECKING:
    from sqlalchemy import Table

ACTIVE_INDEX = "executions_active_digest"
LATEST_INDEX = "executions_latest_correlation_digest"
RECENT_INDEX = "executions_graph_recent"
ACTIVERECENT_INDEX = "executions_graph_active_recent"
# list_page(): the latest records newest first, read backwards along (updated_at, execution_id) — or along
# RECENT_INDEX when the page is filtered by graph. A status filter is applied to the rows read in that order (no
# index of its own: each index on updated_at is rewritten by every save, and two more cost ~13% of a SQLite save).
ALLRECENT_INDEX = "executions_recent"
# Indexes added after the first release: created with IF NOT EXISTS on databases that predate them.
ADDED_INDEXES = (ACTIVE_INDEX, LATEST_INDEX, RECENT_INDEX, ACTIVERECENT_INDEX, ALLRECENT_INDEX)
# Indexes of earlier releases on the correlation text itself: a PostgreSQL btree entry holds at most ~2.7 KB, so
# a long correlation failed to save. Replaced by the digest indexes above on first use.
DROPPED_INDEXES = ("executions_active_correlation", "executions_latest_correlation")


class Statements:
    """Every statement the store runs, built once with bind parameters (SQLAlchemy then only looks up its cache)."""

    def __init__(self, sa: Any, t: Table, h: Table, p: Table) -> None:
        b = sa.bindparam
        eid = t.c.execution_id == b("eid")
        self.lock_row = sa.select(t.c.version, t.c.graph, t.c.correlation_key, t.c.status).where(eid).with_for_update()
        # By the SHA-256 of the correlation (what the indexes hold): equal digests are equal correlations.
        self.find = sa.select(t.c.execution_id).where(
            t.c.graph == b("graph"), t.c.correlation_digest == b("digest"), t.c.active == sa.true()
        )
        columns = {name: b(name) for name in ("graph", "correlation_key", "correlation_digest", "status", "active",
                                              "version", "snapshot", "updated_at")}
        self.insert_row = sa.insert(t).values(execution_id=b("eid"), **columns)
        self.update_row = sa.update(t).where(eid, t.c.version == b("read_version")).values(**columns)
        self.insert_history = sa.insert(h).values(
            execution_id=b("eid"), version=b("version"), saved_at=b("saved_at"), graph=b("graph"),
            correlation_key=b("correlation_key"), status=b("status"), snapshot=b("snapshot"),
        )
        # PostgreSQL: update_row and insert_history as one statement (the snapshot is sent once), for the
        # compare-and-set save: `WITH saved AS (UPDATE ... RETURNING ...) INSERT INTO history SELECT ... FROM saved`.
        self.cas_save = _with_history(sa, h, self.update_row)
        # ... and the first save of an execution the same way: `WITH saved AS (INSERT ... RETURNING ...) ...`
        self.create_save = _with_history(sa, h, self.insert_row)
        # Every execution, active or finished, by (graph, correlation), newest save first: served by the
        # `executions_latest_correlation` index (SQLite: one SEARCH of it; PostgreSQL: an index scan backward).
        self.find_latest = (
            sa.select(t.c.execution_id)
            .where(t.c.graph == b("graph"), t.c.correlation_digest == b("digest"))
            .order_by(t.c.updated_at.desc(), t.c.execution_id.desc())
            .limit(1)
        )
        # correlations(): two columns, never the snapshot, newest save first, LIMIT. The active form is served by
        # the partial `executions_graph_active_recent` index, the other by `executions_graph_recent` (both read
        # backwards from the newest entry of the graph, no sort, stopping after :limit rows).
        recent = (
            sa.select(t.c.execution_id, t.c.correlation_key)
            .order_by(t.c.updated_at.desc(), t.c.execution_id.desc())
            .limit(b("limit"))
        )
        self.active_correlations = recent.where(t.c.graph == b("graph"), t.c.active == sa.true())
        self.all_correlations = recent.where(t.c.graph == b("graph"), t.c.correlation_key.is_not(None))
        self.delete_row = sa.delete(t).where(eid)
        self.delete_history = sa.delete(h).where(h.c.execution_id == b("eid"))
        self.delete_parts = sa.delete(p).where(p.c.execution_id == b("eid"))
        of_execution = (p.c.execution_id == b("eid"), p.c.digest.in_(b("digests", expanding=True)))
        self.part_digests = sa.select(p.c.digest).where(*of_execution)
        self.parts = sa.select(p.c.digest, p.c.data).where(*of_execution)
        self.insert_part = sa.insert(p).values(execution_id=b("eid"), digest=b("digest"), data=b("data"))
        self.snapshot = sa.select(t.c.snapshot).where(eid)
        self.exists = sa.select(t.c.version).where(eid)
        self.record_columns = sa.select(
            t.c.execution_id, t.c.snapshot, t.c.version, t.c.graph, t.c.correlation_key, t.c.status, t.c.updated_at
        )
        self.record = self.record_columns.where(eid)
        # The active execution of a correlation with its snapshot, in one read (what a delivery needs).
        self.record_active = self.record_columns.where(
            t.c.graph == b("graph"), t.c.correlation_digest == b("digest"), t.c.active == sa.true()
        )
        # list_page(): the record columns, newest first, below the cursor key, :limit rows (see _page below).
        self.pages = _pages(sa, t, self.record_columns)
        self.counts = _counts(sa, t)
        self.listed = listed(sa, t)  # list()'s condition when it names no graph
        self.history = (
            sa.select(h.c.execution_id, h.c.snapshot, h.c.version, h.c.graph, h.c.correlation_key, h.c.status,
                      h.c.saved_at.label("updated_at"))
            .where(h.c.execution_id == b("eid"))
            .order_by(h.c.version)
        )
        # history_page(): the versions after :after, :n of them (the primary key (execution_id, version) orders them)
        self.history_after = self.history.where(h.c.version > b("after")).limit(b("n"))


def _pages(sa: Any, t: Table, columns: Any) -> dict[tuple[bool, bool, bool], Any]:
    """``list_page()``'s statement for each combination of (graph filter, status filter, cursor): the record
    columns newest first, below the cursor key ``(:after_at, :after_id)``, ``:limit`` rows."""
    b = sa.bindparam
    pages = {}
    for graph, status, after in itertools.product((False, True), repeat=3):
        query = columns.order_by(t.c.updated_at.desc(), t.c.execution_id.desc()).limit(b("limit"))
        query = query.where(t.c.graph == b("graph") if graph else listed(sa, t))
        if status:
            query = query.where(t.c.status == b("status"))
        if after:  # a row value: PostgreSQL and SQLite both seek the index to it
            below = sa.tuple_(b("after_at", type_=t.c.updated_at.type), b("after_id", type_=t.c.execution_id.type))
            query = query.where(sa.tuple_(t.c.updated_at, t.c.execution_id) < below)
        pages[graph, status, after] = query
    return pages


def listed(sa: Any, t: Table) -> Any:
    """The condition of a listing that names no graph: every row but the internal records' (a graph starting with
    ``INTERNAL_GRAPH_PREFIX``, ``model/reserved.py``). ``substr`` and ``<>`` compare exact characters on both
    databases (SQLite's ``LIKE`` ignores ASCII case) and keep the page's ``LIMIT`` in the statement: a page of
    ``limit`` holds ``limit`` listed rows whenever there are that many."""
    prefix = sa.literal(INTERNAL_GRAPH_PREFIX, type_=t.c.graph.type)
    return sa.or_(t.c.graph.is_(None), sa.func.substr(t.c.graph, 1, len(INTERNAL_GRAPH_PREFIX)) != prefix)


def _counts(sa: Any, t: Table) -> dict[tuple[bool, bool], Any]:
    """``count()``'s statement for each combination of (graph filter, status filter)."""
    counts = {}
    for graph, status in itertools.product((False, True), repeat=2):
        query = sa.select(sa.func.count()).select_from(t)
        query = query.where(t.c.graph == sa.bindparam("graph") if graph else listed(sa, t))
        if status:
            query = query.where(t.c.status == sa.bindparam("status"))
        counts[graph, status] = query
    return counts


def _with_history(sa: Any, h: Table, write: Any) -> Any:
    """``write`` (an UPDATE or INSERT of the executions row) and the history row of what it wrote, as one
    statement: ``WITH saved AS (<write> RETURNING ...) INSERT INTO history SELECT ... FROM saved`` (PostgreSQL)."""
    t = write.table
    saved = write.returning(
        t.c.execution_id, t.c.version, t.c.updated_at, t.c.graph, t.c.correlation_key, t.c.status, t.c.snapshot
    ).cte("saved")
    return sa.insert(h).from_select(
        ["execution_id", "version", "saved_at", "graph", "correlation_key", "status", "snapshot"],
        sa.select(saved.c.execution_id, saved.c.version, saved.c.updated_at, saved.c.graph,
                  saved.c.correlation_key, saved.c.status, saved.c.snapshot),
    ).execution_options(preserve_rowcount=True)  # SQLAlchemy keeps an INSERT's rowcount only when asked


def tables(sa: Any, prefix: str) -> tuple[Table, Table, Table]:
    metadata = sa.MetaData()
    executions = sa.Table(
        f"{prefix}executions",
        metadata,
        sa.Column("execution_id", sa.String(200), primary_key=True),
        sa.Column("graph", sa.String(200), nullable=True),
        sa.Column("correlation_key", sa.Text, nullable=True),
        sa.Column("correlation_digest", sa.String(64), nullable=True),  # sha256 of correlation_key: what is indexed
        sa.Column("status", sa.String(20), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("snapshot", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Index(
        f"{prefix}{ACTIVE_INDEX}",
        executions.c.graph,
        executions.c.correlation_digest,
        unique=True,
        # Spelled exactly like the lookup's condition, so SQLite's planner recognises the partial index.
        sqlite_where=executions.c.active == sa.true(),
        postgresql_where=executions.c.active == sa.true(),
    )
    sa.Index(f"{prefix}executions_graph_status", executions.c.graph, executions.c.status)
    sa.Index(f"{prefix}{ALLRECENT_INDEX}", executions.c.updated_at, executions.c.execution_id)
    sa.Index(
        f"{prefix}{LATEST_INDEX}",
        executions.c.graph,
        executions.c.correlation_digest,
        executions.c.updated_at,
        executions.c.execution_id,
    )
    sa.Index(f"{prefix}{RECENT_INDEX}", executions.c.graph, executions.c.updated_at, executions.c.execution_id)
    sa.Index(
        f"{prefix}{ACTIVERECENT_INDEX}",
        executions.c.graph,
        executions.c.updated_at,
        executions.c.execution_id,
        sqlite_where=executions.c.active == sa.true(),
        postgresql_where=executions.c.active == sa.true(),
    )
    history = sa.Table(
        f"{prefix}execution_history",
        metadata,
        sa.Column("execution_id", sa.String(200), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("graph", sa.String(200), nullable=True),
        sa.Column("correlation_key", sa.Text, nullable=True),
        sa.Column("status", sa.String(20), nullable=True),
        sa.Column("snapshot", sa.Text, nullable=False),
    )
    parts = sa.Table(  # the parts of packed versions, each stored once per execution (stores/packing.py)
        f"{prefix}execution_parts",
        metadata,
        sa.Column("execution_id", sa.String(200), primary_key=True),
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("data", sa.Text, nullable=False),
    )
    return executions, history, parts


@functools.lru_cache(maxsize=4096)
def correlation_digest(correlation_json: str | None) -> str | None:
    """The indexed form of a canonical correlation: its SHA-256 (hex). Indexing the text itself made PostgreSQL
    refuse correlations over ~2.7 KB (a btree entry's limit); a digest fits any correlation every store accepts."""
    if correlation_json is None:
        return None
    return hashlib.sha256(correlation_json.encode("utf-8")).hexdigest()


def lookup(graph: str, correlation_json: str) -> dict[str, Any]:
    return {"graph": graph, "digest": correlation_digest(correlation_json)}
