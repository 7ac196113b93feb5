"""A remote node's callback arriving several times at once (a remote server retrying while its first attempt is
still in flight, a replay) while ``Contract.sync_remote`` polls the same wait: the parent is resumed exactly once —
one ``remote_resumed`` event, one new version — every callback is answered 200 with the resumed view, and
``sync_remote`` reports ``already_resumed`` (or finds nothing left to do). Nothing found broken here: this pins it
(no test raced them). Two real uvicorns on 127.0.0.1, SQLite stores."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

import igniter_nb as ig
from tests.server.remote_contracts import REMOTE, article
from tests.services import on_free_port


def test_concurrent_callbacks_and_sync_remote_resume_the_parent_once(live_app: Any, tmp_path: Any) -> None:
    remote_store = ig.stores.SQLStore(f"sqlite:///{tmp_path / 'remote.db'}")
    parent_store = ig.stores.SQLStore(f"sqlite:///{tmp_path / 'parent.db'}")
    remote = live_app(ig.server.create_app(REMOTE, store=remote_store, callback_retries=0))
    cls = article(remote.url, "deferred")
    parent = on_free_port(lambda port: live_app(ig.server.create_app(
        {"article": cls}, store=parent_store, public_url=f"http://127.0.0.1:{port}"), port=port))
    try:
        with ig.server.Client(parent.url, timeout=10) as pc, ig.server.Client(remote.url, timeout=10) as rc:
            run = pc.execute("article", {"text": "great"})
            eid, rid = run["execution_id"], run["pending"][0]["payload"]["remote_execution_id"]
            token = next(e for e in remote_store.record(rid).snapshot["events"]
                         if e["type"] == "callback_registered")["payload"]["token"]
            version = parent_store.record(eid).version
            view = rc.resume(rid, "review:great", 0.9)  # the remote server's own callback races ours too

            def one(i: int) -> Any:
                if i % 4 == 3:
                    return ("sync", tuple(e["action"] for e in cls.sync_remote(store=parent_store)
                                          if e["execution_id"] == eid))
                answer = httpx.post(f"{parent.url}/v1/executions/{eid}/remote-callback", json=view,
                                    headers={"Authorization": f"Bearer {token}"}, timeout=10)
                return (answer.status_code, answer.json().get("status"))

            with ThreadPoolExecutor(6) as pool:
                results = Counter(pool.map(one, range(12)))
        assert results[(200, "succeeded")] == 9, results
        assert sum(n for key, n in results.items() if key[0] == "sync") == 3
        assert all(set(key[1]) <= {"already_resumed", "resumed"} for key in results if key[0] == "sync"), results
        record = parent_store.record(eid)
        assert record.status == "succeeded" and record.version == version + 1
        resumed = [e for e in record.snapshot["events"] if e["type"] == "remote_resumed"]
        assert len(resumed) == 1
    finally:
        parent.stop()
        remote.stop()
        parent_store.close()
        remote_store.close()
