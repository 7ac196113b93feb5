"""Servers going away and coming back, as real `igniter-nb serve` processes on loopback with SQLite file stores.

Around a remote node: the remote server killed (SIGKILL) while its execution waits, then restarted and finished (it
calls back: the registration is stored); killed while its callback is on the way; the parent server down while
the remote server calls back until its retries are spent. The last two do not lose the resumption silently: the
remote execution's log shows the callback that was not delivered (and the remote server's log names the URL and
the execution), and ``Contract.sync_remote`` on the parent's store resumes the parent once both are back. A remote
server back without its store answers 404: ``sync_remote`` says ``not_found``.

The live stream: ``AsyncClient.events`` across a stop and a restart on the same store (events saved meanwhile come,
none twice), and a stop for good (a ``RemoteConnectionError`` naming the stream's URL)."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.server import RemoteConnectionError
from igniter_nb.stores import MemoryStore, SQLStore
from tests.polling import wait_for
from tests.server.conftest import TARGET
from tests.server.live_server import LiveServer
from tests.server.remote_contracts import PARENT, REMOTE, article
from tests.server.server_contracts import Lead
from tests.server.server_process import ServerProcess
from tests.services import OWN_LISTENER, on_free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TEXT = "Ruby is great and awesome!"
CRM = {"event": "crm_received", "correlation": {"request_id": "r-1"}, "payload": {"name": "Acme"}}
BILLING = {"event": "billing_received", "correlation": {"request_id": "r-1"}, "payload": {"plan": "pro"}}
Serve = Callable[..., ServerProcess]


def _env(**extra: str) -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join([str(ROOT), str(EXAMPLES)]), **extra}


def _article_analysis() -> Any:
    """``ArticleAnalysis`` of examples/server_node1.py, the contract node 1 serves (for ``sync_remote``)."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        return importlib.import_module("server_node1").ArticleAnalysis
    finally:
        sys.path.remove(str(EXAMPLES))


def _kinds(store: SQLStore, execution_id: str) -> list[str]:
    return [e["type"] for e in store.record(execution_id).snapshot["events"] if e["type"].startswith("callback_")]


def _parent_args(port: int, store: str) -> dict[str, Any]:
    """A parent server on ``port``, its own URL there (where callbacks come back: restarted on the same port)."""
    return {"port": port, "store": store, "args": ("--public-url", f"http://127.0.0.1:{port}")}


def test_remote_killed_while_waiting_then_restarted_and_finished_calls_the_parent_back(serve: Serve,
                                                                                     tmp_path: Path) -> None:
    """The registration travels in the remote execution's stored log: the restarted remote server sends it."""
    remote_store, parent_store = f"sqlite:///{tmp_path / 'remote.db'}", f"sqlite:///{tmp_path / 'parent.db'}"
    remote = serve("tests.server.remote_contracts:WAITING", env=_env(), store=remote_store)
    parent = on_free_port(lambda port: serve("server_node1:CONTRACTS", env=_env(NODE2_URL=remote.url),
                                             **_parent_args(port, parent_store)), **OWN_LISTENER)
    with ig.server.Client(parent.url, timeout=10) as client:
        run = client.execute("ArticleAnalysis", {"text": TEXT})
        assert run["status"] == "pending"
        rid = run["pending"][0]["payload"]["remote_execution_id"]
        assert remote.stop(signal.SIGKILL) == -signal.SIGKILL
        remote = serve("tests.server.remote_contracts:WAITING", env=_env(), store=remote_store, port=remote.port)
        with ig.server.Client(remote.url, timeout=10) as remote_client:
            remote_client.deliver_event("SentimentAnalyzer", event="review_done", correlation={"text": TEXT},
                                        payload={"score": 0.6})
        view = wait_for(lambda: (lambda v: v if v["status"] != "pending" else None)(client.status(run["execution_id"])))
    assert view["status"] == "succeeded" and view["outputs"] == {"summary": {"score": 0.6, "tone": "positive"}}
    with SQLStore(remote_store) as remote_db:
        assert wait_for(lambda: _kinds(remote_db, rid)[1:]) == ["callback_sent"]


