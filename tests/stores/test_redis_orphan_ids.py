"""An id in the listing sets (``<ns>:recent`` and its per-graph / per-status sets) with no record behind it — left
by a release whose delete predates those sets, or a record key removed by hand or evicted — was counted by
``count()`` but left out by ``list()`` and ``list_page()``. The count now checks, in its one read, that the
listing set holds no more ids than the id set it mirrors, and takes ids without a record out when it does; a
listing that meets one takes it out too. Real Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from igniter_nb.stores import RedisStore


def _save(store: Any, eid: str, graph: str, status: str) -> None:
    store.save({"format": "igniter_nb.snapshot/1", "graph": graph, "execution_id": eid}, graph=graph, status=status)


def _deleted_by_an_older_release(store: Any, eid: str, graph: str) -> None:
    """What a release whose delete predates the listing sets did: the record and its id sets, not the listing."""
    ns = store.namespace
    store.client.delete(f"{ns}:exec:{eid}", f"{ns}:hist:{eid}")
    store.client.srem(f"{ns}:ids", eid)
    store.client.srem(f"{ns}:graph:{graph}", eid)


def _walk(store: Any, graph: str | None = None, status: str | None = None) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page, cursor = store.list_page(graph, status, limit=1, after=cursor)
        seen += [r.execution_id for r in page]
        if cursor is None:
            return seen


@pytest.fixture
def store(redis_url: str) -> Iterator[Any]:
    name = f"orph{uuid.uuid4().hex[:8]}"
    opened = RedisStore(redis_url, namespace=name)
    yield opened
    for key in opened.client.scan_iter(f"{name}:*"):
        opened.client.delete(key)
    opened.close()


@pytest.fixture
def three(store: Any) -> Any:
    _save(store, "a-1", "Order", "succeeded")
    _save(store, "a-2", "Order", "waiting")
    _save(store, "b-1", "Invoice", "waiting")
    assert store.count() == 3  # the listing sets are complete (once-only markers set)
    return store


def test_an_id_an_older_release_deleted_is_not_counted(three: Any, redis_url: str) -> None:
    store = three
    _deleted_by_an_older_release(store, "a-2", "Order")
    assert store.client.zscore(f"{store.namespace}:recent", "a-2") is not None  # the orphan
    for counter in (store, RedisStore(redis_url, namespace=store.namespace)):
        assert counter.count() == len(counter.list()) == len(_walk(counter)) == 2
        assert counter.count(status="waiting") == len(counter.list(status="waiting")) == 1
        assert counter.count(graph="Order") == len(counter.list(graph="Order")) == len(_walk(counter, "Order")) == 1
        assert counter.count(graph="Order", status="waiting") == 0 == len(_walk(counter, "Order", "waiting"))
    ns = store.namespace
    for key in (f"{ns}:recent", f"{ns}:recent:status:waiting", f"{ns}:recent:graph:Order",
                f"{ns}:recent:gs:waiting:Order"):
        assert store.client.zscore(key, "a-2") is None, key  # taken out of every listing set


def test_the_per_graph_count_finds_the_orphan_first(three: Any) -> None:
    store = three
    _deleted_by_an_older_release(store, "b-1", "Invoice")
    assert store.count(graph="Invoice", status="waiting") == 0
    assert store.count(graph="Invoice") == 0
    assert store.count(status="waiting") == 1 and store.count() == 2


def test_a_record_key_removed_by_hand_is_taken_out_when_a_listing_meets_it(three: Any) -> None:
    """The id stays in ``<ns>:ids`` (and its graph's id set) too, so no count can see it cheaply: the first listing
    that reads it takes it out of the sets it knows — every graph's and status's, and its graph's when the listing
    is of that graph (checked in one script: a record saved again meanwhile stays)."""
    store = three
    store.client.delete(f"{store.namespace}:exec:a-1")
    assert [r.execution_id for r in store.list_page(limit=10)[0]] == ["b-1", "a-2"]
    assert store.count() == len(store.list()) == 2
    assert store.count(status="succeeded") == 0
    assert not store.client.sismember(f"{store.namespace}:ids", "a-1")
    assert _walk(store, "Order") == ["a-2"]  # a listing of its graph: out of that graph's sets too
    assert store.count(graph="Order") == len(store.list(graph="Order")) == 1
    assert store.count(graph="Order", status="succeeded") == 0


def test_list_takes_out_what_it_meets_too(three: Any) -> None:
    store = three
    store.client.delete(f"{store.namespace}:exec:b-1")
    assert [r.execution_id for r in store.list(graph="Invoice")] == []
    assert store.count(graph="Invoice") == 0 and store.count() == 2 and store.count(status="waiting") == 1


def test_an_id_saved_again_is_not_taken_out(three: Any) -> None:
    store = three
    _deleted_by_an_older_release(store, "a-2", "Order")
    _save(store, "a-2", "Order", "waiting")  # saved again: a record again
    assert store.count() == 3 and store.count(graph="Order", status="waiting") == 1
    assert sorted(_walk(store)) == ["a-1", "a-2", "b-1"]


def test_a_count_looks_for_orphans_only_when_the_sets_disagree(three: Any, monkeypatch: Any) -> None:
    store = three
    listing = store._listing_of()
    scans: list[str] = []
    drop = listing._drop_orphans
    monkeypatch.setattr(listing, "_drop_orphans", lambda index, graph: (scans.append(index), drop(index, graph))[1])
    for _ in range(3):
        assert store.count() == 3 and store.count(graph="Order") == 2 and store.count(status="waiting") == 2
    assert scans == []
    _deleted_by_an_older_release(store, "a-1", "Order")
    assert [store.count() for _ in range(3)] == [2, 2, 2]
    assert [store.count(graph="Order") for _ in range(3)] == [1, 1, 1]
    assert scans == [f"{store.namespace}:recent", f"{store.namespace}:recent:graph:Order"]


def test_counting_many_graphs_keeps_nothing_per_graph(store: Any) -> None:
    """A per-graph count remembers an excess only while there is one (a count of every name ever asked for would
    make the listing grow without bound)."""
    _save(store, "a-1", "Order", "succeeded")
    for i in range(50):
        assert store.count(graph=f"G{i}") == 0
    assert store._listing_of()._graph_left_over == {}


def test_a_record_key_removed_by_hand_is_not_counted_before_any_listing(three: Any) -> None:
    """The id stays in ``<ns>:ids``, ``<ns>:recent`` and its graph's sets, so no two sets disagree: the count's
    sweep of the id set it mirrors (every id checked for a record, in the count's one script) takes it out first."""
    store = three
    store.client.delete(f"{store.namespace}:exec:a-1")
    assert store.count() == 2
    assert store.count(status="succeeded") == 0
    assert store.count(graph="Order") == 1 and store.count(graph="Order", status="succeeded") == 0
    assert not store.client.sismember(f"{store.namespace}:ids", "a-1")
    assert not store.client.sismember(f"{store.namespace}:graph:Order", "a-1")
    assert store.count() == len(store.list()) == len(_walk(store)) == 2
    assert store.count(graph="Order") == len(store.list(graph="Order")) == len(_walk(store, "Order")) == 1


def test_a_record_key_removed_in_an_internal_graph_leaves_no_excess(three: Any) -> None:
    """A sweep of every graph's ids does not know an orphan's graph: it takes it out of the internal graphs' sets
    too, which the count subtracts (else the count would see an excess and scan ``<ns>:recent``)."""
    store = three
    _save(store, "lease-1", "igniter_nb.leases", "succeeded")
    assert store.count() == 3
    store.client.delete(f"{store.namespace}:exec:lease-1")
    listing = store._listing_of()
    scans: list[str] = []
    listing._drop_orphans = lambda index, graph: scans.append(index)  # type: ignore[method-assign]
    assert store.count() == 3 and scans == []
    assert not store.client.sismember(f"{store.namespace}:graph:igniter_nb.leases", "lease-1")


def test_a_large_id_set_is_swept_over_the_next_counts(three: Any) -> None:
    """A count checks at most ``SWEPT`` ids (bounded server time); the next counts go on from where it stopped."""
    from igniter_nb.stores.redis_listing import SWEPT

    store, ns = three, three.namespace
    orphans = [f"gone-{i}" for i in range(SWEPT + SWEPT // 2)]
    store.client.sadd(f"{ns}:ids", *orphans)
    store.client.zadd(f"{ns}:recent", {eid: 1 for eid in orphans})
    counts = [store.count() for _ in range(4)]
    assert counts[0] < 3 + len(orphans) and counts[-1] == 3, counts
    assert counts == sorted(counts, reverse=True)
    assert store.client.scard(f"{ns}:ids") == 3
