"""Change-feed wake-ups for ``SQLStore`` on PostgreSQL: ``NOTIFY`` from a trigger, one ``LISTEN`` connection per store.

Installed on the first ``subscribe_changes`` (under an advisory lock, once per database and table prefix):

* ``<prefix>feed_watchers`` — an UNLOGGED table of ``(execution_id, listener)``: which executions some process is
  watching, ``listener`` being the backend pid of that process's LISTEN connection;
* ``<prefix>feed_notify()`` and a trigger of that name ``AFTER INSERT OR UPDATE OR DELETE ON <prefix>executions``:
  when the execution is watched, ``pg_notify('<prefix>feed', '<execution id> <version>')`` (version 0 = deleted).

The trigger runs inside the saving statement's transaction and PostgreSQL delivers a NOTIFY only when that
transaction commits, so no listener wakes before the new version is readable — and no save path of the store
changes. Unwatched executions send nothing: a NOTIFY makes committing transactions queue on one cluster-wide lock,
held across the commit's WAL flush, which cut 8 concurrent savers to a third of their rate when every save
notified (docs/stores.md has the figures).

Each ``SQLStore`` object that is watched holds one extra connection (LISTEN) and one daemon thread, however many
watchers it serves; registrations of a listener that died with its process are dropped by the next listener to
start. After a lost connection the thread reconnects, registers again and wakes every watcher to re-read.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import zlib
from typing import TYPE_CHECKING, Any

from igniter_nb.errors import StoreError
from igniter_nb.stores.changes import ChangeHub, ChangeSubscription, attached_listener

if TYPE_CHECKING:
    from igniter_nb.stores.sql import SQLStore

log = logging.getLogger(__name__)

_PREFIX = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")  # spliced into SQL and a channel name: keep it plain
_TICK = 0.25  # the listener thread's longest sleep: how late it drops registrations and notices close()
_RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)

_FUNCTION = """
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $feed$
DECLARE
  changed_id text;
  changed_version integer;
BEGIN
  IF TG_OP = 'DELETE' THEN
    changed_id := OLD.execution_id;
    changed_version := 0;
  ELSE
    changed_id := NEW.execution_id;
    changed_version := NEW.version;
  END IF;
  IF EXISTS (SELECT 1 FROM {watchers} WHERE execution_id = changed_id) THEN
    PERFORM pg_notify('{channel}', changed_id || ' ' || changed_version);
  END IF;
  RETURN NULL;
END
$feed$
"""


def changes_of(store: SQLStore) -> PostgresChanges:
    """The store's listener, created on first use (kept on the store; closed by ``store.close()``)."""
    return attached_listener(store, PostgresChanges)


