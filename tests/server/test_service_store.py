"""ServiceStore: the read side of the store protocol over a running server (a real uvicorn in a thread, sharing its
store with the test so every answer can be compared with the store's own)."""

from __future__ import annotations

from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.errors import SnapshotNotFoundError, StoreError
from igniter_nb.server import UnroutableExecutionIdError, service_store
from igniter_nb.server.service_store import ServiceStore
from igniter_nb.stores import MemoryStore
from tests.server.server_contracts import CONTRACTS, Lead

TOKEN = "svc-token"


@pytest.fixture
def served(live_app: Any) -> Any:
    """A MemoryStore with workflows in several states, served by uvicorn; yields (store, client)."""
    store = MemoryStore()
    for request_id in ("r-1", "r-2", "r-3"):
        Lead.start(request_id=request_id, store=store)
    Lead.deliver_event("crm_received", correlation={"request_id": "r-2"}, payload={"name": "Acme"}, store=store)
    Lead.deliver_event("crm_received", correlation={"request_id": "r-3"}, payload={"name": "Beta"}, store=store)
    Lead.deliver_event("billing_received", correlation={"request_id": "r-3"}, payload=1, store=store)
    server = live_app(ig.server.create_app(CONTRACTS, store=store, token=TOKEN))
    with ig.server.Client(server.url, token=TOKEN) as client:
        yield store, client


def test_service_store_lists_and_reads_what_the_store_holds(served: Any) -> None:
    store, client = served
    remote = ServiceStore(client)
    mine = [(r.execution_id, r.version, r.status, r.graph, r.correlation, r.updated_at, r.snapshot) for r in store.list()]
    theirs = [(r.execution_id, r.version, r.status, r.graph, r.correlation, r.updated_at, r.snapshot)
              for r in remote.list()]
    assert theirs == mine  # same records, same order (oldest first), snapshots included
    assert [r.execution_id for r in remote.list(status="succeeded")] == [r.execution_id for r in
                                                                         store.list(status="succeeded")]
    assert [r.execution_id for r in remote.list(graph="lead")] == [r.execution_id for r in store.list(graph="Lead")]
    eid = store.list(status="succeeded")[0].execution_id
    assert remote.record(eid).snapshot == store.record(eid).snapshot and remote.fetch(eid) == store.fetch(eid)
    assert [(r.version, r.status, r.snapshot) for r in remote.history_records(eid)] == [
        (r.version, r.status, r.snapshot) for r in store.history_records(eid)]
    assert remote.history(eid) == store.history(eid)
    assert remote.exists(eid) and remote.version_of(eid) == 3


def test_service_store_pages_like_the_store_it_serves(served: Any) -> None:
    store, client = served
    for i in range(4, 9):
        Lead.start(request_id=f"r-{i}", store=store)
    remote = ServiceStore(client)
    for graph, status in ((None, None), ("Lead", "waiting"), (None, "succeeded")):
        seen, cursor = [], None
        while True:
            page, cursor = remote.list_page(graph, status, limit=3, after=cursor)
            assert len(page) <= 3
            seen += [(r.execution_id, r.version, r.snapshot) for r in page]
            if cursor is None:
                break
        assert seen == [(r.execution_id, r.version, r.snapshot) for r in reversed(store.list(graph, status))]
        assert remote.count(graph, status) == store.count(graph, status)
    assert [r["execution_id"] for r in client.iter_executions(limit=2)] == [
        r.execution_id for r in reversed(store.list())]


def test_service_store_finds_by_correlation_like_a_store(served: Any) -> None:
    store, client = served
    remote = ServiceStore(client)
    for corr in ({"request_id": "r-1"}, {"request_id": "r-3"}, {"request_id": "nope"}):
        assert remote.find_by_correlation("Lead", corr) == store.find_by_correlation("Lead", corr)
        assert remote.find_latest_by_correlation("Lead", corr) == store.find_latest_by_correlation("Lead", corr)
    assert sorted(remote.correlations("Lead")) == sorted(store.correlations("Lead"))
    assert sorted(remote.correlations("Lead", active_only=False)) == sorted(store.correlations("Lead", active_only=False))
    assert remote.correlations("Lead", limit=1) == remote.correlations("Lead")[:1]
    assert remote.correlations("NoSuchGraph") == []