def test_remote_killed_before_its_callback_is_answered_parent_resumes_by_sync_remote(serve: Serve,
                                                                                       tmp_path: Path) -> None:
    remote_store, parent_store = f"sqlite:///{tmp_path / 'remote.db'}", f"sqlite:///{tmp_path / 'parent.db'}"
    remote = serve("tests.server.remote_contracts:WAITING", env=_env(), store=remote_store)
    parent = on_free_port(lambda port: serve("server_node1:CONTRACTS", env=_env(NODE2_URL=remote.url),
                                             **_parent_args(port, parent_store)), **OWN_LISTENER)
    port = parent.port
    parent_args = {"env": _env(NODE2_URL=remote.url), **_parent_args(port, parent_store)}
    with ig.server.Client(parent.url, timeout=10) as client:
        run = client.execute("ArticleAnalysis", {"text": TEXT})
    assert run["status"] == "pending"
    rid = run["pending"][0]["payload"]["remote_execution_id"]
    parent.stop()
    with socket.socket() as hole:  # the parent's port takes the callback's connection and never answers
        hole.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        hole.bind(("127.0.0.1", port))
        hole.listen()
        hole.settimeout(15)
        with ig.server.Client(remote.url, timeout=10) as client:
            done = client.deliver_event("SentimentAnalyzer", event="review_done", correlation={"text": TEXT},
                                        payload={"score": 0.6})
        assert done["status"] == "succeeded"
        held, _ = hole.accept()  # the remote server's callback is on its way ...
        with held:
            assert remote.stop(signal.SIGKILL) == -signal.SIGKILL  # ... and the remote server dies before an answer
    serve("tests.server.remote_contracts:WAITING", env=_env(), store=remote_store, port=remote.port)
    parent = serve("server_node1:CONTRACTS", **parent_args)

    with SQLStore(remote_store) as remote_db, SQLStore(parent_store) as parent_db:
        # the lost callback is visible: registered, never reported sent or failed (nothing resends it)
        assert _kinds(remote_db, rid) == ["callback_registered"]
        assert parent_db.record(run["execution_id"]).status == "pending"
        [entry] = _article_analysis().sync_remote(store=parent_db)
    assert entry["action"] == "resumed" and entry["remote_execution_id"] == rid and entry["remote_url"] == remote.url
    with ig.server.Client(parent.url, timeout=10) as client:
        view = client.status(run["execution_id"])
    assert view["status"] == "succeeded" and view["outputs"] == {"summary": {"score": 0.6, "tone": "positive"}}