class PostgresChanges:
    """LISTEN/NOTIFY wake-ups of one ``SQLStore``: :meth:`subscribe` hands out subscriptions, a daemon thread
    dispatches the notifications."""

    def __init__(self, store: SQLStore) -> None:
        prefix = store.table_prefix
        if not _PREFIX.match(prefix):
            raise StoreError(f"table prefix {prefix!r} is not plain (letters, digits, '_'): no LISTEN/NOTIFY for it")
        quote = store.engine.dialect.identifier_preparer.quote
        self._store = store
        self._executions = quote(f"{prefix}executions")
        self._watchers = quote(f"{prefix}feed_watchers")
        self._trigger_name = f"{prefix}feed_notify"
        self._function = quote(self._trigger_name)
        self.channel = f"{prefix}feed"
        self._lock_key = zlib.crc32(f"igniter_nb.stores.feed:{prefix}".encode()) & 0x7FFFFFFF
        self.hub = ChangeHub(register=self._register, unregister=self._unregister)
        self._start_lock = threading.Lock()
        self._closing = threading.Event()
        self._conn: Any = None  # the psycopg connection that LISTENs
        self.listener_pid: int | None = None
        self._thread: threading.Thread | None = None

    def subscribe(self, execution_id: str) -> ChangeSubscription:
        """A subscription woken by every committed save or delete of ``execution_id`` in any process."""
        self._start()
        return self.hub.subscribe(execution_id)

    def close(self) -> None:
        """Stop the thread, drop this listener's registrations and close its connection."""
        self._closing.set()
        if self._thread is not None:
            self._thread.join(5)
        with contextlib.suppress(Exception):  # the database may be gone; the next listener cleans up then
            self._execute(f"DELETE FROM {self._watchers} WHERE listener = :pid", pid=self.listener_pid)
        self._disconnect()

    # ------------------------------------------------------------------------------------------- set-up

    def _start(self) -> None:
        with self._start_lock:
            if self._closing.is_set():
                raise StoreError("the store is closed")
            if self._thread is not None:
                return
            self._install()
            self._connect()
            self._thread = threading.Thread(target=self._run, name=f"igniter-feed-{self.channel}", daemon=True)
            self._thread.start()

    def _install(self) -> None:
        """Create the watchers table, the function and the trigger unless they exist (once per database)."""
        import sqlalchemy as sa

        if not self._store._ready:
            self._store.create_tables()
        with self._store.engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": self._lock_key})
            # (only when missing: PostgreSQL wants the schema's CREATE right even for IF NOT EXISTS, which a role
            # granted only the use of tables its owner made does not have)
            if conn.execute(sa.text("SELECT to_regclass(:rel)"), {"rel": self._watchers}).scalar() is None:
                conn.exec_driver_sql(
                    f"CREATE UNLOGGED TABLE IF NOT EXISTS {self._watchers} (execution_id VARCHAR(200) NOT NULL, "
                    "listener INTEGER NOT NULL, PRIMARY KEY (execution_id, listener))"
                )
            found = conn.execute(
                sa.text("SELECT 1 FROM pg_trigger WHERE tgname = :name AND tgrelid = to_regclass(:rel)"),
                {"name": self._trigger_name, "rel": self._executions},
            ).first()
            if found is None:
                conn.exec_driver_sql(_FUNCTION.format(function=self._function, watchers=self._watchers,
                                                      channel=self.channel))
                conn.exec_driver_sql(
                    f"CREATE TRIGGER {self._function} AFTER INSERT OR UPDATE OR DELETE ON {self._executions} "
                    f"FOR EACH ROW EXECUTE FUNCTION {self._function}()"
                )

    def _connect(self) -> None:
        from psycopg import sql

        raw = self._store.engine.raw_connection()
        conn: Any = raw.driver_connection
        raw.detach()  # ours for good: a LISTEN session must not go back to the pool
        try:
            conn.rollback()
            conn.autocommit = True
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            pid = int(conn.info.backend_pid)
            # Registrations of listeners whose session is gone (a killed process) would only cause useless
            # NOTIFYs: drop them.
            conn.execute(sql.SQL("DELETE FROM {} WHERE listener NOT IN (SELECT pid FROM pg_stat_activity)").format(
                sql.SQL(self._watchers)))
        except BaseException:
            conn.close()
            raise
        self._conn, self.listener_pid = conn, pid

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    # ------------------------------------------------------------------------------------------- registration

    def _execute(self, statement: str, **params: Any) -> None:
        import sqlalchemy as sa

        with self._store.engine.begin() as conn:
            conn.execute(sa.text(statement), params)

    def _register(self, execution_id: str) -> None:
        self._execute(f"INSERT INTO {self._watchers} (execution_id, listener) VALUES (:eid, :pid) "
                      "ON CONFLICT DO NOTHING", eid=execution_id, pid=self.listener_pid)

    def _unregister(self, execution_id: str) -> None:
        self._execute(f"DELETE FROM {self._watchers} WHERE execution_id = :eid AND listener = :pid",
                      eid=execution_id, pid=self.listener_pid)

    # ------------------------------------------------------------------------------------------- the thread

    def _run(self) -> None:
        while not self._closing.is_set():
            try:
                for note in self._conn.notifies(timeout=_TICK):
                    self.hub.publish(note.payload.partition(" ")[0])
                self.hub.sweep()
            except Exception as exc:
                if self._closing.is_set():
                    return
                log.warning("change feed: lost the LISTEN connection of %r (%s); reconnecting", self._store, exc)
                self.hub.publish_all()  # a notification may have been missed: let every watcher re-read
                self._reconnect()

    def _reconnect(self) -> None:
        self._disconnect()
        attempt = 0
        while not self._closing.wait(_RECONNECT_DELAYS[min(attempt, len(_RECONNECT_DELAYS) - 1)]):
            attempt += 1
            try:
                self._connect()
                self.hub.reregister()  # under the new session's pid
            except Exception as exc:
                self._disconnect()
                log.warning("change feed: reconnecting to %r failed (%s)", self._store, exc)
                continue
            self.hub.publish_all()
            return
