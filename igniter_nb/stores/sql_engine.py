"""How ``SQLStore`` connects: the SQLAlchemy engine for a URL — a kept pool for PostgreSQL, and for SQLite the
connection settings every connection gets (WAL, ``synchronous``, busy timeout, writers taking the write lock up
front).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from igniter_nb.errors import StoreArgumentError

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: Connections a store made from a PostgreSQL URL keeps open at most, per process (SQLAlchemy's default 5 + 10
#: overflow, but kept open instead of closed after each burst).
POOL_SIZE = 15


_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


def synchronous_setting(url: str, synchronous: str | None) -> str:
    """SQLite's ``synchronous`` setting for a store made from ``url`` (default NORMAL: with WAL, durable across
    process crashes; FULL also across power loss, at an fsync per commit)."""
    if synchronous is None:
        return "NORMAL"
    if not isinstance(synchronous, str) or synchronous.upper() not in _SYNCHRONOUS:
        raise StoreArgumentError(f"synchronous must be one of {', '.join(_SYNCHRONOUS)}, got {synchronous!r:.80}")
    if not str(url).startswith("sqlite"):
        raise StoreArgumentError(f"synchronous= applies to SQLite stores only, not {str(url).split(':', 1)[0]!r}")
    return synchronous.upper()


def create_engine(url: str, busy_timeout_ms: int, synchronous: str = "NORMAL") -> Engine:
    import sqlalchemy as sa
    from sqlalchemy import event
    from sqlalchemy.pool import QueuePool, StaticPool

    parsed = sa.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        # SQLAlchemy's default pool keeps 5 connections and opens up to 10 more for a burst, closing each of those
        # as soon as it is returned: a server with more store calls in flight than 5 opened and closed a
        # PostgreSQL session (a backend process) every few requests. The same 15 at most, all kept.
        return sa.create_engine(parsed, pool_size=POOL_SIZE, max_overflow=0)
    memory = memory_database(parsed, url)
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": busy_timeout_ms / 1000}}
    # In memory: one connection for the store's life, so one database (a pool would open one per connection).
    # Else SQLAlchemy's pool for a file, named so that a mode= in the URL does not make it choose (deprecated).
    options["poolclass"] = StaticPool if memory else QueuePool
    engine = sa.create_engine(parsed, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if not memory:
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute(f"PRAGMA synchronous = {synchronous}")  # NORMAL with WAL: durable across process crashes
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that later upgrades can fail with
        # SQLITE_BUSY without waiting, which would break the compare-and-set under contention.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("igniter_write") else "BEGIN")

    return engine


def is_memory(engine: Engine) -> bool:
    """Whether ``engine`` (SQLite) opens an in-memory database: see :func:`memory_database`."""
    return memory_database(engine.url)


def memory_database(url: Any, given: str | None = None) -> bool:
    """Whether the SQLite URL ``url`` (a SQLAlchemy ``URL``) names an in-memory database, in any of SQLite's
    spellings: no file name or ``:memory:`` (``sqlite://``, ``sqlite:///:memory:``), and with ``uri=true`` the URI
    filenames ``file::memory:`` and ``file:NAME?mode=memory`` (with or without ``cache=shared``).

    Without ``uri=true`` SQLite takes ``file:...`` as a plain file name and ignores ``mode=``: a URL that spells an
    in-memory URI filename so would silently make a file named ``file:...`` in the working directory. Given the
    URL's text as ``given`` (a URL a store is being made from), that is a :class:`StoreArgumentError` saying so.
    """
    database = url.database
    if database in (None, "", ":memory:"):
        return True
    query = url.query
    memory = database == "file::memory:" or query.get("mode") == "memory"
    if _flag(query.get("uri")) and database.startswith("file:"):  # a URI filename: SQLite reads its mode=
        return memory
    if memory and given is not None:  # SQLite would take the name as a plain file name and ignore mode=
        from igniter_nb.stores.url import shown_url

        name = database if database.startswith("file:") else f"file:{database}"
        options = "".join(f"{key}={value}&" for key, value in query.items() if key != "uri")
        lacks = "lacks uri=true" if database.startswith("file:") else "is not a file: URI filename"
        raise StoreArgumentError(f"store URL {shown_url(given)!r} asks for an SQLite in-memory database but {lacks}, "
                                 f"so SQLite would make a file named {database!r} instead: write "
                                 f"{shown_url(f'sqlite:///{name}?{options}uri=true')!r}")
    return False


def _flag(value: Any) -> bool:
    """A URL's ``uri=`` value as the SQLite driver reads it (``true``, ``1``, ``yes``, ``on``: set)."""
    return isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on", "y", "t")
