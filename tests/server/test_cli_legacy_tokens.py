"""`igniter-nb serve --legacy-callback-tokens / --no-legacy-callback-tokens`: ``create_app``'s
``legacy_callback_tokens`` had no flag, only ``IGNITER_LEGACY_CALLBACK_TOKENS``. The flag reaches every worker and
wins over the variable: off, a callback token without a tag — one a server without a token handed out — is refused
with 401; on, the same token resumes its parent.

The parent waits on a remote node (``tests.server.remote_contracts``), started by an in-process server without a
token (so its callback token has no tag) on an SQLite file, which `igniter-nb serve` — with a token — then serves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.server.remote_contracts import REMOTE, article
from tests.services import on_free_port

PARENT = "tests.server.remote_contracts:PARENT"


def _waiting_parent(live_app: Any, store_url: str) -> tuple[str, str, str, str]:
    """(remote server URL, parent execution id, remote execution id, the untagged callback token)."""
    remote_store = MemoryStore()
    remote = live_app(ig.server.create_app(REMOTE, store=remote_store, callback_retries=0))
    before = on_free_port(lambda port: live_app(ig.server.create_app(
        {"article": article(remote.url, "deferred")}, store=store_url, public_url=f"http://127.0.0.1:{port}"),
        port=port))
    with ig.server.Client(before.url, timeout=10) as client:
        run = client.execute("article", {"text": "great"})
    assert run["status"] == "pending", run
    rid = run["pending"][0]["payload"]["remote_execution_id"]
    events = remote_store.record(rid).snapshot["events"]
    token = next(e for e in events if e["type"] == "callback_registered")["payload"]["token"]
    assert "." not in token  # no tag: the server had no token
    before.stop()
    return remote.url, run["execution_id"], rid, token


@pytest.mark.parametrize(("flag", "variable", "status"), [
    ("--no-legacy-callback-tokens", "1", 401),
    ("--legacy-callback-tokens", "0", 200),
])
def test_the_flag_reaches_the_workers_and_wins_over_the_variable(serve: Any, live_app: Any, tmp_path: Path,
                                                                 flag: str, variable: str, status: int) -> None:
    store_url = f"sqlite:///{tmp_path / 'parent.db'}"
    remote_url, eid, rid, token = _waiting_parent(live_app, store_url)
    server = serve(PARENT, store=store_url, workers=2, token="server-secret", args=(flag,),
                   env={"REMOTE_URL": remote_url, "IGNITER_LEGACY_CALLBACK_TOKENS": variable})
    body = {"execution_id": rid, "status": "succeeded", "outputs": {"score": 0.9}}
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for _ in range(3):  # (each new connection may reach the other worker)
            answer = http.post(f"/v1/executions/{eid}/remote-callback", json=body,
                               headers={"Authorization": f"Bearer {token}", "Connection": "close"})
            assert answer.status_code == status, answer.text
            if status == 200:
                assert answer.json()["status"] == "succeeded"
    with ig.server.Client(server.url, token="server-secret", timeout=10) as client:
        assert client.status(eid)["status"] == ("pending" if status == 401 else "succeeded")
