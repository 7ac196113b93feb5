"""Is an unhandled error the store being unreachable? Then the server answers 503 ``StoreUnavailable`` with
``Retry-After``, not a 500: the request was fine, the database (or Redis) did not answer it.

Recognised by class name along the exception's MRO and its cause chain, so that neither sqlite3, psycopg,
SQLAlchemy nor redis-py is imported to ask: the DBAPI's ``OperationalError`` (connection refused or lost, a disk
that is full, a database file that cannot be opened, a statement cancelled), SQLAlchemy's wrappers of it and its
pool's ``TimeoutError``, redis-py's ``ConnectionError`` and ``TimeoutError``; and SQLite's ``DatabaseError`` itself
(not its subclasses): a database file that is not one, or is damaged. Anything else stays a 500: a bug.
"""

from __future__ import annotations

#: (module, class name) of the errors that mean "the store did not answer".
OUTAGE_CLASSES = frozenset({
    ("sqlite3", "OperationalError"),
    ("psycopg", "OperationalError"),
    ("sqlalchemy.exc", "OperationalError"),
    ("sqlalchemy.exc", "InterfaceError"),
    ("sqlalchemy.exc", "TimeoutError"),
    ("redis.exceptions", "ConnectionError"),
    ("redis.exceptions", "TimeoutError"),
})

#: (module, class name) of errors that mean "the store cannot be used" only as that exact class, not through a
#: subclass: SQLite's ``DatabaseError`` itself is a database file that is not one, or is damaged
#: (``SQLITE_NOTADB``, ``SQLITE_CORRUPT``: the file was overwritten or truncated under the server) — the store
#: cannot answer, as when its disk is full — while its subclasses (``IntegrityError``, ``ProgrammingError``, ...)
#: are a statement's own failure: a bug, still a 500.
OUTAGE_EXACT = frozenset({
    ("sqlite3", "DatabaseError"),
})

_CHAIN_DEPTH = 8  # causes followed: a store wraps a driver error at most once or twice


def store_outage(exc: BaseException) -> BaseException | None:
    """The error in ``exc``'s cause chain that says the store did not answer, or None."""
    seen: BaseException | None = exc
    for _ in range(_CHAIN_DEPTH):
        if seen is None:
            return None
        if any((cls.__module__, cls.__qualname__) in OUTAGE_CLASSES for cls in type(seen).__mro__):
            return seen
        if (type(seen).__module__, type(seen).__qualname__) in OUTAGE_EXACT:
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


__all__ = ["OUTAGE_CLASSES", "OUTAGE_EXACT", "store_outage"]
