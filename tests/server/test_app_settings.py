"""`create_app` / `create_router` read their settings from the IGNITER_* variables when an argument is left at None
(issue 15 point 5): the argument wins, the variable wins over the default; the token never shows."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import igniter_nb as ig
from igniter_nb import settings
from tests.server.server_contracts import CONTRACTS

TOKEN = "tok-7f3a9c1e5b2d"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in settings.VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def restore_logger() -> Iterator[None]:
    logger = logging.getLogger("igniter_nb")
    level = logger.level
    try:
        yield
    finally:
        logger.setLevel(level)


def _client(app: Any) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


def test_the_token_comes_from_the_environment_unless_given(env: pytest.MonkeyPatch, store: Any) -> None:
    env.setenv("IGNITER_SERVER_TOKEN", TOKEN)
    with _client(ig.server.create_app(CONTRACTS, store=store)) as client:
        assert client.get("/v1/health").status_code == 401
        assert client.get("/v1/health", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    with _client(ig.server.create_app(CONTRACTS, store=store, token="given")) as client:  # the argument wins
        assert client.get("/v1/health", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 401
        assert client.get("/v1/health", headers={"Authorization": "Bearer given"}).status_code == 200
    parent = FastAPI()
    parent.include_router(ig.server.create_router(CONTRACTS, store=store), prefix="/igniter")
    with _client(parent) as client:
        assert client.get("/igniter/v1/health").status_code == 401
        assert client.get("/igniter/v1/health", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    env.delenv("IGNITER_SERVER_TOKEN")
    with _client(ig.server.create_app(CONTRACTS, store=store)) as client:  # unset: no token
        assert client.get("/v1/health").status_code == 200


def test_the_token_never_shows(env: pytest.MonkeyPatch, store: Any, caplog: pytest.LogCaptureFixture,
                               restore_logger: None) -> None:
    env.setenv("IGNITER_SERVER_TOKEN", TOKEN)
    env.setenv("IGNITER_LOG_LEVEL", "debug")
    caplog.set_level(logging.DEBUG)
    app = ig.server.create_app(CONTRACTS, store=store)
    shown = [repr(app), repr(app.router.routes), json.dumps(app.openapi()), repr(vars(app.state.igniter))]
    with _client(app) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {TOKEN}x"},
                        {"Authorization": f"Basic {TOKEN}"}):
            answer = client.post("/v1/contracts/price/execute", json={"inputs": {"total": 1}}, headers=headers)
            assert answer.status_code == 401
            shown.append(answer.text + repr(answer.headers))
        ok = client.post("/v1/contracts/price/execute", json={"inputs": {"total": "bad"}},
                         headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 422
        shown.append(ok.text)
    shown.append(caplog.text)
    assert all(TOKEN not in text for text in shown)


def test_the_body_limit_comes_from_the_environment_unless_given(env: pytest.MonkeyPatch, store: Any) -> None:
    body = json.dumps({"inputs": {"total": 1, "rate": 0.1}, "pad": "x" * 400})
    env.setenv("IGNITER_MAX_BODY_BYTES", "300")
    with _client(ig.server.create_app(CONTRACTS, store=store)) as client:
        answer = client.post("/v1/contracts/price/execute", content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 413
    with _client(ig.server.create_app(CONTRACTS, store=store, max_body_bytes=10_000)) as client:
        answer = client.post("/v1/contracts/price/execute", content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code != 413  # the argument wins (the pad is then refused as an unknown field or run)
    env.setenv("IGNITER_MAX_BODY_BYTES", "a lot")
    with pytest.raises(ig.SettingsError, match="IGNITER_MAX_BODY_BYTES='a lot' is not a whole number"):
        ig.server.create_app(CONTRACTS, store=store)


def test_threads_set_the_worker_threadpool_from_the_argument_or_the_environment(env: pytest.MonkeyPatch,
                                                                               store: Any) -> None:
    import anyio.to_thread

    def pool_size(client: Any) -> int:  # the limiter of the app's own event loop (run_in_threadpool's)
        return client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)

    with _client(ig.server.create_app(CONTRACTS, store=store)) as client:
        default = pool_size(client)
        assert client.get("/v1/health").status_code == 200
    with _client(ig.server.create_app(CONTRACTS, store=store, threads=2)) as client:
        assert pool_size(client) == 2 != default
        answer = client.post("/v1/contracts/price/execute", json={"inputs": {"total": 10, "rate": 0.1}})
        assert answer.status_code == 200
    env.setenv("IGNITER_SERVER_THREADS", "3")
    with _client(ig.server.create_app(CONTRACTS, store=store)) as client:
        assert pool_size(client) == 3
    env.setenv("IGNITER_SERVER_THREADS", "lots")
    with pytest.raises(ig.SettingsError, match="IGNITER_SERVER_THREADS='lots' is not a whole number of threads"):
        ig.server.create_app(CONTRACTS, store=store)


def test_threads_0_runs_store_and_contract_work_on_the_event_loop(env: pytest.MonkeyPatch, store: Any) -> None:
    """``threads=0``: the route runs its work on the event loop's thread (no hand-off); by default on a worker
    thread. Told apart by the thread a node runs on against the thread an async route runs on."""
    import threading

    seen: list[int] = []

    class Where(ig.Contract):
        def define(c):
            c.input("x", type=int)
            c.compute("at", depends_on=["x"], call=lambda x: seen.append(threading.get_ident()) or x)
            c.output("at")

    def loop_thread(client: Any) -> int:
        async def ident() -> int:
            return threading.get_ident()
        return int(client.portal.call(ident))

    for threads, on_loop in ((0, True), (None, False), (1, False)):
        seen.clear()
        with _client(ig.server.create_app({"where": Where}, store=store, threads=threads)) as client:
            answer = client.post("/v1/contracts/where/execute", json={"inputs": {"x": 3}})
            assert answer.status_code == 200 and answer.json()["outputs"] == {"at": 3}
            assert client.get(f"/v1/executions/{answer.json()['execution_id']}").status_code == 200
            assert (seen == [loop_thread(client)]) is on_loop, (threads, seen)
    env.setenv("IGNITER_SERVER_THREADS", "0")
    seen.clear()
    with _client(ig.server.create_app({"where": Where}, store=store)) as client:
        assert client.post("/v1/contracts/where/execute", json={"inputs": {"x": 4}}).status_code == 200
        assert seen == [loop_thread(client)]


def test_cors_origins_come_from_the_environment_unless_given(env: pytest.MonkeyPatch, store: Any) -> None:
    preflight = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}
    env.setenv("IGNITER_CORS_ORIGINS", "https://app.example.com, http://localhost:3000")
    with _client(ig.server.create_app(CONTRACTS, store=store)) as client:
        answer = client.options("/v1/contracts/price/execute", headers=preflight)
        assert answer.headers.get("access-control-allow-origin") == "https://app.example.com"
    with _client(ig.server.create_app(CONTRACTS, store=store, cors_origins=["https://other.example.com"])) as client:
        answer = client.options("/v1/contracts/price/execute", headers=preflight)
        assert "access-control-allow-origin" not in answer.headers
    env.delenv("IGNITER_CORS_ORIGINS")
    with _client(ig.server.create_app(CONTRACTS, store=store)) as client:  # unset: CORS off
        assert "access-control-allow-origin" not in client.get("/v1/health", headers=preflight).headers


def test_the_public_url_comes_from_the_environment_unless_given(env: pytest.MonkeyPatch, store: Any) -> None:
    env.setenv("IGNITER_PUBLIC_URL", "https://igniter.example.com/")
    assert ig.server.create_app(CONTRACTS, store=store).state.igniter.public_url == "https://igniter.example.com"
    given = ig.server.create_app(CONTRACTS, store=store, public_url="http://10.0.0.5:8000")
    assert given.state.igniter.public_url == "http://10.0.0.5:8000"
    env.setenv("IGNITER_PUBLIC_URL", "igniter.example.com")
    with pytest.raises(ig.SettingsError, match=r"IGNITER_PUBLIC_URL='igniter\.example\.com' is not this server's"):
        ig.server.create_router(CONTRACTS, store=store)


def test_create_app_applies_the_log_level_to_the_igniter_nb_logger_only(env: pytest.MonkeyPatch, store: Any,
                                                                        restore_logger: None) -> None:
    logging.getLogger("igniter_nb").setLevel(logging.NOTSET)
    root = (logging.getLogger().level, list(logging.getLogger().handlers))
    env.setenv("IGNITER_LOG_LEVEL", "error")
    ig.server.create_app(CONTRACTS, store=store)
    assert logging.getLogger("igniter_nb").level == logging.ERROR
    assert (logging.getLogger().level, list(logging.getLogger().handlers)) == root
