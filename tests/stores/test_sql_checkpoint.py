"""SQLite WAL checkpoints off the commit path (igniter_nb/stores/sql_checkpoint.py): the hot path's commits never
checkpoint; the store's checkpointer thread does, every ``EVERY`` commits, and stops with the store."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import igniter_nb.stores.sql_checkpoint as sql_checkpoint
from igniter_nb.stores import SQLStore

PAD = "x" * 6000  # a few WAL pages per save


def _saves(store: SQLStore, count: int) -> None:
    version = store.save({"execution_id": "e", "pad": PAD}, expected_version=0, graph="G", correlation={"k": 1},
                         status="running")
    for _ in range(count - 1):  # compare-and-set saves: the hot path
        version = store.save({"execution_id": "e", "pad": PAD}, expected_version=version, graph="G",
                             correlation={"k": 1}, status="running")


def _wal_frames(path: Path) -> tuple[int, int]:
    """(frames in the WAL, frames checkpointed) — by a checkpoint of another connection, which copies them all."""
    conn = sqlite3.connect(path)
    try:
        busy, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert busy == 0
        return int(log), int(done)
    finally:
        conn.close()


def test_hot_commits_never_checkpoint(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(sql_checkpoint, "EVERY", 10**9)  # the checkpointer never runs
    path = tmp_path / "c.db"
    with SQLStore(f"sqlite:///{path}") as store:
        store.create_tables()
        _wal_frames(path)  # start from an empty log
        _saves(store, 400)
        frames, _ = _wal_frames(path)
        # SQLite's automatic checkpoint (1,000 pages) would have reset the log on the way: it holds every frame
        assert frames > 1000
        hot = store._hot
        assert hot is not None and hot._checkpointer is not None and hot._checkpointer.checkpoints == 0


def test_the_checkpointer_runs_every_so_many_commits_and_stops_with_the_store(tmp_path: Path,
                                                                              monkeypatch: Any) -> None:
    monkeypatch.setattr(sql_checkpoint, "EVERY", 20)
    path = tmp_path / "c.db"
    store = SQLStore(f"sqlite:///{path}")
    hot = store._hot
    assert hot is not None and hot._checkpointer is not None
    checkpointer = hot._checkpointer
    _saves(store, 100)
    for _ in range(3000):  # it runs on its own thread: wait (bounded) until it has run
        if checkpointer.checkpoints:
            break
        threading.Event().wait(0.01)
    assert 1 <= checkpointer.checkpoints <= 100 // 20
    with sqlite3.connect(path) as conn:  # the hot path's own connections: no automatic checkpoints
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000  # (a new connection: SQLite's)
    conns = list(hot._idle)
    assert conns and all(c.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0 for c in conns)
    thread = checkpointer._thread
    store.close()
    assert thread is not None and not thread.is_alive()
