"""Where PostgreSQL keeps a saved row's values: in the row (compressed), not in the table's TOAST table.

A row over ~2 KB is handed to PostgreSQL's "toaster". With the columns' default storage (EXTENDED) it compresses
the snapshot, and when the compressed snapshot alone is still over ~2 KB — a two-event workflow's 6.3 KB snapshot
is ~2.0 KB with lz4 — it moves it out of the row: into the TOAST table, as ~2 KB chunks, each a heap row of its
own and an entry in the TOAST table's index. It may also move any other text value longer than a TOAST pointer
(18 bytes: a correlation, the correlation digest, a long execution id) before it compresses anything. A delivery
writes the snapshot twice (the execution row and its history row), so a delivery wrote four chunks and four
TOAST index entries besides its two rows, deleted the previous version's chunks, and read the chunks back
through the TOAST index on the next delivery (``bench/pg_write_cost.py``; docs/server.md has the figures).

With storage MAIN a value is still compressed but moved out of the row only as a last resort, when the row
would not fit in a page (~8 KB) otherwise: snapshots up to ~8 KB compressed stay in their row, larger ones are
stored out of line as before. Nothing else changes: the same values, read the same way (PostgreSQL detoasts
transparently), the same compression (``stores/sql_compression.py``).

``keep_inline`` runs in ``SQLStore.create_tables``' transaction, as ``use_lz4`` does: each text column of the
executions and history tables whose storage is not MAIN is switched with ``ALTER TABLE ... ALTER COLUMN ... SET
STORAGE MAIN`` — new tables and tables of earlier releases alike, a change of the catalog only. Values already
stored stay where they are and read as before; rows written afterwards are kept in line. A role that does not own
the tables, or a table whose lock is not granted in ``sql_compression.LOCK_ATTEMPTS`` short attempts (each waits
``LOCK_TIMEOUT``), leaves them as they are (with a warning): the store works as before, and the next store to
start tries again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from igniter_nb.stores.sql_compression import alter_columns

if TYPE_CHECKING:
    from sqlalchemy import Connection


#: (table suffix, column) of the text columns a save writes. Not ``execution_parts.data``: the parts of packed
#: versions are large by construction (stores/packing.py) and written once, out of line as before.
COLUMNS = (
    *(("executions", c) for c in ("execution_id", "graph", "correlation_key", "correlation_digest", "status",
                                  "snapshot")),
    *(("execution_history", c) for c in ("execution_id", "graph", "correlation_key", "status", "snapshot")),
)

# attstorage: 'p' plain, 'e' external, 'm' main, 'x' extended (the default of text and varchar)
_STORAGE = ("SELECT attname, attstorage FROM pg_attribute "
            "WHERE attrelid = to_regclass(quote_ident(:table)) AND attnum > 0 AND NOT attisdropped")


def storage_of(conn: Connection, prefix: str) -> dict[str, str]:
    """``{"table.column": attstorage}`` of ``COLUMNS`` (for ``keep_inline``, tests and checks)."""
    import sqlalchemy as sa

    found = {}
    for suffix in dict.fromkeys(suffix for suffix, _ in COLUMNS):
        table = f"{prefix}{suffix}"
        for name, storage in conn.execute(sa.text(_STORAGE), {"table": table}):
            found[f"{table}.{name}"] = storage
    return {f"{prefix}{suffix}.{column}": found.get(f"{prefix}{suffix}.{column}", "")
            for suffix, column in COLUMNS}


def keep_inline(conn: Connection, prefix: str) -> list[str]:
    """Set storage MAIN on the text columns of the tables named with ``prefix`` where it is not (see the module
    docstring); returns the ``table.column`` names switched."""

    if conn.dialect.name != "postgresql":
        return []
    todo = [name for name, storage in storage_of(conn, prefix).items() if storage not in ("m", "")]
    if not todo:
        return []
    columns = [(table, column) for table, column in (name.rsplit(".", 1) for name in todo)]
    if not alter_columns(conn, columns, "SET STORAGE MAIN",
                         f"large snapshots of {prefix}* are still stored out of line (TOAST)"):
        return []
    return todo
