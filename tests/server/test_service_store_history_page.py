"""``ServiceStore.history_page``: one page of an execution's history through the server's paged history route
(``cursor``, ``limit``), so the server reads and sends only the page — against a real uvicorn serving a store the
test also reads directly; and ``ig.nb.SnapshotStepper`` over it opens without reading the whole history."""

from __future__ import annotations

from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.errors import SnapshotNotFoundError, StoreArgumentError
from igniter_nb.server.service_store import ServiceStore
from igniter_nb.stores import MemoryStore, paging
from tests.server.server_contracts import CONTRACTS

TOKEN = "page-token"


class CountingStore(MemoryStore):
    """A MemoryStore that notes which history reads the server makes of it."""

    def __init__(self) -> None:
        super().__init__()
        self.pages: list[tuple[int, int]] = []
        self.wholes = 0

    def history_page(self, execution_id: str, *, after_version: int = 0, limit: int) -> list[Any]:
        self.pages.append((after_version, limit))
        return super().history_page(execution_id, after_version=after_version, limit=limit)

    def history_records(self, execution_id: str) -> list[Any]:
        self.wholes += 1
        return super().history_records(execution_id)


def _versions(store: Any, count: int, eid: str = "e-1") -> None:
    version = 0
    for i in range(count):
        version = store.save({"execution_id": eid, "graph": "Lead", "step": i}, expected_version=version,
                             graph="Lead", correlation={"request_id": eid}, status="running")


@pytest.mark.parametrize("max_versions", [100, 4])
def test_a_page_is_read_through_the_routes_own_pages(live_app: Any, max_versions: int) -> None:
    store = CountingStore()
    _versions(store, 23)
    server = live_app(ig.server.create_app(CONTRACTS, store=store, token=TOKEN, max_history_versions=max_versions))
    with ig.server.Client(server.url, token=TOKEN) as client:
        remote = ServiceStore(client)
        page = remote.history_page("e-1", after_version=5, limit=3)
        assert [(r.version, r.snapshot, r.status) for r in page] == [
            (r.version, r.snapshot, r.status) for r in store.history_page("e-1", after_version=5, limit=3)]
        assert store.pages[0] == (5, 4)  # the page and the one past it (for next_cursor): never the whole history
        assert store.wholes == 0

        store.pages.clear()
        ten = remote.history_page("e-1", after_version=2, limit=10)  # past a server page of 4: several pages
        assert [r.version for r in ten] == list(range(3, 13))
        assert all(limit <= max_versions + 1 for _, limit in store.pages) and store.wholes == 0
        assert [r.version for r in paging.history_page(remote, "e-1", after_version=20, limit=10)] == [21, 22, 23]
        assert remote.history_page("e-1", after_version=23, limit=5) == []
        assert remote.history_page("e-1", after_version=10**16, limit=5) == []
        with pytest.raises(SnapshotNotFoundError):
            remote.history_page("nope", limit=5)
        with pytest.raises(SnapshotNotFoundError):
            remote.history_page("nope", after_version=10**16, limit=5)
        with pytest.raises(StoreArgumentError):
            remote.history_page("e-1", after_version=-1, limit=5)
        assert store.wholes == 0


def test_a_stepper_over_the_service_opens_without_the_whole_history(live_app: Any) -> None:
    store = CountingStore()
    _versions(store, 120)
    server = live_app(ig.server.create_app(CONTRACTS, store=store, token=TOKEN))
    with ig.server.Client(server.url, token=TOKEN) as client:
        from igniter_nb.notebook.stepper_sources import LazyVersions, open_versions

        versions = open_versions(ServiceStore(client), "e-1")
        assert isinstance(versions, LazyVersions) and len(versions) == 120
        assert store.pages == [(119, 2)] and store.wholes == 0  # opening: the latest version only
        assert versions[60].snapshot["step"] == 60  # its page, when first looked at
        assert store.pages[1] == (50, 51) and store.wholes == 0
