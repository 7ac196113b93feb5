"""``GET /v1/executions/{id}`` of a parent whose remote node's wait a deploy dropped (the node renamed before the
remote execution finished: ``test_trial_remote_graph_changed.py``) showed ``pending`` with an empty ``pending``
list — nothing waited on, nothing said. The view now lists the wait in ``dropped_waits``: the old node, the remote
execution, and the error ``sync_remote`` reports for it as ``unreadable`` (naming the ``migrate(rename=...)`` call);
nothing is written. Once migrated, the wait is pending again and ``dropped_waits`` is empty. Real uvicorn on
127.0.0.1, memory stores."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.server.live_server import LiveServer
from tests.server.test_trial_remote_graph_changed import Deploys

Live = Callable[..., LiveServer]


def _read(d: Deploys, eid: str) -> httpx.Response:
    return httpx.get(f"{d.parent.url}/v1/executions/{eid}", headers={"Authorization": "Bearer parent-secret"},
                     timeout=10)


def test_the_view_names_a_wait_the_deploy_dropped_as_sync_remote_does(live_app: Live) -> None:
    d = Deploys(live_app)
    eid, rid, _ = d.start()
    version = d.store.record(eid).version
    answer = _read(d, eid)
    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert view["status"] == "pending" and view["pending"] == []
    [dropped] = view["dropped_waits"]
    [synced] = d.new.sync_remote(store=d.store)
    assert dropped == {"node": "sentiment", "remote_execution_id": rid, "remote_contract": "deferred",
                       "remote_url": d.remote.url, "error": synced["error"]}
    assert dropped["error"].startswith(f"this remote wait is for remote node 'sentiment' of Article {eid} (waiting "
                                       f"for remote execution '{rid}'), which the current graph no longer has")
    assert "Article.migrate(store, rename={'sentiment': <its new name>})" in dropped["error"]
    assert d.store.record(eid).version == version  # a read writes nothing


def test_once_migrated_the_wait_is_pending_again(live_app: Live) -> None:
    d = Deploys(live_app)
    eid, rid, _ = d.start()
    d.new.migrate(d.store, rename={"sentiment": "mood"})
    view = _read(d, eid).json()
    assert view["dropped_waits"] == []
    [pending] = view["pending"]  # (its "node" is the deferral's source as stored: still "sentiment")
    assert pending["payload"]["remote_execution_id"] == rid


def test_the_schema_documents_it(live_app: Live) -> None:
    d = Deploys(live_app)
    schemas = httpx.get(f"{d.parent.url}/openapi.json", timeout=10).json()["components"]["schemas"]
    field = schemas["ExecutionDetail"]["properties"]["dropped_waits"]
    assert "migrate" in field["description"]
    assert set(schemas["DroppedWait"]["properties"]) == {"node", "remote_execution_id", "remote_contract",
                                                         "remote_url", "error"}
