"""The first requests of a server whose SQLite file another program is creating at that instant: a database still
in rollback-journal mode whose write lock another connection holds. SQLite answers the switch to WAL each new
store connection makes with "database is locked" at once, without waiting out the busy timeout — so
``igniter-nb serve`` refused to start ("the store cannot be read"), and a server already running answered its
requests 503 after using up every save attempt in milliseconds. Each connection now tries the switch again for up
to the busy timeout: the requests wait for the lock and succeed. Real SQLite files, a real holder process, real
uvicorn (in a thread, and ``igniter-nb serve --workers 2``)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import igniter_nb as ig
from tests.server.pid_contracts import CONTRACTS as PIDS
from tests.server.server_process import ServerProcess

HELD = 1.0  # seconds the other program holds its write lock

_HOLDER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)  # rollback-journal mode, SQLite's default
connection.execute("BEGIN")
connection.execute("CREATE TABLE IF NOT EXISTS theirs (a)")  # the write lock (RESERVED), held
print("held", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
"""


@pytest.fixture
def holder() -> Iterator[Any]:
    """``hold(path)``: another program creating the SQLite file ``path`` holds its write lock for ``HELD`` s
    (returns once it does); stopped with its process group when the test ends."""
    started: list[subprocess.Popen[str]] = []

    def hold(path: Path) -> None:
        proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path), str(HELD)], stdout=subprocess.PIPE,
                                text=True, start_new_session=True)
        started.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"

    yield hold
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


async def _executes(url: str, n: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        return await asyncio.gather(*(client.post("/v1/contracts/worker_pid/execute", json={"inputs": {"n": i}})
                                      for i in range(n)))


def test_first_requests_wait_for_a_file_another_program_is_creating(tmp_path: Path, live_app: Any,
                                                                    holder: Any) -> None:
    path = tmp_path / "x.db"
    server = live_app(ig.server.create_app(PIDS, store=f"sqlite:///{path}"))  # (opens no file before a request)
    holder(path)
    answers = asyncio.run(_executes(server.url, 8))
    assert [a.status_code for a in answers] == [200] * 8, [a.text[:300] for a in answers if a.status_code != 200]


def test_serve_starts_on_a_file_another_program_is_creating(tmp_path: Path, holder: Any) -> None:
    path = tmp_path / "x.db"
    holder(path)
    server = ServerProcess("tests.server.pid_contracts:CONTRACTS", store=f"sqlite:///{path}", workers=2)
    try:
        server.start()
        answers = asyncio.run(_executes(server.url, 16))
        assert [a.status_code for a in answers] == [200] * 16, [a.text[:300] for a in answers]
    finally:
        server.close()
