"""Contracts that import in `igniter-nb serve`'s own process (which checks the target) but raise in each worker
process it starts: what a worker that cannot start looks like (tests/server/test_reuseport.py)."""

from __future__ import annotations

import multiprocessing

from tests.server.pid_contracts import CONTRACTS as _CONTRACTS

if multiprocessing.parent_process() is not None:  # a worker (spawned by uvicorn's supervisor)
    raise RuntimeError("this contracts module refuses to load in a worker")

CONTRACTS = _CONTRACTS
