"""How PostgreSQL compresses the snapshot columns: lz4 where the server has it, instead of its default pglz.

A snapshot is JSON text of a few KB (~3.9 KB for a two-event workflow). PostgreSQL compresses every value over
~2 KB before it stores it — with pglz unless told otherwise — and a delivery writes the snapshot twice (the
execution row and its history row) and reads it once. With lz4 the saving statement of a delivery took ~100 µs
less time in the executor and the PostgreSQL backend ~0.1 ms less CPU per delivery (~20 %; docs/stores.md has
the figures); lz4 compresses a little less (~1.34 KB against ~1.04 KB for that snapshot).

``use_lz4`` runs in ``SQLStore.create_tables``' transaction (under its advisory lock): on PostgreSQL 14 or later
built with lz4, each snapshot column whose compression is not lz4 is switched with ``ALTER TABLE ... ALTER COLUMN
... SET COMPRESSION lz4`` — new tables and tables of earlier releases alike. Only values written afterwards are
lz4; older ones stay pglz and read as before. Elsewhere (PostgreSQL 13 and earlier, a server built without lz4,
a role that does not own the tables, a table locked for longer than ``LOCK_TIMEOUT``) nothing changes and the
store works as before with pglz; the next store to start tries again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection

log = logging.getLogger(__name__)

#: (table suffix, column) of the columns holding snapshots or their parts.
COLUMNS = (("executions", "snapshot"), ("execution_history", "snapshot"), ("execution_parts", "data"))
#: How long the ALTER waits for the tables' lock (each delivery holds it for a statement, i.e. milliseconds).
LOCK_TIMEOUT = "5s"

_LZ4_AVAILABLE = "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
# attcompression: 'l' lz4, 'p' pglz, '' the server's default_toast_compression (PostgreSQL 14+)
_COMPRESSION = ("SELECT attcompression FROM pg_attribute "
                "WHERE attrelid = to_regclass(quote_ident(:table)) AND attname = :column AND NOT attisdropped")


def use_lz4(conn: Connection, prefix: str) -> list[str]:
    """Switch the snapshot columns of the tables named with ``prefix`` to lz4 where they are not (see the module
    docstring); returns the ``table.column`` names switched. Nothing is switched where lz4 is unavailable."""
    import sqlalchemy as sa

    version = conn.dialect.server_version_info or (0,)
    if conn.dialect.name != "postgresql" or version < (14,) or not conn.execute(sa.text(_LZ4_AVAILABLE)).scalar():
        return []
    found = compression_of(conn, prefix)
    todo = [(f"{prefix}{suffix}", column) for suffix, column in COLUMNS
            if found[f"{prefix}{suffix}.{column}"] not in ("l", None)]
    if not todo:
        return []
    if not alter_columns(conn, todo, "SET COMPRESSION lz4", f"snapshot columns of {prefix}* stay compressed with pglz"):
        return []
    return [f"{table}.{column}" for table, column in todo]


def alter_columns(conn: Connection, columns: list[tuple[str, str]], change: str, refused: str) -> bool:
    """``ALTER TABLE t ALTER COLUMN c <change>`` for each ``(t, c)``, all or none, waiting at most ``LOCK_TIMEOUT``
    for each table's lock. A refusal (a role that does not own the tables, a lock timeout) rolls back only this
    and is logged as a warning starting with ``refused``: False."""
    import sqlalchemy as sa

    quote = conn.dialect.identifier_preparer.quote
    try:
        with conn.begin_nested():
            conn.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            for table, column in columns:
                conn.execute(sa.text(f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} {change}"))
            conn.execute(sa.text("SET LOCAL lock_timeout = DEFAULT"))
    except sa.exc.DBAPIError as exc:
        log.warning("%s: %s", refused, driver_message(exc))
        return False
    return True


def compression_of(conn: Connection, prefix: str) -> dict[str, Any]:
    """``{"table.column": attcompression}`` of the snapshot columns (PostgreSQL 14+; for tests and checks)."""
    import sqlalchemy as sa

    found = {}
    for suffix, column in COLUMNS:
        table = f"{prefix}{suffix}"
        found[f"{table}.{column}"] = conn.execute(sa.text(_COMPRESSION), {"table": table, "column": column}).scalar()
    return found


def driver_message(exc: BaseException) -> str:
    """The first line of what the database driver said (a SQLAlchemy error's ``orig``), for a message or a log."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
