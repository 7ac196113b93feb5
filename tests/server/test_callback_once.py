"""The callback route reads and restores the parent execution once per attempt, and refuses a forged callback
token before it reads anything.

1. It used to restore the parent twice per callback: once to check the token, once to apply the outcome. Now one
   read and one restore serve both (a compare-and-set retry reads again).
2. A server with a token (so with a secret) hands out callback tokens ``<nonce>.<tag>``, the tag an HMAC of the
   execution id and the nonce: a token whose tag is wrong is refused with the usual 401 before any store read, so
   how long the answer takes says nothing about which execution ids exist. Tokens without a tag (handed out before
   this change, or by a server without a token) are still checked against the store, unless
   ``legacy_callback_tokens=False``.

Real uvicorn on 127.0.0.1; the parent's store is a ``MemoryStore`` that counts the reads made of it."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import httpx
import pytest

import igniter_nb as ig
from igniter_nb.runtime.execution import Execution
from igniter_nb.stores import MemoryStore
from tests.server.remote_contracts import REMOTE, article
from tests.services import on_free_port

_READS = ("record", "fetch", "exists", "version_of", "record_by_correlation", "find_by_correlation",
          "find_latest_by_correlation", "correlations", "list", "list_page", "count", "history", "history_records",
          "history_page")


class CountingStore(MemoryStore):
    """A real ``MemoryStore`` that counts the calls of its reading methods (``reads``) made from outside it."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: Counter[str] = Counter()
        self._inside = threading.local()
        #: ``"save"`` or ``"delete"``: right after the next ``record`` read, another writer saves that execution
        #: again (the reader's compare-and-set save then loses) or deletes it — once.
        self.race: str | None = None

    def record(self, execution_id: str, **kwargs: Any) -> Any:
        found = super().record(execution_id, **kwargs)
        race, self.race = self.race, None
        if race == "save":
            super().save(self.fetch(execution_id))
        elif race == "delete":
            self.delete(execution_id)
        return found


def _counted(name: str) -> Any:
    method = CountingStore.__dict__.get(name) or getattr(MemoryStore, name)

    def read(self: CountingStore, *args: Any, **kwargs: Any) -> Any:
        depth = getattr(self._inside, "depth", 0)
        if not depth:  # a read the store makes of itself (a save checking its version) is not one
            self.reads[name] += 1
        self._inside.depth = depth + 1
        try:
            return method(self, *args, **kwargs)
        finally:
            self._inside.depth = depth

    return read


for _name in _READS:
    setattr(CountingStore, _name, _counted(_name))


