"""A SQLite file that stops being a database under a running server (overwritten, truncated, damaged): SQLite says
``DatabaseError: file is not a database`` (or ``database disk image is malformed``), the base class of its errors,
which the server did not take for the store failing — an ``execute`` and a listing answered 500, reading an
execution 422 (a ``StoreError`` naming the file, as if the request were wrong). Each is now the documented 503
``StoreUnavailable`` with ``Retry-After``, the driver's message in the log only. Real uvicorn, a real SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx

import igniter_nb as ig
from igniter_nb.server.outage import store_outage
from tests.server.pid_contracts import CONTRACTS as PIDS


def test_a_database_file_overwritten_under_the_server_is_a_503_on_every_route(tmp_path: Path,
                                                                               live_app: Any) -> None:
    path = tmp_path / "x.db"
    server = live_app(ig.server.create_app(PIDS, store=f"sqlite:///{path}"))
    with httpx.Client(base_url=server.url, timeout=30) as http:
        eid = http.post("/v1/contracts/worker_pid/execute", json={"inputs": {"n": 1}}).json()["execution_id"]
        for each in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            if each.exists():
                with each.open("r+b") as damaged:
                    damaged.write(b"not a database, " * 512)
        answers = [http.post("/v1/contracts/worker_pid/execute", json={"inputs": {"n": 2}}),
                   http.get(f"/v1/executions/{eid}"), http.get("/v1/executions")]
    for answer in answers:
        assert answer.status_code == 503, (answer.request.url, answer.text[:300])
        assert answer.json()["type"] == "StoreUnavailable" and answer.headers["retry-after"] == "1"
        assert str(tmp_path) not in answer.text  # the file's path goes to the log only


def test_only_sqlites_base_error_itself_is_an_outage_not_its_subclasses() -> None:
    damaged = sqlite3.DatabaseError("file is not a database")
    assert store_outage(damaged) is damaged
    assert store_outage(sqlite3.IntegrityError("UNIQUE constraint failed")) is None
    assert store_outage(sqlite3.ProgrammingError("Cannot operate on a closed database.")) is None
