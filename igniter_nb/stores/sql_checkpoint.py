"""When a SQLite file's write-ahead log is copied back into the database: on a thread of its own, not in a commit.

SQLite checkpoints by itself: the commit that takes the WAL past 1,000 pages copies them into the database file
and fsyncs it — with ``synchronous=NORMAL`` the only fsync a writer ever waits for — while that writer still holds
the write lock, so every writer queued behind it waits as well. Under ``bench/server.py`` that was ~2 % of the
commits, each ~10 ms, and two thirds of all the time spent committing. The hot path's connections
(``stores/sql_hot.py``) therefore run with ``wal_autocheckpoint = 0``, and every :data:`EVERY` of their commits
wake this store's checkpointer: a daemon thread that runs ``PRAGMA wal_checkpoint(PASSIVE)`` on a connection of
its own — a checkpoint that never waits for, and never blocks, readers or writers, and copies what it can.

Nothing about durability changes (a committed transaction is in the WAL either way; the checkpoint only moves it).
SQLite's other connections (the store's SQLAlchemy pool: listings, the long save path) keep their automatic
checkpoints, and the last connection to close a database checkpoints it as before. A checkpoint that fails (a
full disk, say) is logged at debug level and tried again after the next :data:`EVERY` commits; the WAL then
grows until one succeeds, as it would with SQLite's own checkpoints failing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import Any

log = logging.getLogger("igniter_nb.stores")

#: Commits of the hot path between two checkpoints (a delivery of a small workflow writes ~20 WAL pages: ~1,000
#: pages, SQLite's own interval, every 50 commits).
EVERY = 50


class Checkpointer:
    """The checkpoints of one store's SQLite file, on a daemon thread started by the first :meth:`committed`."""

    def __init__(self, connect: Any) -> None:
        self._connect = connect  # () -> a DBAPI connection of the store's engine, ours to keep
        self._commits = 0
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._closed = False
        self._start_lock = threading.Lock()
        self.checkpoints = 0  # run (whatever they copied), for tests

    def committed(self) -> None:
        """A hot-path commit happened (called after it, outside the writers' turn)."""
        self._commits += 1  # approximate across threads (no lock): a checkpoint a few commits late is harmless
        if self._commits >= EVERY:
            self._commits = 0
            self.request()

    def request(self) -> None:
        """Ask for a checkpoint now (the thread runs it; this call does not wait)."""
        if self._closed:
            return
        if self._thread is None or os.getpid() != self._pid:
            try:
                self._start()
            except RuntimeError as exc:  # "can't start new thread": the process is at its thread limit
                # Called after a commit: the save happened, and must not be answered as failed (a server's 500)
                # because its checkpoint could not be handed to a thread. The next EVERY commits try again.
                log.warning("SQLite checkpoint thread could not start (tried again after %d commits): %s", EVERY, exc)
                return
        self._wake.set()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is not None and os.getpid() == self._pid:
                return
            wake = threading.Event()
            thread = threading.Thread(target=self._run, args=(wake,), name="igniter-sqlite-checkpoint", daemon=True)
            thread.start()  # (kept only once started: a thread that never started is tried again)
            self._pid = os.getpid()  # a forked child: the parent's thread does not exist here
            self._wake, self._thread = wake, thread

    def _run(self, wake: threading.Event) -> None:
        conn = None
        try:
            while True:
                wake.wait()
                wake.clear()
                if self._closed:
                    return
                try:
                    if conn is None:
                        conn = self._connect()
                        conn.execute("PRAGMA wal_autocheckpoint = 0")
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except Exception as exc:  # a full disk, a database being deleted...: SQLite's own would fail too
                    log.debug("SQLite checkpoint failed: %s", exc)
                    if conn is not None:
                        with contextlib.suppress(Exception):
                            conn.close()
                    conn = None
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread (after the checkpoint it may be running) and close its connection."""
        self._closed = True
        self._wake.set()
        thread = self._thread
        if thread is not None and os.getpid() == self._pid and thread is not threading.current_thread():
            thread.join(timeout)


__all__ = ["EVERY", "Checkpointer"]
