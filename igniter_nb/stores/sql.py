"""``SQLStore``: executions in a SQL database through SQLAlchemy Core — SQLite embedded, PostgreSQL shared.

Three tables, created on first use (names prefixed with ``table_prefix``, default ``igniter_``):

* ``executions`` — one row per execution: ``execution_id`` (primary key), ``graph``, ``correlation_key``
  (canonical correlation JSON), ``correlation_digest`` (its SHA-256: indexes hold the digest, so a correlation of
  any length fits), ``status``, ``active``, ``version``, ``snapshot`` (JSON text), ``updated_at``; a partial
  unique index on ``(graph, correlation_digest) WHERE active`` is both the O(log n) correlation lookup and the
  guarantee that only one active execution has a correlation; an index on
  ``(graph, correlation_digest, updated_at, execution_id)`` serves ``find_latest_by_correlation`` (one index
  probe, read backwards); indexes on ``(graph, updated_at, execution_id)``, one partial ``WHERE active``, serve
  ``correlations()`` (a backward range, LIMIT, never the snapshot column);
* ``execution_history`` — one row per saved version (``execution_id``, ``version``, ``saved_at``, ``graph``,
  ``correlation_key``, ``status``, ``snapshot``);
* ``execution_parts`` — the parts of large snapshots stored packed (``execution_id``, ``digest``, ``data``), each
  written once however many versions refer to it (``stores/packing.py``).

Every save is one transaction: the row is read ``FOR UPDATE`` (SQLite: ``BEGIN IMMEDIATE``), the version
checked, then ``UPDATE ... WHERE execution_id = :id AND version = :read`` and a history insert. The save the
runtime makes — a compare-and-set (``expected_version`` > 0) with graph, correlation and status all given — skips
the read: its ``UPDATE ... AND version = :expected`` is the compare-and-set itself and the partial unique index
keeps one active owner per correlation; on PostgreSQL it is one autocommitted statement (the update and the
history insert joined by a CTE), i.e. one round trip. When it matches no row, or the index refuses it, the save
goes the long way above, which raises the precise error. SQLite files run in WAL mode with a busy timeout so
several processes can share one file.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import hashlib
import json
import threading
import zlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from igniter_nb.errors import StoreError
from igniter_nb.stores.base import (
    Metadata,
    SaveRequest,
    StoreBase,
    StoredExecution,
    canonical_correlation,
    check_execution_id,
    check_filters,
    check_graph,
    check_listing,
    conflict,
    ensure_aware,
    not_found,
    parse_stored,
    unpack_stored,
    utc_now,
)
from igniter_nb.stores.packing import is_packed, part_digests

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine, Table

    from igniter_nb.stores.changes import ChangeSubscription

_SAVE_ATTEMPTS = 8
_ACTIVE_INDEX = "executions_active_digest"
_LATEST_INDEX = "executions_latest_correlation_digest"
_RECENT_INDEX = "executions_graph_recent"
_ACTIVE_RECENT_INDEX = "executions_graph_active_recent"
# Indexes added after the first release: created with IF NOT EXISTS on databases that predate them.
_ADDED_INDEXES = (_ACTIVE_INDEX, _LATEST_INDEX, _RECENT_INDEX, _ACTIVE_RECENT_INDEX)
# Indexes of earlier releases on the correlation text itself: a PostgreSQL btree entry holds at most ~2.7 KB, so
# a long correlation failed to save. Replaced by the digest indexes above on first use.
_DROPPED_INDEXES = ("executions_active_correlation", "executions_latest_correlation")


class SQLStore(StoreBase):
    """Store executions in SQL. ``url`` is a SQLAlchemy URL (``sqlite:///path.db``, ``sqlite://`` for an
    in-memory database, ``postgresql+psycopg://user@host/db``; plain ``postgresql://`` uses psycopg 3) or an
    ``Engine``.
    """

    def __init__(self, url: str | Engine, *, table_prefix: str = "igniter_", busy_timeout_ms: int = 30_000) -> None:
        import sqlalchemy as sa

        self._sa = sa
        if isinstance(url, sa.Engine):
            self.engine = url
        else:
            self.engine = _create_engine(url, busy_timeout_ms)
        self._is_sqlite = self.engine.dialect.name == "sqlite"
        self._is_postgres = self.engine.dialect.name == "postgresql"
        # Reads are single statements: on PostgreSQL autocommit saves the BEGIN and ROLLBACK round trips (so does
        # the one-statement compare-and-set save, which runs here too).
        self._read_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT") if self._is_postgres else self.engine
        # An in-memory SQLite database is one shared connection: serialise its use across threads.
        self._serial: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if self._is_sqlite and _is_memory(self.engine) else contextlib.nullcontext()
        )
        self.table_prefix = table_prefix
        self._executions, self._history, self._parts = _tables(sa, table_prefix)
        self._q = _Statements(sa, self._executions, self._history, self._parts)
        self._ready = False
        self._changes: Any = None  # PostgreSQL: the change-feed listener, made by the first subscribe_changes

    def __repr__(self) -> str:
        return f"SQLStore({self.engine.url.render_as_string(hide_password=True)!r})"

    # ----------------------------------------------------------------------------------------------- writes

    def save(
        self,
        snapshot: Mapping[str, Any],
        *,
        graph: str | None = None,
        correlation: Mapping[str, Any] | None = None,
        status: str | None = None,
        expected_version: int | None = None,
    ) -> int:
        req = SaveRequest.build(snapshot, graph, correlation, status, expected_version)
        sa = self._sa
        fast = _is_fast(req)
        if req.parts and self._is_postgres:
            fast = False  # its parts go in with the row lock held (the long way below)
        for _ in range(_SAVE_ATTEMPTS):
            try:
                if fast and self._is_postgres:
                    version = self._save_fast_postgres(req)
                    if version is not None:
                        return version
                    fast = False  # nothing written: no row is at the expected version; the long way says why
                return self._save_once(req, fast=fast)
            except sa.exc.IntegrityError:
                # A concurrent transaction inserted the same id or took the same active correlation first, or
                # the fast path would have made a second active owner of a correlation. Go again the long way:
                # it sees the other row and answers with the right error (or succeeds).
                fast = False
                continue
            except sa.exc.OperationalError as exc:
                if not _is_transient(exc):  # a full disk, a lost server...: say which store, keep the cause
                    raise StoreError(f"{self!r}: could not save execution {req.execution_id!r}: "
                                     f"{getattr(exc, 'orig', exc)}; nothing of this save was written",
                                     execution_id=req.execution_id) from exc
        raise StoreError(f"could not save execution {req.execution_id!r}: too many conflicting writers",
                         execution_id=req.execution_id)

    def _save_once(self, req: SaveRequest, *, fast: bool = False) -> int:
        q, eid = self._q, req.execution_id
        with self._write() as conn:
            if fast:  # SQLite (PostgreSQL has _save_fast_postgres): the compare-and-set update, then history;
                # on a miss, nothing is written and the long way below runs in the same BEGIN IMMEDIATE transaction
                assert req.expected_version is not None
                values = _fast_values(req)
                if conn.execute(q.update_row, {**values, "read_version": req.expected_version}).rowcount == 1:
                    self._write_parts(conn, req)  # (SQLite: BEGIN IMMEDIATE already serialises every writer)
                    conn.execute(q.insert_history, {**values, "saved_at": values["updated_at"]})
                    return int(values["version"])
            row = conn.execute(q.lock_row, {"eid": eid}).first()
            self._write_parts(conn, req)  # under the row lock: a delete cannot remove them before the row is saved
            actual = row.version if row is not None else 0
            stored = Metadata(row.graph, row.correlation_key, row.status) if row is not None else None
            meta = req.plan(actual, stored, lambda key: conn.execute(q.find, _lookup(*key)).scalar())
            key = meta.active_key
            now = utc_now()
            version = actual + 1
            values = {
                "eid": eid,
                "graph": meta.graph,
                "correlation_key": meta.correlation_json,
                "correlation_digest": correlation_digest(meta.correlation_json),
                "status": meta.status,
                "active": key is not None,
                "version": version,
                "snapshot": req.snapshot_json,
                "updated_at": now,
            }
            if row is None:
                conn.execute(q.insert_row, values)
            else:
                done = conn.execute(q.update_row, {**values, "read_version": actual})
                if done.rowcount != 1:  # cannot happen under the row lock; kept as the CAS guarantee itself
                    raise conflict(eid, actual, -1)
            conn.execute(q.insert_history, {**values, "saved_at": now})
            return version

    def _write_parts(self, conn: Connection, req: SaveRequest) -> None:
        """Insert the parts of a packed version the execution does not have yet (stores/packing.py)."""
        if not req.parts:
            return
        eid = req.execution_id
        have = set(conn.execute(self._q.part_digests, {"eid": eid, "digests": list(req.parts)}).scalars())
        missing = [{"eid": eid, "digest": d, "data": text} for d, text in req.parts.items() if d not in have]
        if missing:
            conn.execute(self._q.insert_part, missing)

    def _save_fast_postgres(self, req: SaveRequest) -> int | None:
        """The compare-and-set save as one autocommitted statement (update + history insert); None when no row
        is at the expected version (nothing written). A second active owner raises ``IntegrityError``."""
        assert req.expected_version is not None
        values = _fast_values(req)
        if not self._ready:
            self.create_tables()
        with self._read_engine.connect() as conn:  # autocommit: the statement is its own transaction
            done = conn.execute(self._q.cas_save, {**values, "read_version": req.expected_version})
        return int(values["version"]) if done.rowcount == 1 else None

    def delete(self, execution_id: str) -> bool:
        params = {"eid": check_execution_id(execution_id)}
        with self._write() as conn:
            # The row first: it waits for (or blocks) a save holding the row lock, so history and parts deleted
            # after it include whatever that save wrote.
            removed = bool(conn.execute(self._q.delete_row, params).rowcount)
            conn.execute(self._q.delete_history, params)
            conn.execute(self._q.delete_parts, params)
            return removed

    # ----------------------------------------------------------------------------------------------- reads

    def fetch(self, execution_id: str) -> dict[str, Any]:
        check_execution_id(execution_id)
        with self._read() as conn:
            text = conn.execute(self._q.snapshot, {"eid": execution_id}).scalar()
            if text is None:
                raise not_found(execution_id)
            return self._whole(conn, execution_id, self._loads(text, execution_id))

    def record(self, execution_id: str) -> StoredExecution:
        check_execution_id(execution_id)
        with self._read() as conn:
            row = conn.execute(self._q.record, {"eid": execution_id}).first()
            if row is None:
                raise not_found(execution_id)
            return self._record(conn, row)

    def exists(self, execution_id: str) -> bool:
        check_execution_id(execution_id)
        with self._read() as conn:
            return conn.execute(self._q.exists, {"eid": execution_id}).first() is not None

    def version_of(self, execution_id: str) -> int | None:
        """The latest version number of the execution, None when it is not stored (no snapshot is read)."""
        check_execution_id(execution_id)
        with self._read() as conn:
            version = conn.execute(self._q.exists, {"eid": execution_id}).scalar()
        return None if version is None else int(version)

    def find_by_correlation(self, graph: str, correlation: Mapping[str, Any]) -> str | None:
        params = _lookup(check_graph(graph), canonical_correlation(correlation))
        with self._read() as conn:
            found: str | None = conn.execute(self._q.find, params).scalar()
            return found

    def find_latest_by_correlation(self, graph: str, correlation: Mapping[str, Any]) -> str | None:
        params = _lookup(check_graph(graph), canonical_correlation(correlation))
        with self._read() as conn:
            found: str | None = conn.execute(self._q.find_latest, params).scalar()
            return found

    def correlations(
        self, graph: str, *, active_only: bool = True, limit: int = 1000
    ) -> builtins.list[tuple[str, dict[str, Any]]]:
        check_listing(graph, active_only, limit)
        if limit == 0:
            return []
        query = self._q.active_correlations if active_only else self._q.all_correlations
        with self._read() as conn:
            rows = conn.execute(query, {"graph": graph, "limit": limit}).all()
        return [(row.execution_id, json.loads(row.correlation_key)) for row in rows]

    def list(self, graph: str | None = None, status: str | None = None) -> builtins.list[StoredExecution]:
        check_filters(graph, status)
        t = self._executions
        query = self._q.record_columns.order_by(t.c.updated_at, t.c.execution_id)
        if graph is not None:
            query = query.where(t.c.graph == graph)
        if status is not None:
            query = query.where(t.c.status == status)
        with self._read() as conn:
            return [self._record(conn, row) for row in conn.execute(query).all()]

    def history_records(self, execution_id: str) -> builtins.list[StoredExecution]:
        check_execution_id(execution_id)
        with self._read() as conn:
            rows = conn.execute(self._q.history, {"eid": execution_id}).all()
            if not rows:
                raise not_found(execution_id)
            parts: dict[str, str] = {}  # read each part once for all the versions sharing it
            return [self._record(conn, row, parts) for row in rows]

    def create_tables(self) -> None:
        """Create the tables and indexes if missing (done automatically on first use; safe to call concurrently)."""
        with self._serial, self.engine.connect() as conn:
            conn.execution_options(igniter_write=True)
            with conn.begin():
                if self._is_postgres:  # concurrent CREATE TABLE IF NOT EXISTS can still collide in pg_type
                    conn.execute(self._sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(self.table_prefix)})
                self._executions.metadata.create_all(conn, checkfirst=True)
                self._add_correlation_digest(conn)
                # create_all skips the indexes of a table that already exists: add the ones newer releases
                # introduced to databases created before them.
                added = {f"{self.table_prefix}{suffix}" for suffix in _ADDED_INDEXES}
                for index in self._executions.indexes:
                    if index.name in added:
                        conn.execute(self._sa.schema.CreateIndex(index, if_not_exists=True))
        self._ready = True

    def subscribe_changes(self, execution_id: str) -> ChangeSubscription | None:
        """PostgreSQL: wake-ups by LISTEN/NOTIFY on every committed save or delete of ``execution_id``, from any
        process (see ``igniter_nb.stores.postgres_changes``). SQLite: None — the change feed polls the version."""
        check_execution_id(execution_id)
        if not self._is_postgres:
            return None
        from igniter_nb.stores.postgres_changes import changes_of

        return changes_of(self).subscribe(execution_id)

    def _add_correlation_digest(self, conn: Connection) -> None:
        """Bring a table made by an earlier release to the digest indexes (in create_tables' transaction): add
        the ``correlation_digest`` column, fill it for every row, drop the indexes on the correlation text."""
        sa, t = self._sa, self._executions
        if "correlation_digest" not in {c["name"] for c in sa.inspect(conn).get_columns(t.name)}:
            conn.execute(sa.text(f'ALTER TABLE "{t.name}" ADD COLUMN correlation_digest VARCHAR(64)'))
            rows = conn.execute(sa.select(t.c.execution_id, t.c.correlation_key).where(t.c.correlation_key.is_not(None)))
            filled = [{"eid": eid, "digest": correlation_digest(corr)} for eid, corr in rows]
            if filled:
                conn.execute(sa.update(t).where(t.c.execution_id == sa.bindparam("eid"))
                             .values(correlation_digest=sa.bindparam("digest")), filled)
        for name in _DROPPED_INDEXES:
            conn.execute(sa.text(f'DROP INDEX IF EXISTS "{self.table_prefix}{name}"'))

    def close(self) -> None:
        """Dispose of the connection pool (and stop the change-feed listener, if any)."""
        if self._changes is not None:
            self._changes.close()
        self.engine.dispose()

    # ----------------------------------------------------------------------------------------------- helpers

    def _where(self, execution_id: str) -> str:
        return f"{self!r}, execution {execution_id!r}"

    def _loads(self, text: str, execution_id: str) -> Any:
        return parse_stored(text, self._where(execution_id))

    def _whole(self, conn: Connection, execution_id: str, data: Any, cache: dict[str, str] | None = None) -> Any:
        """A version's snapshot whole: a packed one's parts read from the parts table (stores/packing.py)."""
        if not is_packed(data):
            return data
        parts = cache if cache is not None else {}
        wanted = [d for d in part_digests(data) if d not in parts]
        if wanted:
            parts.update((row.digest, row.data) for row in conn.execute(self._q.parts, {"eid": execution_id, "digests": wanted}))
        if any(d not in parts for d in wanted) and conn.execute(self._q.exists, {"eid": execution_id}).first() is None:
            raise not_found(execution_id)  # deleted between the two reads
        return unpack_stored(data, parts, self._where(execution_id))

    def _record(self, conn: Connection, row: Any, cache: dict[str, str] | None = None) -> StoredExecution:
        eid = row.execution_id
        return StoredExecution(
            execution_id=eid,
            snapshot=self._whole(conn, eid, self._loads(row.snapshot, eid), cache),
            version=row.version,
            graph=row.graph,
            correlation=Metadata(row.graph, row.correlation_key, row.status).correlation(),
            status=row.status,
            updated_at=ensure_aware(row.updated_at),
        )

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        if not self._ready:
            self.create_tables()
        with self._serial, self.engine.connect() as conn:
            conn.execution_options(igniter_write=True)
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        if not self._ready:
            self.create_tables()
        with self._serial, self._read_engine.connect() as conn:
            yield conn  # one statement per read: the implicit transaction ends when the connection returns


class _Statements:
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
        saved = self.update_row.returning(
            t.c.execution_id, t.c.version, t.c.updated_at, t.c.graph, t.c.correlation_key, t.c.status, t.c.snapshot
        ).cte("saved")
        self.cas_save = sa.insert(h).from_select(
            ["execution_id", "version", "saved_at", "graph", "correlation_key", "status", "snapshot"],
            sa.select(saved.c.execution_id, saved.c.version, saved.c.updated_at, saved.c.graph,
                      saved.c.correlation_key, saved.c.status, saved.c.snapshot),
        ).execution_options(preserve_rowcount=True)  # SQLAlchemy keeps an INSERT's rowcount only when asked
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
        self.history = (
            sa.select(h.c.execution_id, h.c.snapshot, h.c.version, h.c.graph, h.c.correlation_key, h.c.status,
                      h.c.saved_at.label("updated_at"))
            .where(h.c.execution_id == b("eid"))
            .order_by(h.c.version)
        )


def _create_engine(url: str, busy_timeout_ms: int) -> Engine:
    import sqlalchemy as sa
    from sqlalchemy import event
    from sqlalchemy.pool import StaticPool

    parsed = sa.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed)
    memory = parsed.database in (None, "", ":memory:")
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": busy_timeout_ms / 1000}}
    if memory:
        options["poolclass"] = StaticPool
    engine = sa.create_engine(parsed, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if not memory:
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")  # with WAL: durable across process crashes
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that later upgrades can fail with
        # SQLITE_BUSY without waiting, which would break the compare-and-set under contention.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("igniter_write") else "BEGIN")

    return engine


def _tables(sa: Any, prefix: str) -> tuple[Table, Table, Table]:
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
        f"{prefix}{_ACTIVE_INDEX}",
        executions.c.graph,
        executions.c.correlation_digest,
        unique=True,
        # Spelled exactly like the lookup's condition, so SQLite's planner recognises the partial index.
        sqlite_where=executions.c.active == sa.true(),
        postgresql_where=executions.c.active == sa.true(),
    )
    sa.Index(f"{prefix}executions_graph_status", executions.c.graph, executions.c.status)
    sa.Index(
        f"{prefix}{_LATEST_INDEX}",
        executions.c.graph,
        executions.c.correlation_digest,
        executions.c.updated_at,
        executions.c.execution_id,
    )
    sa.Index(f"{prefix}{_RECENT_INDEX}", executions.c.graph, executions.c.updated_at, executions.c.execution_id)
    sa.Index(
        f"{prefix}{_ACTIVE_RECENT_INDEX}",
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


def _is_fast(req: SaveRequest) -> bool:
    """Whether ``req`` can skip the read: a compare-and-set on an existing version that names all its metadata
    (what the runtime's saves do), so ``req.resolve(stored)`` is these values whatever is stored."""
    return (
        req.expected_version is not None and req.expected_version > 0
        and req.graph is not None and req.correlation_json is not None and req.status is not None
    )


def _fast_values(req: SaveRequest) -> dict[str, Any]:
    """The row a fast-path save writes (``_is_fast(req)``): the same values ``_save_once`` computes."""
    assert req.expected_version is not None
    meta = Metadata(req.graph, req.correlation_json, req.status)  # == req.resolve(stored) when all three are given
    return {
        "eid": req.execution_id,
        "graph": meta.graph,
        "correlation_key": meta.correlation_json,
        "correlation_digest": correlation_digest(meta.correlation_json),
        "status": meta.status,
        "active": meta.active_key is not None,
        "version": req.expected_version + 1,
        "snapshot": req.snapshot_json,
        "updated_at": utc_now(),
    }


@functools.lru_cache(maxsize=4096)
def correlation_digest(correlation_json: str | None) -> str | None:
    """The indexed form of a canonical correlation: its SHA-256 (hex). Indexing the text itself made PostgreSQL
    refuse correlations over ~2.7 KB (a btree entry's limit); a digest fits any correlation every store accepts."""
    if correlation_json is None:
        return None
    return hashlib.sha256(correlation_json.encode("utf-8")).hexdigest()


def _lookup(graph: str, correlation_json: str) -> dict[str, Any]:
    return {"graph": graph, "digest": correlation_digest(correlation_json)}


def _is_memory(engine: Engine) -> bool:
    return engine.url.database in (None, "", ":memory:")


def _is_transient(exc: Exception) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "deadlock detected" in text or "could not serialize" in text


def _lock_key(prefix: str) -> int:
    return zlib.crc32(f"igniter_nb.stores.sql:{prefix}".encode()) & 0x7FFFFFFF
