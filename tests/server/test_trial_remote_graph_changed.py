"""A parent whose remote node waits on a remote execution, served again by a deploy whose graph no longer has that
node (renamed or removed) before the remote execution finished. Real uvicorn on 127.0.0.1, memory stores.

The restore into the new graph drops the stored wait, and nothing said so: the remote server's callback was the
401 ``the callback token is not one this execution handed out`` (it was handed out — by the node the deploy
renamed; the sender retried it as a token not yet saved, then recorded ``callback_failed``), and
``Contract.sync_remote`` reported nothing at all (``[]``) for a parent that stays ``pending`` for ever. Now the
callback is a 409 ``GraphChangedError`` naming the node, the remote execution and the ``migrate`` call (a 409 is
retried: during a rolling deploy a server still running the old graph can take it), and ``sync_remote`` reports
the wait as ``unreadable`` saying the same; nothing is written by either. Once migrated, the wait resumes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.server.live_server import LiveServer
from tests.server.remote_contracts import REMOTE, article
from tests.services import on_free_port

Live = Callable[..., LiveServer]


def _renamed(url: str) -> Any:
    """``article(url, "deferred")`` as the next deploy has it: the remote node ``sentiment`` renamed ``mood``."""

    class Article(ig.Contract):
        def define(c):
            c.input("text", type=str)
            c.remote("mood", contract="deferred", node=url, inputs={"text": "text"}, timeout=5.0)

            @c.compute
            def summary(mood):
                return {"score": mood["score"]}

            c.output("summary")

    return Article


class Deploys:
    """A remote server, and the parent served on one port and store first by ``old`` then by ``new``."""

    def __init__(self, live_app: Live) -> None:
        self.live_app = live_app
        self.remote_store = MemoryStore()
        self.remote = live_app(ig.server.create_app(REMOTE, store=self.remote_store, callback_retries=0))
        self.store = MemoryStore()
        self.old, self.new = article(self.remote.url, "deferred"), _renamed(self.remote.url)
        self.parent = on_free_port(lambda port: live_app(self._app(self.old, port), port=port))

    def _app(self, cls: Any, port: int) -> Any:
        return ig.server.create_app({"article": cls}, store=self.store, public_url=f"http://127.0.0.1:{port}",
                                    token="parent-secret")

    def start(self) -> tuple[str, str, str]:
        """The old deploy starts a parent until its remote node waits, then the new one serves it."""
        with ig.server.Client(self.parent.url, token="parent-secret", timeout=10) as client:
            run = client.execute("article", {"text": "great"})
        rid = run["pending"][0]["payload"]["remote_execution_id"]
        events = self.remote_store.record(rid).snapshot["events"]
        capability = next(e for e in events if e["type"] == "callback_registered")["payload"]["token"]
        port = self.parent.port
        self.parent.stop()
        self.parent = self.live_app(self._app(self.new, port), port=port)
        return run["execution_id"], rid, capability

    def callback(self, eid: str, rid: str, capability: str) -> httpx.Response:
        return httpx.post(f"{self.parent.url}/v1/executions/{eid}/remote-callback", timeout=10,
                          json={"execution_id": rid, "status": "succeeded", "outputs": {"score": 0.9}},
                          headers={"Authorization": f"Bearer {capability}"})


def test_a_callback_for_a_renamed_remote_node_is_a_409_naming_it_and_writes_nothing(live_app: Live) -> None:
    d = Deploys(live_app)
    eid, rid, capability = d.start()
    version = d.store.record(eid).version
    answer = d.callback(eid, rid, capability)
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert body["type"] == "GraphChangedError" and body["node"] == "sentiment"
    assert body["execution_id"] == eid and body["remote_execution_id"] == rid
    assert body["error"].startswith(f"the callback is for remote node 'sentiment' of Article {eid} (waiting for "
                                    f"remote execution '{rid}'), which the current graph no longer has")
    assert "Article.migrate(store, rename={'sentiment': <its new name>})" in body["error"]
    assert d.store.record(eid).version == version
    # a token it never handed out is still the same 401 as ever
    assert d.callback(eid, rid, "w" * 43 + ".AAAAAAAAAAAAAAAAAAAAAA").status_code == 401


def test_sync_remote_reports_the_dropped_wait_instead_of_nothing(live_app: Live) -> None:
    d = Deploys(live_app)
    eid, rid, _ = d.start()
    version = d.store.record(eid).version
    [entry] = d.new.sync_remote(store=d.store)
    assert entry["execution_id"] == eid and entry["action"] == "unreadable"
    assert entry["remote_execution_id"] == rid and entry["remote_url"] == d.remote.url
    assert entry["remote_contract"] == "deferred" and entry["status"] == "pending"
    assert "remote node 'sentiment'" in entry["error"] and "migrate" in entry["error"]
    assert d.store.record(eid).version == version


def test_once_migrated_the_callback_resumes_the_renamed_node(live_app: Live) -> None:
    d = Deploys(live_app)
    eid, rid, capability = d.start()
    [migrated] = d.new.migrate(d.store, rename={"sentiment": "mood"}).executions
    assert migrated.action == "migrated"
    answer = d.callback(eid, rid, capability)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "succeeded" and answer.json()["outputs"] == {"summary": {"score": 0.9}}
