"""Server test fixtures: the app in-process (`app`, `client`), apps under uvicorn in a thread (`live_app`) and real
`igniter-nb serve` processes (`serve`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # so `tests.*` imports here and in the served subprocesses
    sys.path.insert(0, _ROOT)

from tests.server.live_server import LiveServer  # noqa: E402
from tests.server.server_contracts import CONTRACTS  # noqa: E402
from tests.server.server_process import ServerProcess  # noqa: E402
from tests.server.sse_peer import SsePeer  # noqa: E402
from tests.services import postgres_url, redis_url  # noqa: E402, F401  (session fixtures)

TARGET = "tests.server.server_contracts:CONTRACTS"


@pytest.fixture
def store() -> Iterator[Any]:
    from igniter_nb.stores import MemoryStore

    with MemoryStore() as opened:
        yield opened


@pytest.fixture
def app(store: Any) -> Any:
    import igniter_nb as ig

    return ig.server.create_app(CONTRACTS, store=store)


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def serve() -> Iterator[Callable[..., ServerProcess]]:
    """Start `igniter-nb serve` processes (``serve(target=TARGET, store=..., workers=..., token=...)``);
    every one is stopped when the test ends."""
    started: list[ServerProcess] = []

    def start(target: str = TARGET, **kw: Any) -> ServerProcess:
        server = ServerProcess(target, **kw)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.close()


@pytest.fixture
def live_app() -> Iterator[Callable[..., LiveServer]]:
    """Serve ASGI apps under uvicorn in threads of this process (``live_app(app)`` -> started ``LiveServer``);
    every one is stopped when the test ends."""
    started: list[LiveServer] = []

    def start(app: Any, **kw: Any) -> LiveServer:
        server = LiveServer(app, **kw)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def peer() -> Iterator[Callable[..., SsePeer]]:
    """Raw server-sent-events peers on 127.0.0.1 (``peer(script, ...)`` -> started ``SsePeer``, each script a list
    of byte pieces and pauses for one connection); every one is stopped when the test ends."""
    started: list[SsePeer] = []

    def start(*scripts: list[bytes | float], **kw: Any) -> SsePeer:
        server = SsePeer(list(scripts), **kw).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def runs(monkeypatch: Any) -> dict[str, dict[str, Any]]:
    """What ``serve()`` asks of uvicorn, by path taken, recorded instead of served: ``shared`` (one worker, or
    workers sharing uvicorn's socket), ``reuseport`` and ``supervisor`` (with the port each was given)."""
    import uvicorn

    from igniter_nb.server import balance, reuseport

    given: dict[str, dict[str, Any]] = {}
    monkeypatch.setattr(os, "environ", dict(os.environ))  # serve() passes its settings to the workers there
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: given.update(shared=kw))  # one worker
    monkeypatch.setattr(reuseport, "run_shared", lambda app, **kw: given.update(shared=kw))  # workers share one socket
    monkeypatch.setattr(reuseport, "run",
                        lambda app, held, **kw: given.update(reuseport={**kw, "port": held.getsockname()[1]}))
    monkeypatch.setattr(balance, "run",
                        lambda app, listener, **kw: given.update(supervisor={**kw, "port": listener.getsockname()[1]}))
    return given
