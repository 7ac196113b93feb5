"""A store that does not answer gets 503 ``StoreUnavailable`` with ``Retry-After`` (not a 500: the request was
fine), and ``igniter-nb serve`` stops at start on a store it cannot read, naming the URL without its password."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import igniter_nb as ig
from igniter_nb.cli import main
from igniter_nb.server.outage import store_outage
from igniter_nb.stores import from_url
from tests.server.conftest import TARGET
from tests.server.server_contracts import CONTRACTS
from tests.services import PostgresServer, RedisServer, dead_port


def _assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["type"] == "StoreUnavailable"
    assert "the store did not answer" in body["error"] and "idempotency_key" in body["error"]
    assert response.headers["retry-after"] == "1"


def _lead_start(client: TestClient, request_id: str) -> Any:
    return client.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": request_id}})


def test_a_sqlite_file_that_cannot_be_opened_is_a_503(tmp_path: Path) -> None:
    store = from_url(f"sqlite:///{tmp_path}/missing/dir/igniter.db")  # create_app does not read the store
    with TestClient(ig.server.create_app(CONTRACTS, store=store), raise_server_exceptions=False) as client:
        _assert_unavailable(_lead_start(client, "r-1"))
        _assert_unavailable(client.get("/v1/executions"))
        assert client.get("/v1/health").status_code == 200  # liveness: the process answers


@pytest.mark.parametrize("kind", ["postgres", "redis"])
def test_a_database_that_goes_away_is_a_503(kind: str) -> None:
    server = (PostgresServer() if kind == "postgres" else RedisServer()).start()
    try:
        store = from_url(server.url)
        with TestClient(ig.server.create_app(CONTRACTS, store=store), raise_server_exceptions=False) as client:
            started = _lead_start(client, "r-1")
            assert started.status_code == 200, started.text
            execution_id = started.json()["execution_id"]
            server.stop()
            _assert_unavailable(_lead_start(client, "r-2"))
            _assert_unavailable(client.post("/v1/contracts/lead/events", json={
                "event": "billing_received", "correlation": {"request_id": "r-1"}, "payload": {"n": 1}}))
            _assert_unavailable(client.get(f"/v1/executions/{execution_id}"))
        store.close()
    finally:
        server.stop()


def test_other_errors_are_not_called_an_outage() -> None:
    import sqlite3

    import sqlalchemy.exc

    assert store_outage(ValueError("bug")) is None
    assert store_outage(sqlite3.IntegrityError("UNIQUE constraint failed")) is None
    wrapped = sqlalchemy.exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("unable to open database file"))
    assert store_outage(wrapped) is wrapped
    try:  # a store's own error raised from a driver's: found along the cause chain
        try:
            raise sqlite3.OperationalError("disk I/O error")
        except sqlite3.OperationalError as exc:
            raise RuntimeError("while saving") from exc
    except RuntimeError as outer:
        assert isinstance(store_outage(outer), sqlite3.OperationalError)


@pytest.mark.parametrize("url, says", [
    ("sqlite:///{tmp}/missing/dir/igniter.db", "OperationalError"),
    ("postgresql+psycopg://someone:s3cret-pw@127.0.0.1:{port}/db", "OperationalError"),
    ("redis://:s3cret-pw@127.0.0.1:{port}/0", "ConnectionError"),
])
def test_serve_stops_at_start_on_a_store_it_cannot_read(capsys: Any, tmp_path: Path, url: str, says: str) -> None:
    with dead_port() as port:  # nothing listens there, nor can meanwhile
        assert main(["serve", TARGET, "--store", url.format(tmp=tmp_path, port=port)]) == 2
    err = capsys.readouterr().err
    assert "the store cannot be read" in err and says in err
    assert "s3cret-pw" not in err
    # the store and the cause named once each (it read "StoreError: SQLStore('…'): …: OperationalError: …")
    assert err.count(says) == 1 and "StoreError" not in err and "Store(" not in err, err
    if "s3cret-pw" in url:
        assert "***" in err


class Counting:
    """The app, with the requests that reached it counted by method and path (instrumentation, not a stand-in)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen.append(f"{scope['method']} {scope['path']}")
        await self.app(scope, receive, send)


def test_the_client_retries_a_safe_call_answered_store_unavailable_and_never_execute(
        tmp_path: Path, live_app: Any) -> None:
    import threading

    folder = tmp_path / "not-yet"
    app = Counting(ig.server.create_app(CONTRACTS, store=from_url(f"sqlite:///{folder}/igniter.db")))
    url = live_app(app).url
    with ig.server.Client(url, retries=2) as client:
        with pytest.raises(ig.server.RemoteError) as refused:  # execute is never repeated: it could start two
            client.execute("lead", {"request_id": "r-1"})
        assert refused.value.status_code == 503 and app.seen == ["POST /v1/contracts/lead/execute"]
        app.seen.clear()
        with pytest.raises(ig.server.RemoteError) as down:  # a GET is: 1 + 2 retries, each after Retry-After
            client.executions()
        assert down.value.status_code == 503 and "the store did not answer" in str(down.value)
        assert app.seen == ["GET /v1/executions"] * 3
        app.seen.clear()
        threading.Timer(0.2, folder.mkdir).start()  # the store comes back before the retry (Retry-After: 1)
        assert client.executions()["executions"] == []
        assert app.seen == ["GET /v1/executions"] * 2
