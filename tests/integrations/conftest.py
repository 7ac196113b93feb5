"""Integration fixtures: a real Redis for RQ, real SQLite and PostgreSQL stores set as the default store
(what an RQ worker uses), and a fresh RQ queue per test."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # so `tests.*` imports here and in worker processes
    sys.path.insert(0, _ROOT)

from tests.services import postgres_url, redis_url  # noqa: E402, F401  (session fixtures)

ROOT = _ROOT


@pytest.fixture
def rq_url(request: pytest.FixtureRequest) -> str:
    """The session's Redis, database 5: RQ's keys stay apart from the store tests' namespaces."""
    return str(request.getfixturevalue("redis_url")).rsplit("/", 1)[0] + "/5"


@pytest.fixture
def rq_connection(rq_url: str) -> Iterator[Any]:
    import redis

    conn = redis.Redis.from_url(rq_url)
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def queue(rq_connection: Any) -> Any:
    """A fresh JSON queue with a name of its own, so tests never see each other's jobs."""
    from igniter_nb.integrations.rq import make_queue

    return make_queue(f"igniter-test-{uuid.uuid4().hex[:8]}", connection=rq_connection)


def store_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The URL of a fresh, empty store of ``kind`` — what a worker process gets as ``IGNITER_STORE_URL``.
    PostgreSQL gets a database of its own on the session's server."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / f'store-{uuid.uuid4().hex[:6]}.db'}"
    if kind == "postgres":
        import psycopg

        server = request.getfixturevalue("postgres_url")
        name = f"igniter_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return server.rsplit("/", 1)[0] + "/" + name
    raise ValueError(kind)


@pytest.fixture(params=("sqlite", "postgres"))
def default_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh SQLite (file) or PostgreSQL store, set as igniter_nb's default store for the test."""
    import igniter_nb as ig
    from igniter_nb.stores import from_url

    store = from_url(store_url(request.param, tmp_path, request))
    ig.configure(store=store)
    try:
        yield store
    finally:
        ig.configure(None)
        store.close()


def run_jobs(queue: Any, **work: Any) -> None:
    """Run the queue's jobs in this process with RQ's SimpleWorker, in burst mode (stops when it is empty), built by
    ``igniter_nb.integrations.rq.worker`` as a user would (its stop is the library's own, ``test_rq_stop.py``)."""
    import signal

    from rq import SimpleWorker

    from igniter_nb.integrations.rq import worker

    # (a worker installs its own SIGINT/SIGTERM handlers and leaves them: a later test's Ctrl-C would meet RQ's
    # warm shutdown instead of KeyboardInterrupt)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker(queue.name, connection=queue.connection,
               worker_class=SimpleWorker).work(burst=True, **work)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    """A SQLite file store of this test's own (the webhook tests)."""
    from igniter_nb.stores import SQLStore

    opened = SQLStore(f"sqlite:///{tmp_path / 'hooks.db'}")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def sqlite_default(store: Any) -> Iterator[Any]:
    """The ``store`` fixture's SQLite file, set as igniter_nb's default store (what ``run_jobs``'s worker uses)."""
    import igniter_nb as ig

    ig.configure(store=store)
    try:
        yield store
    finally:
        ig.configure(None)
