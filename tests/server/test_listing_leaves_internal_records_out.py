"""``GET /v1/executions`` (its pages, cursors and ``total``), ``Client.executions`` and a notebook reading the
service (``ServiceStore``) list the user's executions only: the LLM layer's leases and cached replies in the same
store are left out unless their graph is asked for by name (``model/reserved.py``)."""

from __future__ import annotations

from typing import Any

import igniter_nb as ig
from igniter_nb.llm.cache import CACHE_GRAPH
from igniter_nb.llm.lease import LEASE_GRAPH, ResumeLease
from igniter_nb.server import Client
from igniter_nb.server.service_store import ServiceStore
from igniter_nb.stores import SQLStore
from tests.server.server_contracts import CONTRACTS


def _ids(page: dict[str, Any]) -> list[str]:
    return [row["execution_id"] for row in page["executions"]]


def test_the_listing_route_leaves_the_llm_records_out(live_app: Any, tmp_path: Any) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 'served.db'}")
    cache = ig.llm.StoreCache(store)
    server = live_app(ig.server.create_app(CONTRACTS, store=store))
    with Client(server.url, timeout=10) as client:
        started = []
        for n in range(3):  # the LLM records saved newest, around and between the user's executions
            cache.put(f"key-{n}", {"text": f"reply {n}"}, {"model": "m"})
            started.append(client.execute("lead", inputs={"request_id": f"r-{n}"})["execution_id"])
            ResumeLease.claim(store, f"token-{n}", 60).finish()
        newest_first = started[::-1]
        page = client.executions(limit=1000, total=True)
        assert (_ids(page), page["total"]) == (newest_first, 3)
        waiting = client.executions(status="succeeded", total=True)
        assert waiting["executions"] == [] and waiting["total"] == 0  # (the records' status: none listed)
        assert client.executions(status="waiting", total=True)["total"] == 3
        assert [row["execution_id"] for row in client.iter_executions(limit=1)] == newest_first
        first = client.executions(limit=2)
        assert _ids(first) == newest_first[:2] and first["next_cursor"]
        rest = client.executions(limit=2, cursor=first["next_cursor"])
        assert (_ids(rest), rest["next_cursor"]) == (newest_first[2:], None)
        by_offset = client.executions(limit=2, offset=2)
        assert (_ids(by_offset), by_offset["next_offset"]) == (newest_first[2:], None)
        # asked for by name, they are there
        cached = client.executions(CACHE_GRAPH, total=True)
        assert cached["total"] == 3 and {row["graph"] for row in cached["executions"]} == {CACHE_GRAPH}
        assert client.executions(LEASE_GRAPH, "succeeded", total=True)["total"] == 3
        # a notebook reading the service sees what the route answers
        remote = ServiceStore(client)
        assert [r.execution_id for r in remote.list()] == started and remote.count() == 3
        assert list(ig.nb.store_frame(client)["execution_id"]) == started
    store.close()