def test_parent_down_through_the_callbacks_retries_is_logged_then_resumed_by_sync_remote(
        serve: Serve, live_app: Callable[..., LiveServer], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    remote_db = SQLStore(f"sqlite:///{tmp_path / 'remote.db'}")
    parent_store = f"sqlite:///{tmp_path / 'parent.db'}"
    try:
        remote = live_app(ig.server.create_app(REMOTE, store=remote_db, callback_retries=1))
        parent = on_free_port(lambda port: serve("tests.server.remote_contracts:PARENT", env=_env(REMOTE_URL=remote.url),
                                                 **_parent_args(port, parent_store)), **OWN_LISTENER)
        port = parent.port
        parent_args = _parent_args(port, parent_store)
        with ig.server.Client(parent.url, timeout=10) as client:
            run = client.execute("article", {"text": "great"})
        assert run["status"] == "pending"
        eid, rid = run["execution_id"], run["pending"][0]["payload"]["remote_execution_id"]
        parent.stop()
        with caplog.at_level(logging.WARNING, logger="igniter_nb.server"), \
                ig.server.Client(remote.url, timeout=10) as client:
            assert client.resume(rid, "review:great", 0.9)["status"] == "succeeded"
            failed = wait_for(lambda: [e for e in remote_db.record(rid).snapshot["events"]
                                    if e["type"] == "callback_failed"])
        callback_url = f"http://127.0.0.1:{port}/v1/executions/{eid}/remote-callback"
        assert failed[0]["payload"]["attempts"] == 2 and failed[0]["payload"]["url"] == callback_url
        assert "ConnectError" in failed[0]["payload"]["error"]
        [warning] = [r.getMessage() for r in caplog.records if "callback" in r.getMessage()]
        assert rid in warning and callback_url in warning and "failed after 2 attempt(s)" in warning

        parent = serve("tests.server.remote_contracts:PARENT", env=_env(REMOTE_URL=remote.url), **parent_args)
        with SQLStore(parent_store) as parent_db:
            assert parent_db.record(eid).status == "pending"  # the parent came back: nothing resends the callback
            [entry] = PARENT["article"].sync_remote(store=parent_db)
        assert entry["action"] == "resumed" and entry["status"] == "succeeded"
        with ig.server.Client(parent.url, timeout=10) as client:
            assert client.status(eid)["outputs"]["summary"] == {"score": 0.9, "tone": "positive"}
    finally:
        remote_db.close()





def _follow_async_in_thread(url: str, eid: str, **kw: Any) -> tuple[list[Any], list[BaseException], threading.Thread]:
    """``AsyncClient.events`` iterated on an event loop of its own thread: (messages, error raised, thread)."""
    got: list[Any] = []
    raised: list[BaseException] = []

    async def follow() -> None:
        async with ig.server.AsyncClient(url, timeout=10) as client:
            async for message in client.events(eid, **kw):
                got.append(message)

    def run() -> None:
        try:
            asyncio.run(follow())
        except BaseException as exc:  # handed to the test
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return got, raised, thread


def test_async_client_events_across_a_restart_miss_nothing_and_repeat_nothing(serve: Serve, tmp_path: Path) -> None:
    """The sync Client is tested the same way in test_stream.py; here the AsyncClient, with the BILLING event
    delivered in-process to the store file while no server runs, then a stop for good: a clear error."""
    db = f"sqlite:///{tmp_path / 'stream.db'}"
    first = serve(TARGET, store=db)
    with SQLStore(db) as store:
        with ig.server.Client(first.url, timeout=10) as client:
            eid = client.execute("lead", {"request_id": "r-1"})["execution_id"]
        got, raised, thread = _follow_async_in_thread(first.url, eid, reconnects=8)
        wait_for(lambda: any(m.kind == "status" for m in got))
        Lead.deliver_event(CRM["event"], correlation=CRM["correlation"], payload=CRM["payload"], store=store)
        wait_for(lambda: any(m.data.get("type") == "await_satisfied" for m in got))
        first.stop()  # SIGTERM: the stream drops; the client retries with back-off
        Lead.deliver_event(BILLING["event"], correlation=BILLING["correlation"], payload=BILLING["payload"],
                           store=store)
        second = serve(TARGET, store=db, port=first.port)
        # the client's next attempt comes up to 10 s (its back-off) after the server is back, then the replay
        wait_for(lambda: not thread.is_alive(), f"the follower done with the restarted server's stream: {got[-3:]}")
        assert raised == []
        stored = [e["seq"] for e in store.record(eid).snapshot["events"]]
    assert [int(m.id or 0) for m in got if m.kind == "event"] == stored  # nothing missed, nothing twice
    assert got[-1].kind == "end" and got[-1].data["status"] == "succeeded"

    with ig.server.Client(second.url, timeout=10) as client:
        waiting = client.execute("lead", {"request_id": "r-2"})["execution_id"]
    got, raised, thread = _follow_async_in_thread(second.url, waiting, reconnects=1)
    wait_for(lambda: any(m.kind == "status" for m in got))
    second.stop()  # for good: one reconnect that brings nothing, then the error naming the stream's URL
    wait_for(lambda: not thread.is_alive(), f"the follower given up: {got[-3:]}")
    [error] = raised
    assert isinstance(error, RemoteConnectionError) and not error.sent
    assert error.url == f"{second.url}/v1/executions/{waiting}/events" and error.url in str(error)


def test_sync_remote_says_when_the_restarted_remote_server_no_longer_knows_the_execution(
        live_app: Callable[..., LiveServer]) -> None:
    """A remote server restarted without its store (`serve`'s default is memory://) answers 404 for the execution
    the parent waits on: it will never finish. ``sync_remote`` says so (``not_found``), not ``unreachable`` (which
    reads as a network problem worth waiting out), and writes nothing: the operator decides (resume the node by
    its token, or cancel)."""
    remote = live_app(ig.server.create_app(REMOTE, store=MemoryStore()))
    cls = article(remote.url, "deferred")
    with MemoryStore() as parent_store:
        contract = cls({"text": "great"}, runner="store", store=parent_store)
        assert contract.status == "pending"
        version = parent_store.record(contract.execution_id).version
        remote.stop()
        live_app(ig.server.create_app(REMOTE, store=MemoryStore()), port=remote.port)  # back, its executions gone
        [entry] = cls.sync_remote(store=parent_store)
        assert entry["action"] == "not_found" and entry["remote_status"] is None and entry["status"] == "pending"
        assert entry["remote_execution_id"] in entry["error"] and "404" in entry["error"]
        assert parent_store.record(contract.execution_id).version == version
