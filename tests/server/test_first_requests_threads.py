"""A server at its thread limit when an SQLite store's checkpoint thread is due to start (after its first
``EVERY`` commits — the 50th save of a worker): ``Thread.start`` raised ``RuntimeError: can't start new thread``
out of the save that had just committed, so a request whose execution was saved was answered 500 (and the thread,
kept although never started, was never tried again: no checkpoint ran for the life of the process). The save now
stands, the start is tried again after the next ``EVERY`` commits. The thread limit cannot be set for a root test
process (``RLIMIT_NPROC`` does not bind root), so ``Thread.start`` of that one thread raises as the OS would; the
server is real uvicorn on a real SQLite file."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

import igniter_nb as ig
from igniter_nb.stores import SQLStore
from igniter_nb.stores.sql_checkpoint import EVERY
from tests.server.server_contracts import CONTRACTS

NAME = "igniter-sqlite-checkpoint"


def test_a_save_stands_when_its_checkpoint_thread_cannot_start(tmp_path: Path, live_app: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    start = threading.Thread.start

    def at_the_limit(thread: threading.Thread) -> None:
        if thread.name == NAME:
            raise RuntimeError("can't start new thread")
        start(thread)

    with SQLStore(f"sqlite:///{tmp_path / 'x.db'}") as store:
        server = live_app(ig.server.create_app(CONTRACTS, store=store))
        with httpx.Client(base_url=server.url, timeout=30) as http:
            monkeypatch.setattr(threading.Thread, "start", at_the_limit)
            codes = [http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": f"a-{n}"}}).status_code
                     for n in range(EVERY + 1)]  # workflow starts: saved on the hot path, whose commits it counts
            assert codes == [200] * (EVERY + 1)
            assert store.count() == EVERY + 1
            monkeypatch.setattr(threading.Thread, "start", start)  # threads can start again
            codes = [http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": f"b-{n}"}}).status_code
                     for n in range(EVERY)]
            assert codes == [200] * EVERY
        assert any(each.name == NAME for each in threading.enumerate())  # tried again, started


def test_a_request_that_gets_no_thread_is_a_503_server_busy_then_served(tmp_path: Path, live_app: Any,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker's threadpool starts a thread for a request when none is idle (its first requests, a burst): the OS
    refusing it was a 500 — the likeliest cause of the rare 500 on the first ``execute`` of a fresh
    ``igniter-nb serve --workers 2`` under a full test run. Now a 503 ``ServerBusy`` with ``Retry-After``."""
    start = threading.Thread.start

    def at_the_limit(thread: threading.Thread) -> None:
        if thread.name == "AnyIO worker thread":
            raise RuntimeError("can't start new thread")
        start(thread)

    server = live_app(ig.server.create_app(CONTRACTS, store=f"sqlite:///{tmp_path / 'x.db'}"))
    with httpx.Client(base_url=server.url, timeout=30) as http:
        monkeypatch.setattr(threading.Thread, "start", at_the_limit)
        refused = http.post("/v1/contracts/price/execute", json={"inputs": {"total": 2}})
        monkeypatch.setattr(threading.Thread, "start", start)
        served = http.post("/v1/contracts/price/execute", json={"inputs": {"total": 2}})
    assert refused.status_code == 503, refused.text
    assert refused.json()["type"] == "ServerBusy" and refused.headers["retry-after"] == "1"
    assert "thread" in refused.json()["error"]
    assert served.status_code == 200 and served.json()["outputs"]["gross"] == pytest.approx(2.4)
