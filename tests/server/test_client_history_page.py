"""``Client.history_page`` / ``AsyncClient.history_page``: one page of an execution's history (the history route's
``cursor`` and ``limit``), checked as a store's ``history_page`` checks its arguments — against a real uvicorn
serving a store the test also reads directly, and in-process over ASGI; and ``ServiceStore.history_page`` reading
through it (the client's public calls only), including its fallbacks for a server that pages fewer versions and
for one whose route predates ``cursor``/``limit``."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

import igniter_nb as ig
from igniter_nb.errors import SnapshotNotFoundError, StoreArgumentError
from igniter_nb.server import AsyncClient, Client, RemoteError
from igniter_nb.server.service_store import ServiceStore
from igniter_nb.stores import MemoryStore
from tests.server.server_contracts import CONTRACTS

TOKEN = "page-token"


def _store(count: int, eid: str = "e-1") -> MemoryStore:
    store = MemoryStore()
    version = 0
    for i in range(count):
        version = store.save({"execution_id": eid, "graph": "Lead", "step": i}, expected_version=version,
                             graph="Lead", correlation={"request_id": eid}, status="running")
    return store


def _numbers(page: dict[str, Any]) -> list[int]:
    return [v["version"] for v in page["versions"]]


BAD_ARGUMENTS = [({"after_version": -1}, "after_version must be an int >= 0, got -1"),
                 ({"after_version": "3"}, "after_version must be an int >= 0, got '3'"),
                 ({"after_version": True}, "after_version must be an int >= 0, got True"),
                 ({"limit": 0}, "limit must be an int from 1 to 100001, got 0"),
                 ({"limit": 2.0}, "limit must be an int from 1 to 100001, got 2.0"),
                 ({"limit": 100_002}, "limit must be an int from 1 to 100001, got 100002")]


def test_the_client_reads_one_page_of_the_history(live_app: Any) -> None:
    store = _store(10)
    server = live_app(ig.server.create_app(CONTRACTS, store=store, token=TOKEN, max_history_versions=4))
    with Client(server.url, token=TOKEN) as client:
        page = client.history_page("e-1", after_version=2, limit=3)
        assert page == {"execution_id": "e-1", "limit": 3, "next_cursor": "5", "versions": [
            {"version": r.version, "status": r.status, "updated_at": r.updated_at.isoformat(), "snapshot": r.snapshot}
            for r in store.history_page("e-1", after_version=2, limit=3)]}
        assert _numbers(client.history_page("e-1", after_version=int(page["next_cursor"]), limit=3)) == [6, 7, 8]
        first = client.history_page("e-1")  # no limit: the server's page (max_history_versions)
        assert _numbers(first) == [1, 2, 3, 4] and first["limit"] == 4 and first["next_cursor"] == "4"
        last = client.history_page("e-1", after_version=8, limit=4)
        assert _numbers(last) == [9, 10] and last["next_cursor"] is None
        assert client.history_page("e-1", after_version=10)["versions"] == []
        # past any version the route's cursor can name (15 digits): past the end, as a store answers
        assert client.history_page("e-1", after_version=10**16, limit=5) == {
            "execution_id": "e-1", "versions": [], "limit": 5, "next_cursor": None}

        with pytest.raises(RemoteError) as over:  # the server pages fewer: its 422 names its largest page
            client.history_page("e-1", limit=5)
        assert over.value.status_code == 422 and over.value.body["limit"] == 4
        for eid, after in (("nope", 0), ("nope", 10**16)):
            with pytest.raises(RemoteError) as unknown:
                client.history_page(eid, after_version=after, limit=2)
            assert unknown.value.status_code == 404
        for arguments, message in BAD_ARGUMENTS:
            with pytest.raises(StoreArgumentError, match=message):
                client.history_page("e-1", **arguments)
        with pytest.raises(ValueError, match="execution id must be a non-empty str"):
            client.history_page("", limit=2)
    assert [r.version for r in store.history_records("e-1")] == list(range(1, 11))  # nothing changed


def test_the_async_client_reads_the_same_pages(store: Any) -> None:
    for i in range(7):
        store.save({"execution_id": "e-2", "step": i}, expected_version=i, graph="Lead", status="running")
    app = ig.server.create_app(CONTRACTS, store=store, max_history_versions=3)

    async def read() -> list[Any]:
        async with AsyncClient("http://igniter.test", transport=httpx.ASGITransport(app=app)) as client:
            pages = [await client.history_page("e-2", after_version=1, limit=2), await client.history_page("e-2"),
                     await client.history_page("e-2", after_version=6, limit=3),
                     await client.history_page("e-2", after_version=10**15, limit=1)]
            for arguments, message in BAD_ARGUMENTS:
                with pytest.raises(StoreArgumentError, match=message):
                    await client.history_page("e-2", **arguments)
            with pytest.raises(RemoteError) as unknown:
                await client.history_page("nope", limit=1)
            assert unknown.value.status_code == 404
            return pages

    pages = anyio.run(read)
    assert [(_numbers(p), p["next_cursor"]) for p in pages] == [([2, 3], "3"), ([1, 2, 3], "3"), ([7], None),
                                                               ([], None)]


class PublicCalls:
    """A ``Client`` seen only through its public calls: what ``ServiceStore`` may use of it."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(f"ServiceStore reached into the client's private {name}")
        return getattr(self._client, name)