def test_unknown_executions_are_snapshot_not_found_and_writes_are_refused(served: Any) -> None:
    store, client = served
    remote = ServiceStore(client)
    for bad in ("no-such-execution", "../etc/passwd", "a" * 300, "..", ".", "a/b", "a?b", "a#b", "%2F"):
        with pytest.raises(SnapshotNotFoundError) as err:
            remote.record(bad)
        assert client.base_url in str(err.value)
        assert not remote.exists(bad) and remote.version_of(bad) is None
        with pytest.raises(SnapshotNotFoundError):
            remote.history_page(bad, limit=5)
    with pytest.raises(SnapshotNotFoundError) as err:  # the client's refusal, unsent, read as "no snapshot"
        remote.history_records("../etc/passwd")
    assert isinstance(err.value.__cause__, UnroutableExecutionIdError)
    for wrong in ("", None, 7):  # not an execution id at all: the client's ValueError, as a store's
        with pytest.raises(ValueError, match="non-empty str") as refused:
            remote.record(wrong)  # type: ignore[arg-type]
        assert not isinstance(refused.value, SnapshotNotFoundError)
    with pytest.raises(SnapshotNotFoundError):
        remote.history_records("no-such-execution")
    with pytest.raises(StoreError, match="read-only"):
        remote.save({"execution_id": "x"})
    with pytest.raises(StoreError, match="read-only"):
        remote.delete(store.list()[0].execution_id)
    assert len(store.list()) == 3


def test_an_id_with_dots_and_colons_is_read_end_to_end(served: Any) -> None:
    """Only '/', '.' and '..' are refused unsent: an id holding '.', ':' and '-' (a valid one) is sent and read."""
    store, client = served
    snapshot = {**store.list()[0].snapshot, "execution_id": "r.1:x-y"}
    store.save(snapshot, graph="Lead", status="failed")
    assert ServiceStore(client).record("r.1:x-y").snapshot == store.fetch("r.1:x-y")
    assert client.status("r.1:x-y")["execution_id"] == "r.1:x-y"


def test_list_reads_each_snapshot_once_per_version_and_pages(served: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    store, client = served
    monkeypatch.setattr(service_store, "_PAGE", 2)  # three executions: two pages
    remote = ServiceStore(client)
    reads: list[str] = []
    real = client.record
    monkeypatch.setattr(client, "record", lambda eid: reads.append(eid) or real(eid))
    assert len(remote.list()) == 3 and len(reads) == 3
    assert len(remote.list()) == 3 and len(reads) == 3  # nothing changed: nothing read again
    Lead.deliver_event("billing_received", correlation={"request_id": "r-2"}, payload=2, store=store)
    changed = store.find_latest_by_correlation("Lead", {"request_id": "r-2"})
    assert [r.status for r in remote.list() if r.execution_id == changed] == ["succeeded"]
    assert reads[3:] == [changed]  # only the execution whose version moved
    listed = remote.list()[0]
    listed.snapshot["states"].clear()  # a caller changing what it got changes nothing kept
    assert remote.list()[0].snapshot["states"]


def test_a_client_without_the_token_reads_nothing(served: Any) -> None:
    _, client = served
    with ig.server.Client(client.base_url) as anonymous:
        with pytest.raises(ig.server.RemoteError) as err:
            ServiceStore(anonymous).list()
        assert err.value.status_code == 401


def test_service_store_needs_a_client() -> None:
    with pytest.raises(TypeError, match=r"ig\.server\.Client"):
        ServiceStore(MemoryStore())


def test_served_name_and_the_store_repr(served: Any) -> None:
    _, client = served
    remote = ServiceStore(client)
    assert remote.served_name(Lead.compiled_graph()) == "lead" and remote.served_name("Price") == "price"
    with pytest.raises(ig.server.UnknownContractError, match="serves no contract of graph 'Other'"):
        remote.served_name("Other")
    bundle = remote._repr_mimebundle_()
    assert "3 executions" in bundle["text/plain"] and "ServiceStore" in bundle["text/html"]
    assert repr(remote) == f"ServiceStore({client.base_url})"
