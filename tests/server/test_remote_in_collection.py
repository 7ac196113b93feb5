"""A remote node inside a *collection item* resumes like a top-level one: by the remote server's callback (to the
parent execution stored under its own id) or by ``Contract.sync_remote`` — then the item, the collection and the
parent continue. Two real servers (uvicorn on loopback, stopped by the ``live_app`` finalizer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.polling import wait_for
from tests.server.live_server import LiveServer
from tests.server.remote_contracts import REMOTE, article, batch
from tests.services import on_free_port

Live = Callable[..., LiveServer]
TEXTS = ["great", "fine", "great great"]
SCORES = {"great": 0.9, "fine": 0.3, "great great": 0.1}




def _texts_of(remote_client: Any, remote_store: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for record in remote_store.list(graph="DeferredScore"):
        [pending] = remote_client.status(record.execution_id)["pending"]
        found[pending["token"].removeprefix("review:")] = record.execution_id
    return found


def _tones() -> dict[str, str]:
    return {text: "positive" if s > 0.5 else "neutral" if s > 0.2 else "negative" for text, s in SCORES.items()}


def test_callbacks_resume_remote_nodes_inside_collection_items(live_app: Live) -> None:
    remote_store = MemoryStore()
    remote = live_app(ig.server.create_app(REMOTE, store=remote_store))
    parent_store = MemoryStore()
    cls = batch(remote.url)
    parent = on_free_port(lambda port: live_app(
        ig.server.create_app({"batch": cls}, store=parent_store, public_url=f"http://127.0.0.1:{port}"), port=port))
    with ig.server.Client(parent.url, timeout=10) as parent_client, ig.server.Client(remote.url, timeout=10) as rc:
        run = parent_client.execute("batch", {"texts": TEXTS})
        assert run["status"] == "pending", run
        eid = run["execution_id"]
        rids = _texts_of(rc, remote_store)
        assert sorted(rids) == sorted(TEXTS)
        for rid in rids.values():  # every item's remote call asked to be called back at the parent execution
            events = remote_store.record(rid).snapshot["events"]
            [registered] = [e for e in events if e["type"] == "callback_registered"]
            assert registered["payload"]["url"] == f"{parent.url}/v1/executions/{eid}/remote-callback"

        for done, text in enumerate(TEXTS, start=1):
            assert rc.resume(rids[text], f"review:{text}", SCORES[text])["status"] == "succeeded"
            wait_for(lambda text=text: [e for e in parent_store.record(eid).snapshot["events"]
                                           if e["type"] == "remote_resumed"
                                           and e["payload"]["remote_execution_id"] == rids[text]])
            view = parent_client.status(eid)
            assert view["status"] == ("succeeded" if done == len(TEXTS) else "pending"), view["error"]
        assert view["outputs"]["tones"] == _tones()
        events = parent_store.record(eid).snapshot["events"]
        resumed = [e for e in events if e["type"] == "remote_resumed"]
        assert [e["payload"]["via"] for e in resumed] == ["callback"] * 3 and {e["node"] for e in resumed} == {"scores"}
        for rid in rids.values():  # each callback was applied once, and no item ran its remote contract twice
            sent = wait_for(lambda rid=rid: [e for e in remote_store.record(rid).snapshot["events"]
                                                if e["type"] == "callback_sent"])
            assert sent[0]["payload"]["status_code"] == 200
        assert len(remote_store.list(graph="DeferredScore")) == 3


def test_sync_remote_resumes_remote_nodes_inside_collection_items(live_app: Live) -> None:
    remote_store = MemoryStore()
    remote = live_app(ig.server.create_app(REMOTE, store=remote_store))
    cls = batch(remote.url)
    parent_store = MemoryStore()
    contract = cls({"texts": TEXTS}, runner="store", store=parent_store)
    assert contract.status == "pending" and contract.states["scores"]["status"] == "pending"
    with ig.server.Client(remote.url, timeout=10) as rc:
        rids = _texts_of(rc, remote_store)
        assert sorted(rids) == sorted(TEXTS)
        report = cls.sync_remote(store=parent_store)
        assert sorted(e["remote_execution_id"] for e in report) == sorted(rids.values())  # every item's wait
        assert {e["action"] for e in report} == {"still_running"}
        assert {e["remote_url"] for e in report} == {remote.url}

        rc.resume(rids["fine"], "review:fine", SCORES["fine"])
        report = cls.sync_remote(store=parent_store)
        assert sorted((e["remote_execution_id"], e["action"]) for e in report) == sorted(
            (rid, "resumed" if text == "fine" else "still_running") for text, rid in rids.items())
        assert all(e["status"] == "pending" for e in report if e["action"] == "resumed")

        for text in ("great", "great great"):
            rc.resume(rids[text], f"review:{text}", SCORES[text])
        report = cls.sync_remote(store=parent_store)
        assert sorted(e["action"] for e in report) == ["resumed", "resumed"]
        assert report[-1]["status"] == "succeeded"
    resumed = cls.restore_from_store(contract.execution_id, store=parent_store)
    assert resumed.status == "succeeded" and resumed.result.tones == _tones()
    assert cls.sync_remote(store=parent_store) == []  # nothing waits any more
    assert len(remote_store.list(graph="DeferredScore")) == 3  # the items asked for outcomes, never re-ran


def test_a_callback_for_an_item_is_applied_once(live_app: Live) -> None:
    """A repeated callback for an item's remote execution answers the parent unchanged (nothing written)."""
    import httpx

    remote_store = MemoryStore()
    remote = live_app(ig.server.create_app(REMOTE, store=remote_store, callback_retries=0))
    parent_store = MemoryStore()
    cls = batch(remote.url)
    parent = on_free_port(lambda port: live_app(
        ig.server.create_app({"batch": cls}, store=parent_store, public_url=f"http://127.0.0.1:{port}"), port=port))
    with ig.server.Client(parent.url, timeout=10) as parent_client, ig.server.Client(remote.url, timeout=10) as rc:
        eid = parent_client.execute("batch", {"texts": ["fine"]})["execution_id"]
        [rid] = _texts_of(rc, remote_store).values()
        rc.resume(rid, "review:fine", 0.3)
        wait_for(lambda: parent_client.status(eid)["status"] == "succeeded")
        version = parent_store.record(eid).version
        events = remote_store.record(rid).snapshot["events"]
        token = next(e for e in events if e["type"] == "callback_registered")["payload"]["token"]
        again = httpx.post(f"{parent.url}/v1/executions/{eid}/remote-callback", timeout=10,
                           json={"execution_id": rid, "status": "succeeded", "outputs": {"score": 0.0}},
                           headers={"Authorization": f"Bearer {token}"})
        assert again.status_code == 200 and again.json()["outputs"]["tones"] == {"fine": "neutral"}
        assert parent_store.record(eid).version == version