@pytest.fixture
def restores(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times an execution was restored from a stored record (every restore of one ends by telling the
    execution the version it was read at)."""
    counted: Counter[str] = Counter()
    real = Execution.loaded_from_store

    def loaded(self: Execution, version: int) -> None:
        counted[self.execution_id] += 1
        real(self, version)

    monkeypatch.setattr(Execution, "loaded_from_store", loaded)
    return counted


class Parent:
    """A remote server serving ``REMOTE`` and a parent server (public URL, ``token``) serving ``Article`` on a
    counting store; ``start`` runs the parent until its remote node waits."""

    def __init__(self, live_app: Any, *, token: str | None = "parent-secret", store: CountingStore | None = None,
                 remote: Parent | None = None, **settings: Any) -> None:
        if remote is None:
            self.remote_store = MemoryStore()
            self.remote = live_app(ig.server.create_app(REMOTE, store=self.remote_store, callback_retries=0))
        else:
            self.remote_store, self.remote = remote.remote_store, remote.remote
        self.store = store or CountingStore()
        self.cls = article(self.remote.url, "deferred")
        self.token = token
        self.server = on_free_port(lambda port: live_app(ig.server.create_app(
            {"article": self.cls}, store=self.store, public_url=f"http://127.0.0.1:{port}", token=token,
            **settings), port=port))

    def start(self, text: str = "great") -> tuple[str, str, str]:
        """(parent execution id, remote execution id, the callback token the remote server was given)."""
        with ig.server.Client(self.server.url, token=self.token, timeout=10) as client:
            run = client.execute("article", {"text": text})
        assert run["status"] == "pending", run
        rid = run["pending"][0]["payload"]["remote_execution_id"]
        events = self.remote_store.record(rid).snapshot["events"]
        capability = next(e for e in events if e["type"] == "callback_registered")["payload"]["token"]
        return run["execution_id"], rid, capability

    def post(self, eid: str, body: dict[str, Any], token: str) -> httpx.Response:
        return httpx.post(f"{self.server.url}/v1/executions/{eid}/remote-callback", json=body,
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _finished(rid: str) -> dict[str, Any]:
    return {"execution_id": rid, "status": "succeeded", "outputs": {"score": 0.9}}


def test_a_callback_reads_and_restores_the_parent_once(live_app: Any, restores: Counter[str]) -> None:
    p = Parent(live_app)
    eid, rid, capability = p.start()
    version = p.store.record(eid).version
    # refusals (nothing written), the applied callback, then its repeat (answered, nothing written again)
    for body, status in (({**_finished(rid), "execution_id": "someone-else"}, 409),
                         ({**_finished(rid), "status": "waiting"}, 422), (_finished(rid), 200), (_finished(rid), 200)):
        p.store.reads.clear()
        restores.clear()
        answer = p.post(eid, body, capability)
        assert answer.status_code == status, answer.text
        assert p.store.reads == {"record": 1} and restores == {eid: 1}, (body, p.store.reads, restores)
    assert answer.json()["status"] == "succeeded"
    assert p.store.record(eid).version == version + 1


def test_a_save_lost_to_another_writer_reads_again_and_a_parent_deleted_meanwhile_is_404(
        live_app: Any, restores: Counter[str]) -> None:
    p = Parent(live_app)
    eid, rid, capability = p.start()
    version = p.store.record(eid).version
    p.store.reads.clear()
    restores.clear()
    p.store.race = "save"
    applied = p.post(eid, _finished(rid), capability)
    assert applied.status_code == 200 and applied.json()["status"] == "succeeded", applied.text
    assert p.store.reads == {"record": 2} and restores == {eid: 2}  # the retry reads (and checks the token) again
    assert p.store.record(eid).version == version + 2

    eid, rid, capability = p.start("fine")
    p.store.race = "delete"
    gone = p.post(eid, _finished(rid), capability)
    assert gone.status_code == 404, gone.text  # the token was accepted: the store's answer, as for any change
    assert not p.store.exists(eid)


def test_a_forged_token_is_refused_before_any_store_read_whatever_the_execution_id(
        live_app: Any, restores: Counter[str]) -> None:
    p = Parent(live_app)
    eid, rid, capability = p.start()
    nonce, dot, tag = capability.rpartition(".")
    assert dot and len(nonce) >= 43 and tag  # a server with a token hands out tagged tokens
    forged = f"{nonce}.{'A' * len(tag)}"
    other_eid, _, other_capability = p.start("fine")
    p.store.reads.clear()
    restores.clear()

    answers = {}
    for which in (eid, "no-such-execution", "x" * 300):
        for token in (forged, f"{'w' * 43}.{'A' * 22}", other_capability):  # (another execution's real token too)
            answers[which, token] = p.post(which, _finished(rid), token)
    assert p.store.reads == {} and restores == {}, (p.store.reads, restores)
    for (which, _), answer in answers.items():
        assert answer.status_code == 401
        assert answer.json() == {"error": "the callback token is not one this execution handed out",
                                 "type": "RequestProblem", "execution_id": which[:200]}
    assert p.post(other_eid, _finished(rid), capability).status_code == 401  # a token names its own execution
    assert p.store.reads == {} and restores == {}


def test_untagged_tokens_handed_out_before_the_change_still_resume_their_parent(
        live_app: Any, restores: Counter[str]) -> None:
    """A parent started by a server handing out untagged tokens (as every server did before tagged tokens; a server
    without a token still does), its callback arriving once the server has a token: accepted, checked against the
    store; refused without a read once ``legacy_callback_tokens=False``."""
    before = Parent(live_app, token=None)
    eid, rid, capability = before.start()
    assert "." not in capability
    strict = Parent(live_app, store=before.store, remote=before, legacy_callback_tokens=False)
    now = Parent(live_app, store=before.store, remote=before)
    version = before.store.record(eid).version
    before.store.reads.clear()

    refused = strict.post(eid, _finished(rid), capability)
    unknown = strict.post("no-such-execution", _finished(rid), "w" * 43)
    assert refused.status_code == unknown.status_code == 401 and before.store.reads == {} and restores == {}
    assert {**refused.json(), "execution_id": None} == {**unknown.json(), "execution_id": None}
    assert now.post(eid, _finished(rid), "w" * 43).status_code == 401  # an untagged forgery: read and refused
    assert before.store.record(eid).version == version

    applied = now.post(eid, _finished(rid), capability)
    assert applied.status_code == 200 and applied.json()["status"] == "succeeded", applied.text
    assert before.store.record(eid).version == version + 1


def test_refusing_untagged_tokens_without_a_server_token_is_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server without a token hands out untagged tokens and has no key to check a tag with: refusing untagged
    tokens there changed nothing (every forged token was still read for, its timing with it) while the docs said
    "every token without a valid tag is then refused unread". The setting is refused by name instead."""
    monkeypatch.delenv("IGNITER_SERVER_TOKEN", raising=False)
    monkeypatch.delenv("IGNITER_LEGACY_CALLBACK_TOKENS", raising=False)
    for build in (ig.server.create_app, ig.server.create_router):
        with pytest.raises(ig.errors.SettingsError, match="legacy_callback_tokens=False needs a server token") as caught:
            build(REMOTE, store=MemoryStore(), legacy_callback_tokens=False)
        assert caught.value.context.get("variable") == "IGNITER_LEGACY_CALLBACK_TOKENS"
    monkeypatch.setenv("IGNITER_LEGACY_CALLBACK_TOKENS", "0")
    with pytest.raises(ig.errors.SettingsError, match="needs a server token"):
        ig.server.create_app(REMOTE, store=MemoryStore())
    ig.server.create_app(REMOTE, store=MemoryStore(), token="t0ken-of-the-server")  # with a token: taken
    ig.server.create_app(REMOTE, store=MemoryStore(), legacy_callback_tokens=True)  # the argument wins
