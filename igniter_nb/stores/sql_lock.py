"""How the writers of one SQLite file take turns without sleeping: a lock file beside the database.

SQLite has one write lock per database. A writer that finds it taken does not wait on it: SQLite's busy handler
sleeps and tries again, in steps of 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms, so under contention (the
threads of a server worker, and several worker processes, saving at once) a waiting writer wakes up to 100 ms
after the lock came free, and the lock sits idle meanwhile. :class:`WriteGate` puts writers of one store file in
a queue that wakes the next one as soon as the holder lets go: a thread lock within the process, then
``flock`` on ``<database>-igniter.lock`` across processes (a waiter tries again after pauses of at most 1 ms, and
the kernel releases the lock of a process that dies, SIGKILL included). A writer holds the gate only around its ``BEGIN IMMEDIATE`` ...
``COMMIT``, which runs SQL only (no user code).

What it does not change: SQLite's own locking still decides. A writer that does not take the gate (another
program, an older release) is waited for by SQLite's busy handler as before; a thread that cannot get the
process's gate, or the file's lock, within the busy timeout goes on without it, to SQLite's own wait and its "database is locked"
error. The lock file is never read or written, only locked: it is empty, and may be deleted when no process has
the database open. Never opened: the database file itself (closing a descriptor of it would drop SQLite's own
POSIX locks of the process). No gate for an in-memory database, a URI filename, or where the lock file cannot be
made (a read-only directory): writers then wait in SQLite's busy handler as before.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

#: Appended to the database path to name the lock file.
SUFFIX = "-igniter.lock"
#: The least time a writer waits for another process's turn before it goes on without (seconds).
LEAST_WAIT = 30.0


class WriteGate:
    """The turn of one writer of the SQLite file ``path`` at a time (see the module docstring). Re-entrant within
    a thread. ``acquired`` counts the turns taken through the gate (not around it), ``waited`` those of them that
    found another process's writer holding the file's lock and waited for it."""

    def __init__(self, path: str, *, timeout: float, give_up_after: float | None = None) -> None:
        self.path = os.path.abspath(path) + SUFFIX
        self.timeout = timeout
        #: How long a writer waits for another process's turn before going on without it: the busy timeout,
        #: but at least :data:`LEAST_WAIT` (a busy timeout of 0 still means taking turns, not failing at once).
        self.give_up_after = max(timeout, LEAST_WAIT) if give_up_after is None else give_up_after
        self.acquired = 0
        self.waited = 0
        self._pid = os.getpid()
        self._local = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._fd_lock = threading.Lock()

    @contextlib.contextmanager
    def turn(self) -> Iterator[bool]:
        """Hold the gate for the body (yields True), or yield False without it: when the process's other writers
        kept it past the busy timeout, or the lock file cannot be opened — SQLite's own wait decides then."""
        if os.getpid() != self._pid:
            self._after_fork()
        if not self._local.acquire(timeout=self.timeout):
            yield False
            return
        try:
            if self._depth == 0:
                fd = self._descriptor()
                if fd is None:
                    yield False
                    return
                import fcntl

                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    self.waited += 1
                    if not _wait_for(fd, self.give_up_after):
                        yield False  # a holder that is stopped, not dead: SQLite's own wait and error decide
                        return
                self.acquired += 1
                self._depth = 1
                try:
                    yield True
                finally:
                    self._depth = 0
                    fcntl.flock(fd, fcntl.LOCK_UN)
            else:  # the same thread, inside its own turn
                self._depth += 1
                try:
                    yield True
                finally:
                    self._depth -= 1
        finally:
            self._local.release()

    def _descriptor(self) -> int | None:
        fd = self._fd
        if fd is not None:
            return fd
        with self._fd_lock:
            if self._fd is None:
                # read-only is enough for flock (another user's lock file works too); not inherited by child
                # programs (os.open's default); a forked child opens its own
                try:
                    self._fd = os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o666)
                except OSError:
                    return None
            return self._fd

    def _after_fork(self) -> None:
        """A forked child: the parent's thread lock may be held by a thread that does not exist here, and the
        inherited descriptor shares the parent's lock (unlocking it would unlock the parent's): start afresh."""
        with contextlib.suppress(Exception):
            if self._fd is not None:
                _inherited.append(self._fd)  # never unlocked or closed here
        self._fd = None
        self._local = threading.RLock()
        self._fd_lock = threading.Lock()
        self._depth = 0
        self._pid = os.getpid()

    def close(self) -> None:
        """Close the lock file's descriptor (a turn taken afterwards opens it again)."""
        with self._fd_lock:
            fd, self._fd = self._fd, None
        if fd is not None and os.getpid() == self._pid:
            with contextlib.suppress(OSError):
                os.close(fd)


_inherited: list[int] = []

#: Pauses between tries while another process holds the lock file: short at first (a save holds it for well
#: under a millisecond), never longer than 1 ms, so a waiter starts at most ~1 ms after the lock came free.
_PAUSES = (0.00005, 0.0001, 0.0002, 0.0005)


def _wait_for(fd: int, timeout: float) -> bool:
    """Take the lock of ``fd`` within ``timeout`` seconds (True), or give up (False). Tries again after short
    pauses instead of one blocking ``flock``, which has no timeout: a holder that is stopped (SIGSTOP, a
    debugger), not dead, would otherwise block every writer of the file for as long as it stays stopped."""
    import fcntl
    import time

    deadline = time.monotonic() + timeout
    tries = 0
    while True:
        time.sleep(_PAUSES[tries] if tries < len(_PAUSES) else 0.001)
        tries += 1
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False


def gate_for(url: Any, timeout: float) -> WriteGate | None:
    """The gate of a SQLite file database (a SQLAlchemy URL), or None (in-memory, URI filenames, not SQLite)."""
    if url.get_backend_name() != "sqlite":
        return None
    try:
        import fcntl  # noqa: F401  (POSIX only: elsewhere SQLite's busy handler, as before)
    except ImportError:
        return None
    database = url.database
    if database in (None, "", ":memory:") or database.startswith("file:") or url.query.get("uri"):
        return None
    return WriteGate(database, timeout=timeout)


__all__ = ["LEAST_WAIT", "SUFFIX", "WriteGate", "gate_for"]
