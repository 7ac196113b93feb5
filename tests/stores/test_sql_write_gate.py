"""The SQLite write gate (igniter_nb/stores/sql_lock.py): writers of one file take turns through a lock file
instead of sleeping in SQLite's busy handler — across processes and threads, and past a writer killed mid-turn."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from igniter_nb.stores import SQLStore
from igniter_nb.stores.sql_lock import SUFFIX, WriteGate, gate_for
from tests.stores import gate_workers

PROCESSES = 2
SAVES = 150  # executions per process, each saved twice


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'gate.db'}"


def test_two_processes_without_busy_timeout_never_see_a_locked_database(tmp_path: Path) -> None:
    # busy_timeout_ms=0: without the gate, a save that finds the other process writing fails at once with
    # "database is locked" (and, after its retries, a StoreError). Through the gate no save ever fails.
    url = _url(tmp_path)
    with SQLStore(url) as store:
        store.create_tables()  # the file, WAL mode and tables exist before the writers race
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [ctx.Process(target=gate_workers.save_many, args=(url, f"p{n}", SAVES, barrier, results))
             for n in range(PROCESSES)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert all(o[0] != "error" for o in outcomes), outcomes
    assert [done for done, _, _, _ in outcomes] == [2 * SAVES] * PROCESSES
    assert [errors for _, _, _, errors in outcomes] == [0] * PROCESSES
    # every save, and the worker's create_tables, took its turn through the gate
    assert all(acquired >= 2 * SAVES for _, acquired, _, _ in outcomes)
    assert sum(waited for _, _, waited, _ in outcomes) > 0, "the processes never met at the gate: nothing was tested"
    with SQLStore(url) as store:
        records = store.list(graph="Gate")
        assert len(records) == PROCESSES * SAVES
        assert {(r.version, r.status, r.snapshot["n"]) for r in records} == {
            (2, "succeeded", i + 1) for i in range(SAVES)}
        assert all(len(store.history_records(r.execution_id)) == 2 for r in records)


def test_threads_of_one_store_take_turns(tmp_path: Path) -> None:
    # within the busy timeout a thread waits for the process's turn (one thread at a time reaches the lock file)
    with SQLStore(_url(tmp_path)) as store:
        store.create_tables()
        errors: list[BaseException] = []

        def writer(tag: str) -> None:
            try:
                for i in range(40):
                    eid = f"{tag}-{i}"
                    version = store.save({"execution_id": eid}, expected_version=0, graph="Gate",
                                         correlation={"k": eid}, status="running")
                    store.save({"execution_id": eid}, expected_version=version, graph="Gate", correlation={"k": eid},
                               status="succeeded")
            except BaseException as exc:  # reported to the assertion below
                errors.append(exc)

        before = store._gate.acquired if store._gate else 0
        threads = [threading.Thread(target=writer, args=(f"t{n}",)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        assert len(store.list(graph="Gate", status="succeeded")) == 160
        assert store._gate is not None and store._gate.acquired - before == 320


def test_a_writer_killed_holding_the_gate_does_not_block_the_others(tmp_path: Path) -> None:
    url = _url(tmp_path)
    ctx = multiprocessing.get_context("spawn")
    held = ctx.Event()
    holder = ctx.Process(target=gate_workers.hold_the_gate, args=(url, held))
    holder.start()
    try:
        assert held.wait(60), "the holder never took the gate"
        with SQLStore(url) as store:
            saved: list[int] = []
            saver = threading.Thread(target=lambda: saved.append(store.save({"execution_id": "after"})))
            saver.start()
            while store._gate is not None and store._gate.waited == 0 and saver.is_alive():
                saver.join(0.01)  # until the save waits for the holder's turn
            assert holder.pid is not None
            os.kill(holder.pid, signal.SIGKILL)  # the kernel releases its lock
            saver.join(60)
            assert not saver.is_alive(), "the save still waits for a killed writer's turn"
            assert saved == [1]
            assert store._gate is not None and store._gate.waited == 1
            assert store.record("after").version == 1
    finally:
        holder.kill()
        holder.join(10)


def test_the_gate_is_reentrant_within_a_thread(tmp_path: Path) -> None:
    gate = WriteGate(str(tmp_path / "x.db"), timeout=1.0)
    with gate.turn() as outer, gate.turn() as inner:
        assert (outer, inner) == (True, True)
    assert gate.acquired == 1
    assert (tmp_path / f"x.db{SUFFIX}").exists()
    gate.close()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file:x.db?mode=memory&uri=true",
                                 "postgresql+psycopg://u@localhost/db"])
def test_no_gate_where_there_is_no_file_to_share(url: str) -> None:
    import sqlalchemy as sa

    assert gate_for(sa.make_url(url), 1.0) is None


def test_no_lock_file_no_gate_and_saves_still_work(tmp_path: Path, monkeypatch: Any) -> None:
    store = SQLStore(_url(tmp_path))
    assert store._gate is not None
    # the lock file cannot be made (a read-only directory, say): writers wait in SQLite's busy handler as before
    monkeypatch.setattr(store._gate, "path", str(tmp_path / "missing-dir" / "gate.db-igniter.lock"))
    assert store.save({"execution_id": "a"}) == 1
    assert store.save({"execution_id": "a"}, expected_version=1) == 2
    assert store._gate.acquired == 0
    store.close()


def test_a_forked_child_takes_its_own_turn(tmp_path: Path) -> None:
    # forked while a thread of the parent holds the turn: the child's copy of the thread lock is held by a thread
    # that does not exist there, and its inherited descriptor shares the parent's lock — it starts afresh, waits
    # for the parent's writer (a lock of its own on the file), then saves
    store = SQLStore(_url(tmp_path))
    store.create_tables()
    gate = store._gate
    assert gate is not None
    taken, release = threading.Event(), threading.Event()

    def holder() -> None:
        with gate.turn():
            taken.set()
            release.wait(60)

    thread = threading.Thread(target=holder)
    thread.start()
    assert taken.wait(30)
    pid = os.fork()
    if pid == 0:  # the child: exit code 0 only if it waited for the parent's turn and then saved
        code = 1
        signal.alarm(60)  # a child that hangs dies instead of hanging the test
        try:
            waited_before = gate.waited
            saved = store.save({"execution_id": "child"})
            code = 0 if (saved == 1 and gate.waited == waited_before + 1) else 2
        finally:
            os._exit(code)
    try:
        # the child waits on the file lock while the parent's writer holds it: it has neither saved nor exited
        threading.Event().wait(0.5)
        assert os.waitpid(pid, os.WNOHANG) == (0, 0), "the child did not wait for the parent's turn"
        assert "child" not in {r.execution_id for r in store.list()}
        release.set()
        thread.join(30)
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        assert store.record("child").version == 1
    finally:
        release.set()
        store.close()



def test_the_lock_file_is_opened_without_write_access(tmp_path: Path, monkeypatch: Any) -> None:
    # flock needs no write access, so a lock file another user made (and this one may only read) still works
    import igniter_nb.stores.sql_lock as sql_lock

    flags: list[int] = []
    real_open = os.open

    def recording_open(path: Any, flag: int, *args: Any) -> int:
        if str(path).endswith(SUFFIX):
            flags.append(flag)
        return real_open(path, flag, *args)

    monkeypatch.setattr(sql_lock.os, "open", recording_open)
    with SQLStore(_url(tmp_path)) as store:
        assert store.save({"execution_id": "a"}) == 1
    assert len(flags) == 1
    assert flags[0] & (os.O_WRONLY | os.O_RDWR) == 0


def test_a_stopped_holder_makes_a_waiter_give_up_after_the_timeout(tmp_path: Path) -> None:
    # a process that holds the file's lock and does not let go (stopped, not dead): another process's writer
    # tries for a while (the busy timeout, at least 30 s; 0.2 s here), then goes on without the turn (to SQLite's own wait) instead of hanging
    import fcntl

    from igniter_nb.stores.sql_lock import WriteGate

    db = tmp_path / "db.sqlite"
    gate = WriteGate(str(db), timeout=0.2, give_up_after=0.2)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the holder: takes the lock file's lock, says so, and keeps it until killed
        try:
            fd = os.open(str(db) + SUFFIX, os.O_RDONLY | os.O_CREAT, 0o666)
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(write, b"x")
            signal.pause()
        finally:
            os._exit(0)
    try:
        assert os.read(read, 1) == b"x"
        with gate.turn() as held:
            assert held is False
        assert gate.waited == 1 and gate.acquired == 0
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read)
        os.close(write)
    with gate.turn() as held:  # the holder died: its lock went with it
        assert held is True
    assert gate.acquired == 1
    gate.close()
