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

Every save is one transaction, and the runtime's compare-and-set save skips the read (one round trip on
PostgreSQL): ``stores/sql_save.py``. SQLite files run in WAL mode with a busy timeout so several processes can
share one file. On PostgreSQL 14+ built with lz4, snapshots are compressed with lz4 rather than pglz
(``stores/sql_compression.py``, set by ``create_tables``); on PostgreSQL the text columns have storage MAIN, so a
snapshot up to ~8 KB compressed stays in its row instead of going to the TOAST table in chunks
(``stores/sql_storage.py``, also set by ``create_tables``).

Tables set up: ``stores/sql_tables.py``; a save's row, and a read row's record: ``stores/sql_rows.py``.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from igniter_nb.errors import StoreArgumentError, StoreError
from igniter_nb.stores.base import (
    SaveRequest,
    StoreBase,
    StoredExecution,
    canonical_correlation,
    check_execution_id,
    check_filters,
    check_graph,
    check_listing,
    not_found,
)
from igniter_nb.stores.json_text import parse_stored, unpack_stored
from igniter_nb.stores.packing import is_packed, part_digests
from igniter_nb.stores.paging import check_history_page, check_page, decode_page
from igniter_nb.stores.rules import MAX_VERSION
from igniter_nb.stores.sql_compression import driver_message
from igniter_nb.stores.sql_engine import create_engine, is_memory, memory_turn, synchronous_setting, unprepared
from igniter_nb.stores.sql_errors import cannot_open, is_transient
from igniter_nb.stores.sql_hot import HotPath
from igniter_nb.stores.sql_lock import WriteGate, gate_for
from igniter_nb.stores.sql_rows import record_of
from igniter_nb.stores.sql_save import save_version
from igniter_nb.stores.sql_schema import (
    Statements,
    correlation_digest,  # noqa: F401  (bench/stores.py imports it from here)
    lookup,
    tables,
)
from igniter_nb.stores.sql_tables import denied, may_not_set_up, set_up_tables

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from igniter_nb.stores.changes import ChangeSubscription

_log = logging.getLogger(__name__)


