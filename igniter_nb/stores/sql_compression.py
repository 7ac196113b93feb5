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
a role that does not own the tables, a table whose lock is not granted in ``LOCK_ATTEMPTS`` short attempts) nothing
changes and the store works as before with pglz; the next store to start tries again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection

log = logging.getLogger(__name__)

#: (table suffix, column) of the columns holding snapshots or their parts.
COLUMNS = (("executions", "snapshot"), ("execution_history", "snapshot"), ("execution_parts", "data"))
#: How long one attempt of the ALTER waits for the tables' lock. While it waits, PostgreSQL queues every later
#: reader and writer of the table behind it, so an attempt is short (a delivery holds the lock for one statement,
#: milliseconds) and is made again after a pause: ``LOCK_ATTEMPTS`` attempts, the pauses growing from
#: ``FIRST_PAUSE`` (~0.1 + 0.2 + ... ≈ 2 s in all) — the store's readers then wait at most ``LOCK_TIMEOUT`` at a time,
#: where one long attempt (5 s) held them all up for as long.
LOCK_TIMEOUT = "100ms"
LOCK_ATTEMPTS = 8
FIRST_PAUSE, MAX_PAUSE = 0.05, 0.4

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
    """``ALTER TABLE t ALTER COLUMN c <change>`` for each ``(t, c)``, all or none. Each attempt waits at most
    ``LOCK_TIMEOUT`` for the tables' lock; a lock not granted is tried again after a pause, ``LOCK_ATTEMPTS`` times
    in all. A refusal (a role that does not own the tables, the lock never granted) rolls back only this and is
    logged as a warning starting with ``refused``: False."""
    import time

    import sqlalchemy as sa

    quote = conn.dialect.identifier_preparer.quote
    pause = FIRST_PAUSE
    for attempt in range(1, LOCK_ATTEMPTS + 1):
        try:
            with conn.begin_nested():
                conn.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
                for table, column in columns:
                    conn.execute(sa.text(f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} {change}"))
                conn.execute(sa.text("SET LOCAL lock_timeout = DEFAULT"))
            return True
        except sa.exc.DBAPIError as exc:
            if attempt < LOCK_ATTEMPTS and _lock_not_granted(exc):
                time.sleep(pause)
                pause = min(pause * 2, MAX_PAUSE)
                continue
            log.warning("%s: %s", refused, driver_message(exc))
            return False
    return False  # pragma: no cover - the loop returns


def _lock_not_granted(exc: BaseException) -> bool:
    """Whether a driver error is PostgreSQL's ``lock_not_available`` (SQLSTATE 55P03: ``lock_timeout`` ran out)."""
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) == "55P03" or getattr(orig, "pgcode", None) == "55P03"


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
    from igniter_nb._error_text import first_line

    return first_line(getattr(exc, "orig", None) or exc) or type(exc).__name__