@pytest.mark.parametrize("texts", [["great"]])
def test_resume_by_token_still_works_inside_a_collection_item(live_app: Live, texts: list[str]) -> None:
    """``POST …/resume`` with the item's remote token and the outputs (the way documented before) still works."""
    remote_store = MemoryStore()
    remote = live_app(ig.server.create_app(REMOTE, store=remote_store))
    parent_store = MemoryStore()
    cls = batch(remote.url)
    parent = live_app(ig.server.create_app({"batch": cls}, store=parent_store))
    with ig.server.Client(parent.url, timeout=10) as parent_client, ig.server.Client(remote.url, timeout=10) as rc:
        run = parent_client.execute("batch", {"texts": texts})
        [rid] = _texts_of(rc, remote_store).values()
        view = parent_client.resume(run["execution_id"], f"remote:{rid}", {"score": 0.9})
        assert view["status"] == "succeeded" and view["outputs"]["tones"] == {"great": "positive"}


def test_a_callback_resumes_a_remote_node_inside_a_composed_child(live_app: Live) -> None:
    """The same callback address (the outermost execution) serves a remote node of a composed child."""
    remote_store = MemoryStore()
    remote = live_app(ig.server.create_app(REMOTE, store=remote_store))
    child = article(remote.url, "deferred")

    class Parent(ig.Contract):
        def define(c):
            c.input("text", type=str)
            c.compose("inner", contract=child, inputs={"text": "text"})
            c.output("summary", source="inner.summary")

    parent_store = MemoryStore()
    parent = on_free_port(lambda port: live_app(ig.server.create_app(
        {"parent": Parent}, store=parent_store, public_url=f"http://127.0.0.1:{port}"), port=port))
    with ig.server.Client(parent.url, timeout=10) as parent_client, ig.server.Client(remote.url, timeout=10) as rc:
        eid = parent_client.execute("parent", {"text": "great"})["execution_id"]
        [rid] = _texts_of(rc, remote_store).values()
        events = remote_store.record(rid).snapshot["events"]
        [registered] = [e for e in events if e["type"] == "callback_registered"]
        assert registered["payload"]["url"] == f"{parent.url}/v1/executions/{eid}/remote-callback"
        rc.resume(rid, "review:great", 0.9)
        wait_for(lambda: parent_client.status(eid)["status"] == "succeeded")
        assert parent_client.status(eid)["outputs"]["summary"] == {"score": 0.9, "tone": "positive"}
