"""A store that fails a request for its own reasons — a read-only store, a file it finds damaged, a folder it cannot
move — raised a ``StoreError`` that the server answered 422, "anything else wrong with the request", with the
store's message (its directory and file paths) in the body: the client was told to fix a request that was fine.
It is now the documented 503 ``StoreUnavailable`` with ``Retry-After``, the store's message in the server's log
only; what the client caused (an unknown execution: 404, a lost compare-and-set: 409, a bad argument: 422) is
unchanged. Real uvicorn, real files."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

import igniter_nb as ig
from igniter_nb.errors import ConcurrencyError, SnapshotNotFoundError, StoreArgumentError, StoreError
from igniter_nb.server.routing import status_for
from tests.server.pid_contracts import CONTRACTS as PIDS


def _answers(server: Any, eid: str) -> list[httpx.Response]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        return [http.post("/v1/contracts/worker_pid/execute", json={"inputs": {"n": 2}}),
                http.get(f"/v1/executions/{eid}")]


def test_a_read_only_store_refusing_a_write_is_a_503_with_its_paths_in_the_log_only(
        tmp_path: Path, live_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "files"
    writable = ig.stores.FileStore(root, fsync=False)
    writable.save({"execution_id": "ex-1", "graph": "worker_pid", "n": 1})
    server = live_app(ig.server.create_app(PIDS, store=ig.stores.FileStore(root, read_only=True)))
    with caplog.at_level(logging.ERROR, logger="igniter_nb.server"):
        refused, read = _answers(server, "ex-1")
    assert read.status_code == 200, read.text[:300]  # reads still work
    assert refused.status_code == 503, refused.text[:300]
    assert refused.json()["type"] == "StoreUnavailable" and refused.headers["retry-after"] == "1"
    assert str(tmp_path) not in refused.text
    assert str(root) in caplog.text and "read-only" in caplog.text  # the operator sees what and where


def test_a_damaged_store_file_is_a_503_not_a_422(tmp_path: Path, live_app: Any) -> None:
    root = tmp_path / "files"
    store = ig.stores.FileStore(root, fsync=False)
    store.save({"execution_id": "ex-1", "graph": "worker_pid", "n": 1})
    current = next(root.rglob("current.json"))
    current.write_text("[1, 2")
    server = live_app(ig.server.create_app(PIDS, store=ig.stores.FileStore(root, fsync=False)))
    _, read = _answers(server, "ex-1")
    assert read.status_code == 503, read.text[:300]
    assert read.json()["type"] == "StoreUnavailable" and str(tmp_path) not in read.text


@pytest.mark.parametrize(("error", "status"), [
    (SnapshotNotFoundError("no execution 'x'"), 404),
    (ConcurrencyError("lost a compare-and-set"), 409),
    (StoreArgumentError("execution id '' is blank"), 422),
    (StoreError("corrupt store file /srv/x/current.json"), 503),
])
def test_what_the_client_caused_keeps_its_status(error: StoreError, status: int) -> None:
    assert status_for(error) == status
