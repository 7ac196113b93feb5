"""How ``SQLStore`` connects: the SQLAlchemy engine for a URL — a kept pool for PostgreSQL, and for SQLite the
connection settings every connection gets (WAL, ``synchronous``, busy timeout, writers taking the write lock up
front).
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from igniter_nb._error_text import short_path
from igniter_nb.errors import StoreArgumentError
from igniter_nb.stores.url import URL_SHOWN, shown_url

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
        engine = sa.create_engine(parsed, pool_size=POOL_SIZE, max_overflow=0)
        event.listen(engine, "checkout", _hung_up)
        return engine
    check_url_spelling(parsed, url)
    memory = memory_database(parsed)
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
            wal(cur, busy_timeout_ms / 1000)
            cur.execute(f"PRAGMA synchronous = {synchronous}")  # NORMAL with WAL: durable across process crashes
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that later upgrades can fail with
        # SQLITE_BUSY without waiting, which would break the compare-and-set under contention.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("igniter_write") else "BEGIN")

    return engine


def _hung_up(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """A pooled PostgreSQL connection the server ended while it sat idle (``pg_terminate_backend``, a restart, an
    idle timeout) is not handed out: the server's goodbye (its error message, then end of file) already waits on
    the socket of a connection with no statement in flight. Read without a round trip (a ``poll`` of the socket);
    SQLAlchemy then opens a new connection in its place. Else the next statement — the next delivery's read —
    failed, once per dead connection in the pool."""
    import select

    from sqlalchemy.exc import DisconnectionError

    if not hasattr(select, "poll"):  # (Windows: no poll of a socket; the next statement finds a dead connection)
        return
    conn = getattr(dbapi_conn, "driver_connection", dbapi_conn)
    try:
        if conn.closed:
            raise DisconnectionError("the connection is closed")
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        if poller.poll(0):  # (nothing is sent to an idle session of ours unasked: no LISTEN on pooled connections)
            raise DisconnectionError("the server ended the connection while it was idle in the pool")
    except (OSError, ValueError, AttributeError) as exc:  # (no socket left)
        raise DisconnectionError(f"the connection is unusable: {exc}") from exc


#: Pauses between tries of the switch to WAL while another connection holds a lock SQLite does not wait for
#: (seconds; the last one repeats until the busy timeout has passed).
WAL_PAUSES = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05)


def wal(cursor: Any, timeout: float) -> None:
    """``PRAGMA journal_mode = WAL`` on a new connection, tried again for up to ``timeout`` seconds (the busy
    timeout) while the database is locked.

    SQLite does not wait out its busy timeout here in one case: a database still in rollback-journal mode — a file
    another program (or another store's first connection, before its own switch) is creating at that instant — whose
    write lock (RESERVED) another connection holds. Switching needs the exclusive lock, and SQLite answers "database
    is locked" at once rather than wait for a lock that connection may want to upgrade itself: every store
    connection made then failed at once — ``igniter-nb serve`` refused to start, and each request's save used up its
    attempts in a few milliseconds. Once the file is in WAL mode the pragma needs no such lock."""
    import time

    deadline = time.monotonic() + max(timeout, 0.0)
    tries = 0
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except Exception as exc:  # the driver's OperationalError (sqlite3 or another DBAPI driver's)
            if "locked" not in str(exc).lower() and "busy" not in str(exc).lower():
                raise
            pause = WAL_PAUSES[min(tries, len(WAL_PAUSES) - 1)]
            if time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            tries += 1


@contextlib.contextmanager
def unprepared(conn: Any) -> Iterator[None]:
    """Statements run on the SQLAlchemy connection ``conn`` meanwhile are never prepared on the server by psycopg:
    its session's ``prepare_threshold`` is None until the block ends, then what it was. The hot path sends the two
    correlation lookups with ``cursor.execute(..., prepare=False)``; SQLAlchemy passes no such argument, so a store
    made from an Engine you pass (every statement through SQLAlchemy, your events see them) turns the threshold off
    around them instead (docs/server-load.md#generic-plans). Other drivers (psycopg2, pg8000) never prepare on their
    own: nothing to do."""
    driver = getattr(conn.connection, "driver_connection", None)
    if driver is None or not hasattr(driver, "prepare_threshold"):
        yield
        return
    before = driver.prepare_threshold
    driver.prepare_threshold = None
    try:
        yield
    finally:
        with contextlib.suppress(Exception):  # (a connection lost meanwhile is invalidated, never reused)
            driver.prepare_threshold = before


def is_memory(engine: Engine) -> bool:
    """Whether ``engine`` (SQLite) opens an in-memory database: see :func:`memory_database`."""
    return memory_database(engine.url)


def memory_database(url: Any) -> bool:
    """Whether the SQLite URL ``url`` (a SQLAlchemy ``URL``) names an in-memory database, in any of SQLite's
    spellings: no file name or ``:memory:`` (``sqlite://``, ``sqlite:///:memory:``), and with ``uri=true`` the URI
    filenames ``file::memory:`` and ``file:NAME?mode=memory`` (with or without ``cache=shared``). Without
    ``uri=true`` SQLite takes ``file:...`` for a plain file name and ignores ``mode=`` (see
    :func:`check_url_spelling`)."""
    database, query = url.database, url.query
    uri = _flag(query.get("uri"))
    if database in (None, "", ":memory:"):  # with uri=true, URI options make the driver open a file ":memory:?..."
        return not (uri and _uri_options(query))
    return uri and database.startswith("file:") and (database == "file::memory:" or query.get("mode") == "memory")


def check_url_spelling(url: Any, given: str) -> None:
    """Raise :class:`StoreArgumentError` for an SQLite URL (``url`` parsed, ``given`` as written) whose URI options
    SQLite would drop or read as part of a file name: on a file database, options (``cache=shared``, ``mode=ro``)
    without ``uri=true`` (the driver ignores them) or with it after a name not starting ``file:`` (a file named
    ``x.db?cache=shared``); and a URL that asks for an in-memory
    database in a spelling SQLite would take for a file name, or whose options it would drop: ``mode=memory`` or
    ``file::memory:`` without ``uri=true``, ``mode=memory`` on a name not starting ``file:``, URI options after
    ``:memory:`` or no name (a file with ``uri=true``, ignored without it), and ``:memory:``, ``file:`` or
    ``mode=memory`` in another case (``FILE::memory:``: SQLite reads them only in lower case). Each made a file
    (``file:x``, ``:memory:?cache=shared``, ``FILE::memory:``) in the working directory, or a private database
    where a shared cache was asked for."""
    database, query = url.database, dict(url.query)
    _check_tilde(database, given)
    uri, options = _flag(query.get("uri")), _uri_options(query)
    slip = _case_slip(database, query)
    if slip is not None:
        why, database, query = slip
    elif database in (None, "", ":memory:"):
        if not options:
            return
        if uri:
            named = f"{database or ''}?{'&'.join(_pairs(query, options))}"
            why = (f"gives SQLite URI options ({_listed(options)}) to "
                   f"{_quoted(database) if database else 'no file name'}, so SQLite would make a file named "
                   f"{_quoted(named)}")
        else:  # the driver drops them (SQLAlchemy's SAWarning): a private database, not the shared cache asked for
            why = (f"gives SQLite URI options ({_listed(options)}) without uri=true, so the SQLite driver would "
                   "ignore them")
        database = "file::memory:"
    elif database == "file::memory:" or query.get("mode") == "memory":
        if uri and database.startswith("file:"):
            return
        why = ("lacks uri=true" if database.startswith("file:") else "is not a file: URI filename")
        why += f", so SQLite would make a file named {_quoted(database)}"
        database = database if database.startswith("file:") else f"file:{database}"
    elif options and not uri:  # a file: the driver drops them (SQLAlchemy's SAWarning), mode=ro and all
        _refuse(given, f"gives SQLite URI options ({_listed(options)}) without uri=true, so the SQLite driver "
                       "would ignore them", _file_name(database), query)
    elif options and not database.startswith("file:"):
        named = f"{database}?{'&'.join(_pairs(query, options))}"
        _refuse(given, f"gives SQLite URI options ({_listed(options)}) to {_quoted(database)}, which is not a file: "
                       f"URI filename, so SQLite would make a file named {_quoted(named)}", _file_name(database), query)
    else:
        return
    _refuse(given, f"asks for an SQLite in-memory database but {why}", database, query)


def _check_tilde(database: Any, given: str) -> None:
    """A file name starting ``~`` (``sqlite:///~/x.db``, ``file:~/x.db``): SQLAlchemy takes the URL's path as the
    file name as it is — a folder literally named ``~`` under the working directory, as every other SQLAlchemy tool
    reading the same URL would — so it is refused, with the absolute URL of the home directory's file to write (or
    ``./~`` for a folder named ``~``), rather than expanded differently from them (docs/stores.md)."""
    if not isinstance(database, str):
        return
    name = database[5:] if database.startswith("file:") else database
    if not name.startswith("~"):
        return
    home = os.path.expanduser(name)
    write = f"write {shown_url('sqlite:///' + home)!r} (an absolute path: four slashes)" if home != name else (
        "write an absolute path (four slashes)")
    raise StoreArgumentError(
        f"store URL {shown_url(given)!r} names a file under {name.split('/')[0]!r}: SQLAlchemy does not expand '~' in "
        f"a URL, so it would be a folder literally named that in the working directory; {write}, or './~/' for a "
        "folder named '~'")


def _refuse(given: str, why: str, database: str, query: dict[str, Any]) -> None:
    """Raise the :class:`StoreArgumentError` of :func:`check_url_spelling`: the URL as given, why, and the URL to
    write (``database`` and ``query`` as they should be, ``uri=true`` added). Each URL, name and list of options
    it quotes is cut past ``URL_SHOWN`` characters (``stores/url.py``): a 5,000-character option is not repeated
    whole three times."""
    if database == ":memory:":  # (only a case slip without URI options: the plain spelling)
        write = "sqlite:///:memory:"
    else:
        write = f"sqlite:///{database}?{''.join(pair + '&' for pair in _pairs(query, query, but='uri'))}uri=true"
    raise StoreArgumentError(f"store URL {shown_url(given)!r} {why}: write {shown_url(write)!r}")


def _quoted(text: str) -> str:
    """``repr`` of ``text`` (a file name as SQLite would read it) with its ``password=`` (``secret=``, ``token=``)
    values replaced by ``***`` as the URL's are, then cut past ``URL_SHOWN`` characters."""
    from igniter_nb.settings import redact_query

    return repr(short_path(redact_query(text), URL_SHOWN, escape=False))


def _listed(options: list[str]) -> str:
    """The names of ``options``, comma-separated, cut past ``URL_SHOWN`` characters."""
    return short_path(", ".join(options), URL_SHOWN, escape=False)


def _pairs(query: Any, keys: Any, but: str = "") -> list[str]:
    """``key=value`` for each of ``keys`` in ``query`` but ``but``, a key given twice (``cache=a&cache=b``: a
    tuple of values) once per value."""
    return [f"{key}={value}" for key in keys if key != but
            for value in (query[key] if isinstance(query[key], tuple) else (query[key],))]


def _file_name(database: str) -> str:
    """The ``file:`` URI filename of the file ``database`` as a URL path spells it: ``%``, ``?`` and ``#`` escaped
    for SQLite (``%25``, ``%3F``, ``%23``), then ``%`` escaped again for the URL (SQLAlchemy decodes the path once)."""
    if database.startswith("file:"):  # already a URI filename: SQLite decodes it as it is
        return "file:" + database[5:].replace("%", "%25")
    escaped = database.replace("%", "%25").replace("?", "%3F").replace("#", "%23")
    return "file:" + escaped.replace("%", "%25")


def _case_slip(database: Any, query: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """Why an in-memory spelling in another case (``:MEMORY:``, ``FILE::memory:``, ``MODE=memory``,
    ``mode=MEMORY``) is not one to SQLite, which reads ``:memory:``, the ``file:`` scheme and the ``mode`` option
    and its value only in lower case, with the database name and query to write instead; None when there is none."""
    name = database or ""
    mode_keys = [key for key in query if key.lower() == "mode" and str(query[key]).lower() == "memory"]
    fixed_query = {("mode" if key in mode_keys else key): ("memory" if key in mode_keys else value)
                   for key, value in query.items()}
    if name.lower() == ":memory:":
        fixed = ":memory:" if not _uri_options(fixed_query) else "file::memory:"
    elif name[:5].lower() == "file:" and (name.lower() == "file::memory:" or mode_keys):
        fixed = "file::memory:" if name.lower() == "file::memory:" else "file:" + name[5:]
    else:
        fixed = name
    if mode_keys and not fixed.startswith("file:"):  # (mode=memory is read only after a file: name)
        fixed = f"file:{fixed}" if fixed not in ("", ":memory:") else "file::memory:"
    slips = [text for text, right in ((name, fixed), *((f"{key}={query[key]}", "mode=memory") for key in mode_keys))
             if text != right and not (name == ":memory:" and text == name)]
    if not slips:
        return None
    why = (f"writes {' and '.join(map(_quoted, slips))} in another case than SQLite reads (':memory:', 'file:' and "
           "mode=memory only in lower case), so SQLite would not open an in-memory database")
    return why, fixed, fixed_query


#: The turn of each shared-cache in-memory database open in this process (by its name), while a store holds it.
_SHARED_TURNS: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_SHARED_GUARD = threading.Lock()


def memory_turn(url: Any) -> Any:
    """The lock a store of an in-memory SQLite database (``url``) holds around each use of its one connection: its
    own, or for a shared-cache database (``cache=shared``) the one every store of that database in this process
    holds: SQLite answers a write to a table another connection of the shared cache is using with "database table
    is locked" at once, without waiting out the busy timeout."""
    if url.query.get("cache") != "shared" or not memory_database(url) or url.database in (None, "", ":memory:"):
        return threading.RLock()
    name = url.database if url.database == "file::memory:" else f"{url.database}?mode=memory"
    with _SHARED_GUARD:
        turn = _SHARED_TURNS.get(name)
        if turn is None:
            turn = _SHARED_TURNS[name] = threading.RLock()
        return turn


#: What the URL's query gives the SQLite driver itself (SQLAlchemy's pysqlite dialect), not the URI filename.
_DRIVER_OPTIONS = ("uri", "timeout", "isolation_level", "detect_types", "check_same_thread", "cached_statements")


def _uri_options(query: Any) -> list[str]:
    """The options of a URL's query that go to SQLite's URI filename, not to the driver."""
    return [key for key in query if key not in _DRIVER_OPTIONS]


def _flag(value: Any) -> bool:
    """A URL's ``uri=`` value as the SQLite driver reads it (``true``, ``1``, ``yes``, ``on``: set)."""
    return isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on", "y", "t")
