"""Setting up ``SQLStore``'s tables: created when missing, brought up to date when an earlier release made them
(indexes added since, the correlation digest column), and the ``StoreError`` for a role that may not do it.

``SQLStore.create_tables`` runs ``set_up_tables`` in one transaction; on PostgreSQL an advisory lock keyed by the
table prefix keeps two stores starting together from colliding (concurrent ``CREATE TABLE IF NOT EXISTS`` can
still collide in ``pg_type``).
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any

from igniter_nb.errors import StoreError
from igniter_nb.stores.sql_compression import driver_message, use_lz4
from igniter_nb.stores.sql_schema import ADDED_INDEXES, DROPPED_INDEXES, correlation_digest
from igniter_nb.stores.sql_storage import keep_inline

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table


def set_up_tables(conn: Connection, executions: Table, table_prefix: str, *, postgres: bool) -> None:
    """Create the tables and indexes if missing and bring older ones up to date, in ``conn``'s transaction."""
    import sqlalchemy as sa

    if postgres:  # concurrent CREATE TABLE IF NOT EXISTS can still collide in pg_type
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(table_prefix)})
    executions.metadata.create_all(conn, checkfirst=True)
    _add_correlation_digest(conn, executions, table_prefix)
    # create_all skips the indexes of a table that already exists: add the ones newer releases introduced to
    # databases created before them (only those missing: PostgreSQL refuses even CREATE INDEX IF NOT EXISTS to a
    # role that does not own the table)
    added = {f"{table_prefix}{suffix}" for suffix in ADDED_INDEXES}
    present = {found["name"] for found in sa.inspect(conn).get_indexes(executions.name)}
    for index in executions.indexes:
        if index.name in added and index.name not in present:
            conn.execute(sa.schema.CreateIndex(index, if_not_exists=True))
    if postgres:  # snapshots compressed with lz4 where the server has it (sql_compression.py)
        use_lz4(conn, table_prefix)
        keep_inline(conn, table_prefix)  # and kept in their rows up to ~8 KB (sql_storage.py)


def _add_correlation_digest(conn: Connection, t: Table, table_prefix: str) -> None:
    """Bring a table made by an earlier release to the digest indexes (in create_tables' transaction): add
    the ``correlation_digest`` column, fill it for every row, drop the indexes on the correlation text."""
    import sqlalchemy as sa

    if "correlation_digest" not in {c["name"] for c in sa.inspect(conn).get_columns(t.name)}:
        conn.execute(sa.text(f'ALTER TABLE "{t.name}" ADD COLUMN correlation_digest VARCHAR(64)'))
        rows = conn.execute(sa.select(t.c.execution_id, t.c.correlation_key).where(t.c.correlation_key.is_not(None)))
        filled = [{"eid": eid, "digest": correlation_digest(corr)} for eid, corr in rows]
        if filled:
            conn.execute(sa.update(t).where(t.c.execution_id == sa.bindparam("eid"))
                         .values(correlation_digest=sa.bindparam("digest")), filled)
    for name in DROPPED_INDEXES:
        conn.execute(sa.text(f'DROP INDEX IF EXISTS "{table_prefix}{name}"'))


def denied(exc: BaseException) -> bool:
    """Whether PostgreSQL refused a statement for want of a privilege (SQLSTATE 42501, insufficient_privilege)."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None) == "42501"


def may_not_set_up(store: Any, exc: BaseException) -> StoreError:
    """The error for a role that may not create or change ``store``'s tables, saying how to set them up."""
    prefix = store.table_prefix
    role = store.engine.url.username or "(default)"
    return StoreError(
        f"{store!r}: the database role {role!r} may not create or change the store's tables "
        f"({prefix}executions, {prefix}execution_history, {prefix}execution_parts): {driver_message(exc)}. Create "
        "them once as a role that may (SQLStore(owner_url, table_prefix=...).create_tables()) and grant this role "
        "SELECT, INSERT, UPDATE, DELETE on them.")


def _lock_key(prefix: str) -> int:
    return zlib.crc32(f"igniter_nb.stores.sql:{prefix}".encode()) & 0x7FFFFFFF
