"""Two weaknesses of the remote-node callback path found by a hostile trial.

1. The callback route loaded the stored execution before checking the callback token, so an unauthenticated caller
   got 404 for an unknown execution id and 401/409 for a known one: it could probe which ids exist. Now any caller
   whose token is not one this execution handed out gets the same 401, whatever the id.
2. A remote node's URL holding a password (``http://user:s3cret@host``) was shown whole in the execution view's
   ``pending`` (and the events of its stream and history). Now ``user:***@`` wherever it is shown; the stored wait
   keeps the URL it resumes with. Real uvicorn on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import httpx

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.polling import wait_for
from tests.server.remote_contracts import REMOTE, article
from tests.services import free_port


def _servers(live_app: Any, remote_url_of: Any = lambda url: url) -> tuple[Any, Any, MemoryStore, MemoryStore]:
    remote_store, parent_store = MemoryStore(), MemoryStore()
    remote = live_app(ig.server.create_app(REMOTE, store=remote_store))
    port = free_port()
    cls = article(remote_url_of(remote.url), "deferred")
    parent = live_app(ig.server.create_app({"article": cls}, store=parent_store,
                                           public_url=f"http://127.0.0.1:{port}"), port=port)
    parent.cls = cls
    return remote, parent, remote_store, parent_store


def _post(parent: Any, eid: str, body: dict[str, Any], token: str) -> httpx.Response:
    return httpx.post(f"{parent.url}/v1/executions/{eid}/remote-callback", json=body,
                      headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_an_unauthenticated_callback_gets_the_same_401_whatever_the_execution_id(live_app: Any) -> None:
    _remote, parent, remote_store, parent_store = _servers(live_app)
    with ig.server.Client(parent.url, timeout=10) as client:
        run = client.execute("article", {"text": "great"})
    eid, rid = run["execution_id"], run["pending"][0]["payload"]["remote_execution_id"]
    [registered] = [e for e in remote_store.record(rid).snapshot["events"] if e["type"] == "callback_registered"]
    capability = registered["payload"]["token"]
    version = parent_store.record(eid).version
    body = {"execution_id": rid, "status": "succeeded", "outputs": {"score": 1.0}}

    answers = {which: _post(parent, which, body, "w" * 43) for which in (eid, "no-such-execution", "x" * 300)}
    assert {which: a.status_code for which, a in answers.items()} == dict.fromkeys(answers, 401)
    shapes = {(a.json()["error"], a.json().get("type"), tuple(sorted(a.json()))) for a in answers.values()}
    assert len(shapes) == 1, shapes  # nothing in the answer tells an existing execution from an unknown one
    # a real token of another execution is no credential for this one
    assert _post(parent, "no-such-execution", body, capability).status_code == 401
    assert parent_store.record(eid).version == version

    # the caller holding the token keeps the documented answers
    assert _post(parent, eid, {**body, "execution_id": "someone-else"}, capability).status_code == 409
    assert _post(parent, eid, {**body, "status": "waiting"}, capability).status_code == 422
    assert parent_store.record(eid).version == version
    applied = _post(parent, eid, body, capability)
    assert applied.status_code == 200 and applied.json()["status"] == "succeeded"
    assert _post(parent, eid, body, capability).status_code == 200  # a repeat: nothing written again
    assert _post(parent, eid, body, "w" * 43).status_code == 401


def test_a_password_in_a_remote_nodes_url_is_never_shown(live_app: Any) -> None:
    remote, parent, _remote_store, parent_store = _servers(
        live_app, lambda url: url.replace("http://", "http://user:s3cret@"))
    with ig.server.Client(parent.url, timeout=10) as client, ig.server.Client(remote.url, timeout=10) as rc:
        run = client.execute("article", {"text": "great"})
        eid = run["execution_id"]
        [wait] = run["pending"]
        assert wait["payload"]["remote_url"] == remote.url.replace("http://", "http://user:***@")
        shown = [run, client.status(eid), client.history(eid)]
        # the stored wait keeps the URL it resumes with
        stored = parent_store.record(eid).snapshot
        assert "user:s3cret@" in str(stored["states"])
        [synced] = parent.cls.sync_remote(store=parent_store)  # a report a notebook shows
        assert synced["remote_url"] == wait["payload"]["remote_url"]
        shown.append(synced)
        rc.resume(wait["payload"]["remote_execution_id"], "review:great", 0.9)
        wait_for(lambda: client.status(eid)["status"] == "succeeded")
        shown += [client.status(eid), client.history(eid)]
        shown.append(list(client.events(eid)))
    text = str(shown)
    assert "s3cret" not in text and "user:***@127.0.0.1" in text