class SQLStore(StoreBase):
    """Store executions in SQL. ``url`` is a SQLAlchemy URL (``sqlite:///path.db``, ``sqlite://`` for an
    in-memory database, ``postgresql+psycopg://user@host/db``; plain ``postgresql://`` uses psycopg 3) or an
    ``Engine``.
    """

    def __init__(self, url: str | Engine, *, table_prefix: str = "igniter_", busy_timeout_ms: int = 30_000,
                 synchronous: str | None = None) -> None:
        import sqlalchemy as sa

        self._sa = sa
        # SQLite file made from a URL: writers take turns through a lock file instead of SQLite's sleeping busy
        # handler (stores/sql_lock.py)
        self._gate: WriteGate | None = None
        if isinstance(url, sa.Engine):
            if synchronous is not None:
                raise StoreArgumentError("synchronous= applies to a store made from a SQLite URL; set it on your "
                                         "own engine's connections instead")
            self.engine = url
        else:
            self.engine = create_engine(url, busy_timeout_ms, synchronous_setting(url, synchronous))
            self._gate = gate_for(self.engine.url, busy_timeout_ms / 1000)
        self._is_sqlite = self.engine.dialect.name == "sqlite"
        self._is_postgres = self.engine.dialect.name == "postgresql"
        # Reads are single statements: on PostgreSQL autocommit saves the BEGIN and ROLLBACK round trips (so does
        # the one-statement compare-and-set save, which runs here too).
        self._read_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT") if self._is_postgres else self.engine
        # An in-memory SQLite database is one shared connection: serialise its use across threads (and across the
        # stores of one shared-cache database, sql_engine.memory_turn).
        self._serial: contextlib.AbstractContextManager[Any] = (
            memory_turn(self.engine.url) if self._is_sqlite and is_memory(self.engine) else contextlib.nullcontext()
        )
        self.table_prefix = table_prefix
        self._executions, self._history, self._parts = tables(sa, table_prefix)
        self._q = Statements(sa, self._executions, self._history, self._parts)
        self._ready = False
        self._feed_refused = False  # the role may not set up LISTEN/NOTIFY: the change feed polls
        self._changes: Any = None  # PostgreSQL: the change-feed listener, made by the first subscribe_changes
        # The statements of every delivery on the DBAPI connection (stores/sql_hot.py); an Engine you pass runs
        # everything through SQLAlchemy, as you configured it (your events and pool see every statement).
        self._hot: HotPath | None = None
        if not isinstance(url, sa.Engine):
            self._hot = HotPath(self.engine, self._q, serial=self._serial,
                                own_connections=self._is_sqlite and not is_memory(self.engine), gate=self._gate)

    def __repr__(self) -> str:
        shown = self.__dict__.get("_shown")
        if shown is None:  # the engine's URL does not change: rendered once (every read names the store, ~2.5 µs)
            shown = self._shown = f"SQLStore({self.engine.url.render_as_string(hide_password=True)!r})"
        return shown

    # ----------------------------------------------------------------------------------------------- writes

    def save(
        self,
        snapshot: Mapping[str, Any],
        *,
        graph: str | None = None,
        correlation: Mapping[str, Any] | None = None,
        status: str | None = None,
        expected_version: int | None = None,
        check_json: bool = True,
    ) -> int:
        """See :class:`~igniter_nb.stores.base.ExecutionStore`. ``check_json=False`` is for snapshots built by
        ``igniter_nb`` (JSON-safe by construction): they are written by the faster encoder of
        :func:`~igniter_nb.stores.json_text.runtime_json` — use the default for your own dicts."""
        req = SaveRequest.build(snapshot, graph, correlation, status, expected_version, trusted=not check_json)
        return save_version(self, req)  # (stores/sql_save.py)

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
        if self._hot is not None:
            found = self._hot_record(self._hot.record, {"eid": execution_id})
            if found is None:
                raise not_found(execution_id)
            return found
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
        if self._hot is not None:
            row = self._hot_one(self._hot.version, {"eid": execution_id})
            return None if row is None else int(row[0])
        with self._read() as conn:
            version = conn.execute(self._q.exists, {"eid": execution_id}).scalar()
        return None if version is None else int(version)

    def find_by_correlation(self, graph: str, correlation: Mapping[str, Any]) -> str | None:
        params = lookup(check_graph(graph), canonical_correlation(correlation))
        if self._hot is not None:
            row = self._hot_one(self._hot.find, params)
            return None if row is None else str(row[0])
        with self._read() as conn, self._unprepared(conn):
            found: str | None = conn.execute(self._q.find, params).scalar()
            return found

    def record_by_correlation(self, graph: str, correlation: Mapping[str, Any]) -> StoredExecution | None:
        """The record of the *active* execution of ``graph`` with this correlation, or None — one read of the
        correlation index and the row (what a delivery needs; ``find_by_correlation`` + ``record`` in one)."""
        params = lookup(check_graph(graph), canonical_correlation(correlation))
        if self._hot is not None:
            return self._hot_record(self._hot.record_active, params)
        with self._read() as conn:
            with self._unprepared(conn):
                row = conn.execute(self._q.record_active, params).first()
            return None if row is None else self._record(conn, row)

    def find_latest_by_correlation(self, graph: str, correlation: Mapping[str, Any]) -> str | None:
        params = lookup(check_graph(graph), canonical_correlation(correlation))
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
        query = query.where(t.c.graph == graph if graph is not None else self._q.listed)
        if status is not None:
            query = query.where(t.c.status == status)
        with self._read() as conn:
            return [self._record(conn, row) for row in conn.execute(query).all()]

    def list_page(
        self, graph: str | None = None, status: str | None = None, *, limit: int, after: str | None = None
    ) -> tuple[builtins.list[StoredExecution], str | None]:
        """A page of :meth:`list` newest first (``stores/paging.py``): keyset pagination, one statement reading
        ``limit + 1`` rows backwards along an index on ``([graph,] [status,] updated_at, execution_id)``; only the
        page's ``limit`` snapshots are decoded (the last row only says whether another page follows)."""
        key = check_page(graph, status, limit, after)
        values: dict[str, Any] = {"limit": limit + 1}
        if graph is not None:
            values["graph"] = graph
        if status is not None:
            values["status"] = status
        if key is not None:
            values["after_at"], values["after_id"] = key
        query = self._q.pages[graph is not None, status is not None, key is not None]
        with self._read() as conn:
            return decode_page(conn.execute(query, values).all(), limit, lambda row: self._record(conn, row))

    def count(self, graph: str | None = None, status: str | None = None) -> int:
        """How many records :meth:`list` answers (``SELECT count(*)`` over the listing indexes)."""
        check_filters(graph, status)
        values = {k: v for k, v in (("graph", graph), ("status", status)) if v is not None}
        with self._read() as conn:
            return int(conn.execute(self._q.counts[graph is not None, status is not None], values).scalar_one())

    def history_records(self, execution_id: str) -> builtins.list[StoredExecution]:
        check_execution_id(execution_id)
        with self._read() as conn:
            rows = conn.execute(self._q.history, {"eid": execution_id}).all()
            if not rows:
                raise not_found(execution_id)
            parts: dict[str, str] = {}  # read each part once for all the versions sharing it
            return [self._record(conn, row, parts) for row in rows]

    def history_page(self, execution_id: str, *, after_version: int = 0, limit: int) -> builtins.list[StoredExecution]:
        """The versions after ``after_version``, oldest first, at most ``limit``: one indexed range read."""
        check_execution_id(execution_id)
        check_history_page(after_version, limit)
        with self._read() as conn:
            # (no version is past MAX_VERSION, PostgreSQL's INTEGER column: a larger one past the end reads none)
            after = min(after_version, MAX_VERSION)
            rows = conn.execute(self._q.history_after, {"eid": execution_id, "after": after, "n": limit}).all()
            if not rows and conn.execute(self._q.exists, {"eid": execution_id}).first() is None:
                raise not_found(execution_id)
            parts: dict[str, str] = {}
            return [self._record(conn, row, parts) for row in rows]

    def create_tables(self) -> None:
        """Create the tables and indexes if missing (done automatically on first use; safe to call concurrently).

        Once the tables and their indexes exist, nothing here needs to own them: a role granted only ``SELECT,
        INSERT, UPDATE, DELETE`` on tables its owner created can use the store. A role that would have to
        create or change something and may not gets a ``StoreError`` saying so."""
        sa = self._sa
        try:
            with self._turn(), self._serial, self.engine.connect() as conn:
                conn.execution_options(igniter_write=True)
                with conn.begin():
                    set_up_tables(conn, self._executions, self.table_prefix, postgres=self._is_postgres)
        except sa.exc.DBAPIError as exc:
            if denied(exc):
                raise may_not_set_up(self, exc) from None
            if is_transient(exc):
                raise  # (a save tries again)
            raise cannot_open(self, exc) from exc
        self._ready = True

    def subscribe_changes(self, execution_id: str) -> ChangeSubscription | None:
        """PostgreSQL: wake-ups by LISTEN/NOTIFY on every committed save or delete of ``execution_id``, from any
        process (see ``igniter_nb.stores.postgres_changes``). SQLite: None — the change feed polls the version."""
        check_execution_id(execution_id)
        if not self._is_postgres or self._feed_refused:
            return None
        from igniter_nb.stores.postgres_changes import changes_of

        sa = self._sa
        try:
            return changes_of(self).subscribe(execution_id)
        except sa.exc.DBAPIError as exc:
            if not denied(exc):
                raise
            # A role that may not create the feed's trigger and watchers table (or write to it): the change feed
            # polls the version instead, as on SQLite — slower to wake, nothing missed.
            self._feed_refused = True
            _log.warning("%r: the change feed polls instead of LISTEN/NOTIFY: the role %r may not set it up (%s); "
                         "subscribe once as the tables' owner, and grant this role SELECT, INSERT, DELETE on "
                         "%sfeed_watchers", self, self.engine.url.username, driver_message(exc),
                         self.table_prefix)
            return None

    def close(self) -> None:
        """Dispose of the connection pool (and stop the change-feed listener, if any)."""
        if self._changes is not None:
            self._changes.close()
        if self._hot is not None:
            self._hot.close()
        if self._gate is not None:
            self._gate.close()
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

    def _unprepared(self, conn: Connection) -> contextlib.AbstractContextManager[None]:
        """Around a correlation lookup through SQLAlchemy (an Engine you passed): never prepared by psycopg, as the
        hot path sends them (``sql_engine.unprepared``; docs/server-load.md#generic-plans)."""
        return unprepared(conn) if self._is_postgres else contextlib.nullcontext()

    def _hot_one(self, statement: Any, values: dict[str, Any]) -> Any:
        """One row of a hot read (``stores/sql_hot.py``), or None; a driver error is a ``StoreError`` naming the
        store."""
        hot = self._hot
        assert hot is not None
        if not self._ready:
            self.create_tables()
        try:
            return hot.one(statement, values)
        except hot.dbapi.Error as exc:
            raise StoreError(f"{self!r}: could not read: {exc}") from exc

    def _hot_record(self, statement: Any, values: dict[str, Any]) -> StoredExecution | None:
        row = self._hot_one(statement, values)
        if row is None:
            return None
        eid, text, version, graph, correlation_key, status, updated_at = row
        data = self._loads(text, eid)
        if is_packed(data):  # its parts: through SQLAlchemy (large snapshots only)
            with self._read() as conn:
                data = self._whole(conn, eid, data)
        return record_of(eid, data, version, graph, correlation_key, status, updated_at)

    def _record(self, conn: Connection, row: Any, cache: dict[str, str] | None = None) -> StoredExecution:
        eid = row.execution_id
        return record_of(eid, self._whole(conn, eid, self._loads(row.snapshot, eid), cache), row.version, row.graph,
                         row.correlation_key, row.status, row.updated_at)

    def _turn(self) -> contextlib.AbstractContextManager[Any]:
        """A SQLite file writer's turn (``stores/sql_lock.py``); nothing to take elsewhere."""
        return self._gate.turn() if self._gate is not None else contextlib.nullcontext()

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        if not self._ready:
            self.create_tables()
        with self._turn(), self._serial, self.engine.connect() as conn:
            conn.execution_options(igniter_write=True)
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        if not self._ready:
            self.create_tables()
        with self._serial, self._read_engine.connect() as conn:
            yield conn  # one statement per read: the implicit transaction ends when the connection returns