@pytest.mark.parametrize("max_versions", [100, 4])
def test_the_service_store_pages_through_the_clients_public_call(live_app: Any, max_versions: int) -> None:
    store = _store(23)
    server = live_app(ig.server.create_app(CONTRACTS, store=store, token=TOKEN, max_history_versions=max_versions))
    with Client(server.url, token=TOKEN) as client:
        remote = ServiceStore(PublicCalls(client))
        assert [r.version for r in remote.history_page("e-1", after_version=5, limit=3)] == [6, 7, 8]
        assert [r.version for r in remote.history_page("e-1", after_version=2, limit=10)] == list(range(3, 13))
        assert remote.history_page("e-1", after_version=10**16, limit=5) == []
        with pytest.raises(SnapshotNotFoundError):
            remote.history_page("nope", after_version=10**16, limit=5)
        with pytest.raises(StoreArgumentError, match="limit must be an int from 1 to 100001"):
            remote.history_page("e-1", limit=0)


def test_the_service_store_reads_its_largest_limit_in_the_routes_pages(live_app: Any) -> None:
    # limit=100001 is a store's largest (a page of 100000 and the one past it); the route answers at most 100000
    store = _store(3)
    server = live_app(ig.server.create_app(CONTRACTS, store=store, token=TOKEN, max_history_versions=100_000))
    with Client(server.url, token=TOKEN) as client:
        assert [r.version for r in ServiceStore(client).history_page("e-1", limit=100_001)] == [1, 2, 3]


def _older_server(store: MemoryStore) -> Any:
    """A server whose history route predates ``cursor``/``limit``: it answers every version, whatever is asked."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def history(request: Request) -> JSONResponse:
        eid = request.path_params["eid"]
        records = store.history_records(eid)
        if request.query_params.get("latest") == "true":
            records = records[-1:]
        return JSONResponse({"execution_id": eid, "versions": [
            {"version": r.version, "status": r.status, "updated_at": r.updated_at.isoformat(), "snapshot": r.snapshot}
            for r in records]})

    return Starlette(routes=[Route("/v1/executions/{eid}/history", history)])


def test_the_service_store_cuts_the_page_from_an_older_servers_whole_history(live_app: Any) -> None:
    store = _store(9)
    server = live_app(_older_server(store))
    with Client(server.url) as client:
        remote = ServiceStore(client)
        assert [r.version for r in remote.history_page("e-1", after_version=3, limit=2)] == [4, 5]
        assert [r.version for r in remote.history_page("e-1", after_version=7, limit=5)] == [8, 9]
        assert remote.history_page("e-1", after_version=9, limit=5) == []
