"""A contract that answers with the process id of the server worker that ran it (tests/server/test_reuseport.py)."""

from __future__ import annotations

import os

import igniter_nb as ig


class WorkerPid(ig.Contract):
    def define(c):
        c.input("n", type=int)

        @c.compute
        def pid(n):
            return os.getpid()

        c.output("pid")


CONTRACTS = {"worker_pid": WorkerPid}
