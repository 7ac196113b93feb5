"""The statements every workflow delivery runs, on the DBAPI connection.

A delivery reads one row (the active execution of a correlation) and writes one compare-and-set update with its
history row; a ``start`` looks a correlation up and inserts one row with its history row. Through SQLAlchemy
Core each of these cost more in SQLAlchemy's per-call Python layer (execution context, result objects, events,
the connection pool's checkout and reset) than in SQLite itself (docs/performance.md has the profile). Here
SQLAlchemy still builds the statements — the same ``Statements`` the rest of the store runs, compiled once for
the store's dialect with its own bind and result processors — and they run on the driver's connection:

* SQLite file: the hot path keeps its own connections (made by the engine, so its ``connect`` settings — WAL,
  ``synchronous``, busy timeout — apply), one per thread using it at a time, reused without a pool's checkout.
  Reads are single autocommitted statements; a save is ``BEGIN IMMEDIATE``, the statements, ``COMMIT``.
* PostgreSQL and in-memory SQLite: a connection from the engine's pool (so the pool's limits hold), each
  statement autocommitted on PostgreSQL: a delivery is one round trip to read and one to save.

Everything else the store does (the long save path that explains a refused save, packed versions, listings,
migrations) stays on SQLAlchemy. ``listeners`` lets a test see the statements sent (as SQLAlchemy's
``before_cursor_execute`` does for the rest).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from igniter_nb.stores.sql_checkpoint import Checkpointer
    from igniter_nb.stores.sql_lock import WriteGate
    from igniter_nb.stores.sql_schema import Statements

# Connections a forked child inherited from its parent: never used, never closed (closing a SQLite connection
# the parent still uses could checkpoint or delete its WAL from under it).
_inherited: list[Any] = []


class _Compiled:
    """One statement compiled for a dialect: its SQL text, how to order and convert its parameters, and how to
    convert the columns it returns (SQLAlchemy's own processors, e.g. SQLite's datetime text)."""

    __slots__ = ("bind", "convert", "names", "planned_each_run", "results", "sql")

    def __init__(self, statement: Any, dialect: Any, *, planned_each_run: bool = False) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        # Sent unprepared (psycopg's prepare=False): PostgreSQL plans it for its values on every run (see HotPath).
        self.planned_each_run = planned_each_run
        binds = compiled.binds
        self.names: list[str] | None = list(compiled.positiontup) if dialect.positional else None
        self.convert: dict[str, Callable[[Any], Any]] = {}
        for name, bind in binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self.convert[name] = process
        self.results: list[Callable[[Any], Any] | None] | None = None
        columns = getattr(statement, "selected_columns", None)
        if columns is not None:
            found = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
            self.results = found if any(found) else None

    def params(self, values: dict[str, Any]) -> Any:
        convert = self.convert
        if convert:
            values = {k: (convert[k](v) if k in convert else v) for k, v in values.items()}
        names = self.names
        return values if names is None else tuple(values[n] for n in names)

    def row(self, row: Any) -> Any:
        results = self.results
        if row is None or results is None:
            return row
        return tuple(v if f is None or v is None else f(v) for f, v in zip(results, row, strict=True))


class HotPath:
    """The hot statements of one ``SQLStore``, run on DBAPI connections (see the module docstring)."""

    def __init__(self, engine: Engine, statements: Statements, *, serial: Any, own_connections: bool,
                 gate: WriteGate | None = None) -> None:
        dialect = engine.dialect
        self._gate = gate
        self._engine = engine
        self._serial = serial
        self.dbapi = dialect.loaded_dbapi
        self.postgres = dialect.name == "postgresql"
        self._own = own_connections
        # SQLite file: its WAL checkpoints run on a thread of their own, not inside a writer's commit
        # (stores/sql_checkpoint.py)
        self._checkpointer: Checkpointer | None = None
        if own_connections:
            from igniter_nb.stores.sql_checkpoint import Checkpointer

            self._checkpointer = Checkpointer(self._new_connection)
        self._idle: list[Any] = []  # own connections not in use (list.pop/append are atomic: no lock needed)
        self._pid = os.getpid()
        self._closed = False
        self._lock = threading.Lock()
        self.listeners: list[Callable[[str], None]] = []
        q = statements
        # The two lookups by correlation are never prepared on PostgreSQL. psycopg prepares a statement on the server
        # after its fifth run, and PostgreSQL may then keep one generic plan, costed with the statistics of that
        # moment: a store whose table was nearly empty then (a new deployment, a burst of starts) kept finding a
        # correlation through the active-listing index (graph, updated_at), reading every active row of the graph
        # - 0.03 ms became 0.6-1.7 ms a lookup at 10,000 workflows, until an autoanalyze made it plan again
        # (docs/server-load.md#generic-plans). Unprepared, each run is planned for its values on the table as it
        # is and takes the unique correlation index; planning costs microseconds. Lookups by primary key
        # and the compare-and-set save have one sensible plan and stay prepared.
        self.find = _Compiled(q.find, dialect, planned_each_run=self.postgres)
        self.version = _Compiled(q.exists, dialect)
        self.record = _Compiled(q.record, dialect)
        self.record_active = _Compiled(q.record_active, dialect, planned_each_run=self.postgres)
        if self.postgres:  # each save one autocommitted statement: the row and its history row together
            self.cas = _Compiled(q.cas_save, dialect)
            self.create = _Compiled(q.create_save, dialect)
        else:
            self.update = _Compiled(q.update_row, dialect)
            self.insert = _Compiled(q.insert_row, dialect)
            self.history = _Compiled(q.insert_history, dialect)

    # ----------------------------------------------------------------------------------------------- reads

    def one(self, statement: _Compiled, values: dict[str, Any]) -> Any:
        """The first row ``statement`` returns (converted), or None."""
        with self._connection() as conn:
            return statement.row(self._execute(conn, statement, values).fetchone())

    # ----------------------------------------------------------------------------------------------- saves

    def save(self, values: dict[str, Any], expected_version: int) -> bool:
        """Write the row ``values`` describes and its history row: a compare-and-set update on
        ``expected_version`` (> 0), or the first insert (0). False when no row is at that version (nothing
        written); an insert that would duplicate an id or a correlation raises the driver's ``IntegrityError``."""
        with self._connection() as conn:
            if self.postgres:
                statement = self.cas if expected_version else self.create
                return bool(self._execute(conn, statement, {**values, "read_version": expected_version}).rowcount == 1)
            # the parameters are made before the turn: a writer's turn holds SQL only
            row = self.update if expected_version else self.insert
            row_params = row.params({**values, "read_version": expected_version} if expected_version else values)
            history_params = self.history.params({**values, "saved_at": values["updated_at"]})
            if self._gate is None:
                written = self._save_sqlite(conn, row, row_params, history_params)
            else:
                with self._gate.turn():  # writers of the file take turns without sleeping (stores/sql_lock.py)
                    written = self._save_sqlite(conn, row, row_params, history_params)
        if written and self._checkpointer is not None:
            self._checkpointer.committed()
        return written

    def _save_sqlite(self, conn: Any, row: _Compiled, row_params: Any, history_params: Any) -> bool:
        """``BEGIN IMMEDIATE``, the row's update (or insert), its history row, ``COMMIT`` — or ``ROLLBACK`` when the
        update matched no row."""
        self._run(conn, "BEGIN IMMEDIATE")  # the write lock up front (see stores/sql.py)
        try:
            written = self._send(conn, row.sql, row_params).rowcount == 1 or row is self.insert
            if written:
                self._send(conn, self.history.sql, history_params)
            self._run(conn, "COMMIT" if written else "ROLLBACK")
        except BaseException:
            if conn.in_transaction:
                with contextlib.suppress(Exception):
                    conn.rollback()
            raise
        return written

    # ----------------------------------------------------------------------------------------------- plumbing

    def _execute(self, conn: Any, statement: _Compiled, values: dict[str, Any]) -> Any:
        return self._send(conn, statement.sql, statement.params(values), unprepared=statement.planned_each_run)

    def _send(self, conn: Any, sql: str, params: Any, *, unprepared: bool = False) -> Any:
        if self.listeners:
            self._tell(sql)
        cursor = conn.cursor()
        if unprepared:  # (psycopg only: the statements marked so run on PostgreSQL alone)
            cursor.execute(sql, params, prepare=False)
        else:
            cursor.execute(sql, params)
        return cursor

    def _run(self, conn: Any, sql: str) -> None:
        if self.listeners:
            self._tell(sql)
        conn.execute(sql)

    def _tell(self, sql: str) -> None:
        for listener in list(self.listeners):
            listener(sql)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        if not self._own:
            with self._pooled() as conn:
                yield conn
            return
        if os.getpid() != self._pid:  # a forked child: its parent's connections are not its own
            with self._lock:
                if os.getpid() != self._pid:
                    _inherited.extend(self._idle)
                    self._idle = []
                    self._pid = os.getpid()
        try:
            conn = self._idle.pop()
        except IndexError:
            conn = self._new_connection()
            conn.execute("PRAGMA wal_autocheckpoint = 0")  # the checkpointer's thread does it (see __init__)
        try:
            yield conn
        except BaseException:
            try:
                if conn.in_transaction:
                    conn.rollback()
            except Exception:  # a connection that cannot even roll back is not reused
                with contextlib.suppress(Exception):
                    conn.close()
                raise
            self._release(conn)
            raise
        self._release(conn)

    def _new_connection(self) -> Any:
        """A DBAPI connection made by the engine (its ``connect`` settings apply), ours from now on."""
        fairy = self._engine.raw_connection()
        fairy.detach()  # the pool forgets it
        return fairy.dbapi_connection

    def _release(self, conn: Any) -> None:
        if self._closed:
            with contextlib.suppress(Exception):
                conn.close()
        else:
            self._idle.append(conn)

    @contextlib.contextmanager
    def _pooled(self) -> Iterator[Any]:
        with self._serial:
            fairy = self._engine.raw_connection()
            conn: Any = fairy.driver_connection
            try:
                if self.postgres:
                    conn.autocommit = True
                yield conn
            except BaseException as exc:
                if isinstance(exc, self.dbapi.Error) and self._engine.dialect.is_disconnect(exc, fairy, None):
                    fairy.invalidate(exc)  # a lost server: never hand this connection out again
                    exc.connection_invalidated = True  # type: ignore[attr-defined]  # (as SQLAlchemy marks its own)
                raise
            finally:
                if self.postgres and fairy.is_valid:
                    with contextlib.suppress(Exception):
                        conn.autocommit = False  # as SQLAlchemy expects its pooled connections
                fairy.close()

    def close(self) -> None:
        """Close the connections this hot path owns (connections in use are closed when released)."""
        self._closed = True
        if self._checkpointer is not None:
            self._checkpointer.close()
        while self._idle:
            with contextlib.suppress(Exception):
                self._idle.pop().close()
