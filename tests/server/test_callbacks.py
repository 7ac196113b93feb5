"""Remote nodes resumed by callback: the parent's server gives the remote server a URL and an unguessable token;
the remote server, once its execution finishes (from any route), POSTs the outcome there after answering; the
parent checks the token's digest in constant time and resumes. Refusals write nothing; a parent that cannot be
reached is retried, then recorded as a failed callback on the remote execution."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.polling import wait_for
from tests.server.live_server import LiveServer
from tests.server.remote_contracts import REMOTE, article
from tests.services import on_free_port

Live = Callable[..., LiveServer]




class Pair:
    """A parent server (with a public URL) serving ``Article`` and a remote server serving ``REMOTE``."""

    def __init__(self, live_app: Live, contract: str, *, parent_token: str | None = None,
                 remote_retries: int = 5) -> None:
        self.remote_store = MemoryStore()
        self.remote = live_app(ig.server.create_app(REMOTE, store=self.remote_store, callback_retries=remote_retries))
        self.parent_store = MemoryStore()
        self.cls = article(self.remote.url, contract)
        self.parent = on_free_port(lambda port: live_app(ig.server.create_app(
            {"article": self.cls}, store=self.parent_store, public_url=f"http://127.0.0.1:{port}", token=parent_token),
            port=port))
        self.parent_client = ig.server.Client(self.parent.url, token=parent_token, timeout=10)
        self.remote_client = ig.server.Client(self.remote.url, timeout=10)

    def start(self, text: str) -> tuple[str, str]:
        """Run the parent; returns (parent execution id, remote execution id) once it is pending."""
        run = self.parent_client.execute("article", {"text": text})
        assert run["status"] == "pending", run
        [wait] = run["pending"]
        return run["execution_id"], wait["payload"]["remote_execution_id"]

    def parent_status(self, eid: str) -> str:
        return str(self.parent_client.status(eid)["status"])

    def capability(self, rid: str) -> str:
        events = self.remote_store.record(rid).snapshot["events"]
        return str(next(e for e in events if e["type"] == "callback_registered")["payload"]["token"])

    def remote_events(self, rid: str, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.remote_store.record(rid).snapshot["events"] if e["type"] == kind]

    def close(self) -> None:
        self.parent_client.close()
        self.remote_client.close()


@pytest.fixture
def pair(live_app: Live) -> Any:
    made: list[Pair] = []

    def make(contract: str = "deferred", **kw: Any) -> Pair:
        made.append(Pair(live_app, contract, **kw))
        return made[-1]

    yield make
    for p in made:
        p.close()


def test_callback_resumes_the_parent_when_the_remote_execution_succeeds(pair: Any) -> None:
    p = pair()
    eid, rid = p.start("great")
    payload = p.parent_client.status(eid)["pending"][0]["payload"]
    assert len(payload["callback_digest"]) == 64 and p.capability(rid) not in str(payload)
    [registered] = p.remote_events(rid, "callback_registered")
    assert registered["payload"]["url"] == f"{p.parent.url}/v1/executions/{eid}/remote-callback"

    assert p.remote_client.resume(rid, "review:great", 0.9)["status"] == "succeeded"
    wait_for(lambda: p.parent_status(eid) == "succeeded")
    view = p.parent_client.status(eid)
    assert view["outputs"]["summary"] == {"score": 0.9, "tone": "positive"}
    sent = wait_for(lambda: p.remote_events(rid, "callback_sent"))
    assert sent[0]["payload"]["attempts"] == 1 and sent[0]["payload"]["status_code"] == 200
    resumed = [e for e in p.parent_store.record(eid).snapshot["events"] if e["type"] == "remote_resumed"]
    assert [e["payload"]["via"] for e in resumed] == ["callback"]


def test_callback_of_a_failed_remote_execution_fails_the_node_with_context(pair: Any) -> None:
    p = pair("reviewed")
    eid, rid = p.start("meh")
    p.remote_client.deliver_event("reviewed", event="review_done", correlation={"text": "meh"}, payload={"x": 1})
    wait_for(lambda: p.parent_status(eid) == "failed")
    error = p.parent_client.status(eid)["error"]
    assert error["node"] == "sentiment" and rid in error["message"] and "KeyError" in error["message"]
    context = error["context"]
    assert context["remote_status"] == "failed" and context["url"] == p.remote.url
    assert context["remote_execution_id"] == rid and context["remote_contract"] == "reviewed"


def _post_callback(p: Pair, eid: str, body: dict[str, Any], token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.post(f"{p.parent.url}/v1/executions/{eid}/remote-callback", json=body, headers=headers, timeout=10)


def test_callbacks_need_the_token_of_that_call(pair: Any) -> None:
    p = pair(parent_token="parent-secret")
    eid, rid = p.start("great")
    version = p.parent_store.record(eid).version
    forged = {"execution_id": rid, "status": "succeeded", "outputs": {"score": 1.0}}
    assert _post_callback(p, eid, forged, None).status_code == 401
    assert _post_callback(p, eid, forged, "x" * 43).status_code == 401
    assert _post_callback(p, eid, forged, "parent-secret").status_code == 401  # the server's token is not it
    unknown = _post_callback(p, eid, {**forged, "execution_id": "someone-else"}, p.capability(rid))
    assert unknown.status_code == 409
    assert _post_callback(p, "no-such-execution", forged, p.capability(rid)).status_code == 401  # (server-edges)
    not_finished = _post_callback(p, eid, {**forged, "status": "waiting"}, p.capability(rid))
    assert not_finished.status_code == 422
    assert p.parent_store.record(eid).version == version  # nothing written by any refusal

    applied = _post_callback(p, eid, forged, p.capability(rid))
    assert applied.status_code == 200 and applied.json()["status"] == "succeeded"
    version = p.parent_store.record(eid).version
    replay = _post_callback(p, eid, {**forged, "outputs": {"score": 0.0}}, p.capability(rid))
    assert replay.status_code == 200 and replay.json()["outputs"]["summary"]["score"] == 1.0
    assert _post_callback(p, eid, forged, "y" * 43).status_code == 401
    assert p.parent_store.record(eid).version == version


def test_callback_to_an_unreachable_parent_is_retried_then_recorded_and_sync_remote_catches_up(pair: Any) -> None:
    p = pair(remote_retries=1)
    eid, rid = p.start("great")
    p.parent.stop()
    assert p.remote_client.resume(rid, "review:great", 0.1)["status"] == "succeeded"
    failed = wait_for(lambda: p.remote_events(rid, "callback_failed"))
    assert failed[0]["payload"]["attempts"] == 2 and "ConnectError" in failed[0]["payload"]["error"]
    [entry] = p.cls.sync_remote(store=p.parent_store)
    assert entry["action"] == "resumed" and entry["status"] == "succeeded" and entry["execution_id"] == eid


def test_a_remote_execution_finished_at_once_registers_no_callback(pair: Any) -> None:
    p = pair("score")
    run = p.parent_client.execute("article", {"text": "great"})
    assert run["status"] == "succeeded"
    [rid] = [r.execution_id for r in p.remote_store.list()]
    assert p.remote_events(rid, "callback_registered") == []


def test_execute_refuses_a_callback_that_is_not_an_http_url(pair: Any) -> None:
    p = pair()
    for url, token in (("ftp://x/cb", "t" * 20), ("http://", "t" * 20), ("http://h/cb", "short"),
                       ("http://h/cb", "with space" * 3), ("http://[::1/cb", "t" * 20), ("http://[zz]/cb", "t" * 20),
                       ("http://h:99999/cb", "t" * 20), ("http://h:0/cb", "t" * 20), ("http://h:x/cb", "t" * 20),
                       ("http://h/cb\x00", "t" * 20), ("http://h/\x7fcb", "t" * 20)):
        answer = httpx.post(f"{p.remote.url}/v1/contracts/deferred/execute",
                            json={"inputs": {"text": "a"}, "callback": {"url": url, "token": token}}, timeout=10)
        assert answer.status_code == 422, (url, token, answer.text)
        assert "callback" in answer.json()["error"]
    assert p.remote_store.list() == []


def test_a_workflow_parent_resumed_by_callback_gets_its_workflow_status_and_events(live_app: Live) -> None:
    remote_store = MemoryStore()
    remote = live_app(ig.server.create_app(REMOTE, store=remote_store))

    class Order(ig.Contract):
        def define(c):
            c.correlate_by("order_id")
            c.input("order_id", type=str)
            c.remote("check", contract="deferred", node=remote.url, inputs={"text": "order_id"})
            c.output("check")

    parent_store = MemoryStore()
    parent = on_free_port(lambda port: live_app(
        ig.server.create_app({"order": Order}, store=parent_store, public_url=f"http://127.0.0.1:{port}"), port=port))
    with ig.server.Client(parent.url) as client, ig.server.Client(remote.url) as remote_client:
        run = client.execute("order", {"order_id": "o-1"})
        assert run["status"] == "running" and run["correlation"] == {"order_id": "o-1"}  # own work outstanding
        rid = run["pending"][0]["payload"]["remote_execution_id"]
        remote_client.resume(rid, "review:o-1", 7)
        view = wait_for(lambda: (v := client.status(run["execution_id"]))["status"] == "succeeded" and v)
    assert view["outputs"] == {"check": {"score": 7}}
    types = [e["type"] for e in parent_store.record(run["execution_id"]).snapshot["events"]]
    assert types[-1] == "workflow_succeeded" and "remote_resumed" in types and "workflow_resumed" in types
