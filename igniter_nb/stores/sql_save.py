"""How ``SQLStore.save`` writes a version: the hot path, the one-statement compare-and-set, the long way, and
when it goes again.

Every save is one transaction: the row is read ``FOR UPDATE`` (SQLite: ``BEGIN IMMEDIATE``), the version
checked, then ``UPDATE ... WHERE execution_id = :id AND version = :read`` and a history insert. The save the
runtime makes — a compare-and-set (``expected_version`` > 0) with graph, correlation and status all given — skips
the read: its ``UPDATE ... AND version = :expected`` is the compare-and-set itself and the partial unique index
keeps one active owner per correlation; on PostgreSQL it is one autocommitted statement (the update and the
history insert joined by a CTE), i.e. one round trip. When it matches no row, or the index refuses it, the save
goes the long way above, which raises the precise error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from igniter_nb.stores.base import Metadata, SaveRequest, conflict
from igniter_nb.stores.sql_errors import connection_lost, gave_up, is_transient, save_failed
from igniter_nb.stores.sql_rows import fast_values, first_values, is_fast, row_values
from igniter_nb.stores.sql_schema import lookup

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from igniter_nb.stores.sql import SQLStore

SAVE_ATTEMPTS = 8


def save_version(store: SQLStore, req: SaveRequest) -> int:
    """Write ``req`` and answer its new version; a transient failure (a lock, a race for the same id or active
    correlation) goes again, up to ``SAVE_ATTEMPTS`` times, the long way."""
    sa = store._sa
    fast = is_fast(req)
    if req.parts and store._is_postgres:
        fast = False  # its parts go in with the row lock held (the long way below)
    # The hot path: a compare-and-set or first save without parts, on the DBAPI connection.
    hot = store._hot if not req.parts and (fast or req.expected_version == 0) else None
    errors = (sa.exc.IntegrityError, hot.dbapi.IntegrityError) if hot is not None else sa.exc.IntegrityError
    failures = (sa.exc.OperationalError, hot.dbapi.OperationalError) if hot is not None else sa.exc.OperationalError
    last: BaseException | None = None  # why the last attempt went again
    for _ in range(SAVE_ATTEMPTS):
        try:
            if hot is not None:
                if not store._ready:
                    store.create_tables()
                values = first_values(req) if req.expected_version == 0 else fast_values(req)
                if hot.save(values, req.expected_version or 0):
                    return int(values["version"])
                hot = None  # nothing written: no row is at the expected version; the long way says why
                fast = False
                continue
            if fast and store._is_postgres:
                version = _save_fast_postgres(store, req)
                if version is not None:
                    return version
                fast = False  # nothing written: no row is at the expected version; the long way says why
            return _save_once(store, req, fast=fast)
        except errors as exc:
            # A concurrent transaction inserted the same id or took the same active correlation first, or
            # the fast path would have made a second active owner of a correlation. Go again the long way:
            # it sees the other row and answers with the right error (or succeeds).
            fast = False
            hot = None
            last = exc
            continue
        except failures as exc:
            last = exc
            if getattr(exc, "connection_invalidated", False):  # the connection was lost: written or not, unknown
                raise connection_lost(store, req.execution_id, exc) from exc
            if not is_transient(exc):  # a full disk, a lost server...: say which store, keep the cause
                raise save_failed(store, req.execution_id, exc) from exc
    raise gave_up(store, req.execution_id, SAVE_ATTEMPTS, last) from last


def _save_once(store: SQLStore, req: SaveRequest, *, fast: bool = False) -> int:
    q, eid = store._q, req.execution_id
    with store._write() as conn:
        if fast:  # SQLite (PostgreSQL has _save_fast_postgres): the compare-and-set update, then history;
            # on a miss, nothing is written and the long way below runs in the same BEGIN IMMEDIATE transaction
            assert req.expected_version is not None
            values = fast_values(req)
            if conn.execute(q.update_row, {**values, "read_version": req.expected_version}).rowcount == 1:
                _write_parts(store, conn, req)  # (SQLite: BEGIN IMMEDIATE already serialises every writer)
                conn.execute(q.insert_history, {**values, "saved_at": values["updated_at"]})
                return int(values["version"])
        row = conn.execute(q.lock_row, {"eid": eid}).first()
        _write_parts(store, conn, req)  # under the row lock: a delete cannot remove them before the row is saved
        actual = row.version if row is not None else 0
        stored = Metadata(row.graph, row.correlation_key, row.status) if row is not None else None
        meta = req.plan(actual, stored, lambda key: _find(store, conn, key))
        version = actual + 1
        values = row_values(req, meta, version)
        if row is None:
            conn.execute(q.insert_row, values)
        else:
            done = conn.execute(q.update_row, {**values, "read_version": actual})
            if done.rowcount != 1:  # cannot happen under the row lock; kept as the CAS guarantee itself
                raise conflict(eid, actual, -1)
        conn.execute(q.insert_history, {**values, "saved_at": values["updated_at"]})
        return version


def _find(store: SQLStore, conn: Connection, key: tuple[str, str]) -> str | None:
    """The active execution of a (graph, correlation) key: the correlation lookup, never prepared by psycopg
    (``SQLStore._unprepared``; docs/server-load.md#generic-plans)."""
    with store._unprepared(conn):
        return conn.execute(store._q.find, lookup(*key)).scalar()


def _write_parts(store: SQLStore, conn: Connection, req: SaveRequest) -> None:
    """Insert the parts of a packed version the execution does not have yet (stores/packing.py)."""
    if not req.parts:
        return
    eid = req.execution_id
    have = set(conn.execute(store._q.part_digests, {"eid": eid, "digests": list(req.parts)}).scalars())
    missing = [{"eid": eid, "digest": d, "data": text} for d, text in req.parts.items() if d not in have]
    if missing:
        conn.execute(store._q.insert_part, missing)


def _save_fast_postgres(store: SQLStore, req: SaveRequest) -> int | None:
    """The compare-and-set save as one autocommitted statement (update + history insert); None when no row
    is at the expected version (nothing written). A second active owner raises ``IntegrityError``."""
    assert req.expected_version is not None
    values = fast_values(req)
    if not store._ready:
        store.create_tables()
    with store._read_engine.connect() as conn:  # autocommit: the statement is its own transaction
        done = conn.execute(store._q.cas_save, {**values, "read_version": req.expected_version})
    return int(values["version"]) if done.rowcount == 1 else None
