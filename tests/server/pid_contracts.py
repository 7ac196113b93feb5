"""Contracts that answer with the process id of the server worker that ran them (tests/server/test_reuseport.py,
tests/server/test_balance.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import igniter_nb as ig


class WorkerPid(ig.Contract):
    def define(c):
        c.input("n", type=int)

        @c.compute
        def pid(n):
            return os.getpid()

        c.output("pid")


class SlowWorkerPid(ig.Contract):
    """Writes the file ``started`` names once it runs, then answers after ``seconds``: a request in flight that
    a test can wait for without guessing how long it takes to arrive."""

    def define(c):
        c.input("started", type=str)
        c.input("seconds", type=float)

        @c.compute
        def pid(started, seconds):
            Path(started).write_text(str(os.getpid()))
            time.sleep(seconds)
            return os.getpid()

        c.output("pid")


CONTRACTS = {"worker_pid": WorkerPid, "slow_worker_pid": SlowWorkerPid}


def _with_leads() -> dict[str, type[ig.Contract]]:
    from tests.server.server_contracts import CONTRACTS as LEADS

    return {**LEADS, "slow_worker_pid": SlowWorkerPid}


# tests/server/test_process_failure.py: the Lead workflow its clients deliver to, and a slow request to cut short
WITH_LEADS = _with_leads()
