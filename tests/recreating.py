"""Deleting an execution and saving it anew under the same id, as tests of that case do, without a reader seeing it
deleted in between. The recreation is two writes; a stream or a ``Follow`` that looks between them rightly sees
the execution deleted and ends (``end`` with reason ``deleted``, ``SnapshotNotFoundError``) — not the case those
tests are about. On a loaded machine the test's thread can be held up between the writes for longer than the
readers' poll interval, so the tests hold the readers still meanwhile:

    with held(store):            # the readers share ``store`` (a GatedSQLStore) in this process
        store.delete(eid); store.save(...)
    with stopped(server.pid):    # the readers are another process (its whole process tree is stopped)
        ...
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from igniter_nb.stores import SQLStore
from tests.polling import wait_for


class GatedSQLStore(SQLStore):
    """A real SQLite store whose reads wait while ``gate`` is held by another thread (see :func:`held`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = threading.RLock()  # re-entrant: the holder's own writes and reads go on

    def version_of(self, execution_id: str) -> int | None:
        with self.gate:
            return super().version_of(execution_id)

    def record(self, execution_id: str) -> Any:
        with self.gate:
            return super().record(execution_id)

    def history_records(self, execution_id: str) -> Any:
        with self.gate:
            return super().history_records(execution_id)

    def exists(self, execution_id: str) -> bool:
        with self.gate:
            return super().exists(execution_id)


@contextlib.contextmanager
def held(store: GatedSQLStore) -> Iterator[GatedSQLStore]:
    """No other thread reads ``store`` while this block runs (a read under way is finished first)."""
    with store.gate:
        yield store


@contextlib.contextmanager
def stopped(pid: int) -> Iterator[None]:
    """Process ``pid`` and its descendants stopped (SIGSTOP; every thread of them seen stopped before the block
    runs, so no read of theirs is under way), continued (SIGCONT) after it."""
    from tests.server.server_process import process_tree

    pids = process_tree(pid)
    for each in pids:
        os.kill(each, signal.SIGSTOP)
    try:
        wait_for(lambda: all(_all_threads_stopped(each) for each in pids), f"processes {pids} stopped", timeout=30)
        yield
    finally:
        for each in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(each, signal.SIGCONT)


def _all_threads_stopped(pid: int) -> bool:
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:  # gone
        return True
    states = []
    for task in tasks:
        with contextlib.suppress(OSError):
            states.append((task / "stat").read_text().rsplit(")", 1)[1].split()[0])
    return all(state in ("T", "t", "Z", "X") for state in states)
