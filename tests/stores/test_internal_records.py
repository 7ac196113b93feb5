"""Internal records — graphs named ``igniter_nb.…`` (the LLM layer's resume leases and cached replies) — are left
out of ``list()``, ``list_page()`` and ``count()`` unless their graph is asked for by name, on every store kind;
paging stays exact (a page of ``limit`` holds ``limit`` user records when there are more) and they are still
found by id (``model/reserved.py``)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from igniter_nb.stores import RedisStore, paging
from igniter_nb.stores.rules import INTERNAL_GRAPH_PREFIX, is_internal_graph, listed

CACHE = "igniter_nb.llm_cache"
LEASE = "igniter_nb.llm_resume"
# near misses: not the reserved prefix exactly (SQLite's LIKE would take the upper-case ones for it)
NEAR = ("igniter_nb", "IGNITER_NB.x", "Igniter_nb.llm_cache", "igniter_nbXllm", "x.igniter_nb.y", "igniter-nb.y")


def snap(eid: str, graph: str) -> dict[str, Any]:
    return {"format": "igniter_nb.snapshot/1", "graph": graph, "execution_id": eid}


def _save(store: Any, eid: str, graph: str, status: str = "succeeded") -> None:
    store.save(snap(eid, graph), graph=graph, status=status)


def _walk(store: Any, graph: str | None = None, status: str | None = None, *, limit: int) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page, cursor = store.list_page(graph, status, limit=limit, after=cursor)
        if cursor is not None:  # not the last page: a full one
            assert len(page) == limit
        seen += [r.execution_id for r in page]
        if cursor is None:
            return seen


def _ids(records: Any) -> list[str]:
    return [r.execution_id for r in records]


def test_the_reserved_prefix() -> None:
    assert INTERNAL_GRAPH_PREFIX == "igniter_nb."
    assert is_internal_graph(CACHE) and is_internal_graph(LEASE) and is_internal_graph("igniter_nb.")
    assert not any(is_internal_graph(name) for name in (*NEAR, None, "", "Order"))
    assert listed("Order", None) and listed(None, None) and not listed(CACHE, None)
    assert listed(CACHE, CACHE) and not listed("Order", CACHE)


def test_internal_records_are_left_out_of_every_listing(store: Any) -> None:
    _save(store, "llm-cache.k1", CACHE)
    _save(store, "u-1", "Order", "waiting")
    _save(store, "llm-resume.a", LEASE)
    _save(store, "u-2", "Invoice", "succeeded")
    _save(store, "llm-cache.k2", CACHE)
    for i, name in enumerate(NEAR):
        _save(store, f"near-{i}", name)
    user = ["u-1", "u-2", *(f"near-{i}" for i in range(len(NEAR)))]

    assert _ids(store.list()) == user
    assert _ids(store.list(status="succeeded")) == user[1:]
    assert store.count() == len(user) and store.count(status="succeeded") == len(user) - 1
    assert _walk(store, limit=2) == user[::-1]
    assert _walk(store, status="succeeded", limit=3) == user[:0:-1]
    assert paging.count(store) == len(user)

    # asked for by name, they are there — graph alone and with a status
    assert _ids(store.list(graph=CACHE)) == ["llm-cache.k1", "llm-cache.k2"]
    assert _ids(store.list(graph=LEASE, status="succeeded")) == ["llm-resume.a"]
    assert store.count(graph=CACHE) == 2 and store.count(graph=CACHE, status="succeeded") == 2
    assert _walk(store, CACHE, limit=1) == ["llm-cache.k2", "llm-cache.k1"]
    assert _walk(store, LEASE, "succeeded", limit=5) == ["llm-resume.a"]

    # and by id, as the LLM layer finds them
    assert store.exists("llm-cache.k1") and store.fetch("llm-cache.k1")["graph"] == CACHE
    assert store.record("llm-resume.a").graph == LEASE
    assert len(store.history_records("llm-cache.k2")) == 1
    assert store.delete("llm-cache.k1") and store.count(graph=CACHE) == 1 and store.count() == len(user)


def test_a_page_of_limit_holds_limit_user_records_among_many_internal_ones(store: Any) -> None:
    """Internal records saved between (and newest of all) the user's: every page but the last is full of user
    records, the cursors go on across the internal stretches, and nothing is repeated or skipped."""
    user = []
    for i in range(7):
        for j in range(4):
            _save(store, f"llm-cache.{i}-{j}", CACHE)
        _save(store, f"run-{i}", "Order", ("waiting", "succeeded")[i % 2])
        user.append(f"run-{i}")
    for j in range(5):
        _save(store, f"llm-resume.{j}", LEASE)
    for limit in (1, 2, 3, 7, 8):
        assert _walk(store, limit=limit) == user[::-1]
    page, cursor = store.list_page(limit=3)
    assert _ids(page) == ["run-6", "run-5", "run-4"] and cursor is not None
    _save(store, "llm-cache.late", CACHE)  # saved while a client pages: no effect on the next page
    page, cursor = store.list_page(limit=3, after=cursor)
    assert _ids(page) == ["run-3", "run-2", "run-1"] and cursor is not None
    page, cursor = store.list_page(limit=3, after=cursor)
    assert (_ids(page), cursor) == (["run-0"], None)
    assert _walk(store, status="waiting", limit=2) == ["run-6", "run-4", "run-2", "run-0"]
    # a cursor taken from a page of the internal graph continues a listing of the user's at that key
    internal, at = store.list_page(CACHE, limit=6)  # the late one, then 6-3 ... 5-3
    assert at is not None and internal[-1].execution_id == "llm-cache.5-3"
    assert _ids(store.list_page(limit=10, after=at)[0]) == ["run-4", "run-3", "run-2", "run-1", "run-0"]
    assert store.count() == 7 and store.count(graph=CACHE) == 29 and store.count(graph=LEASE) == 5


def test_an_execution_saved_again_under_another_graph_moves_in_or_out_of_the_listing(store: Any) -> None:
    _save(store, "shifty", "Order", "waiting")
    _save(store, "other", "Order", "waiting")
    store.save(snap("shifty", CACHE), graph=CACHE, status="succeeded")
    assert _ids(store.list()) == ["other"] and store.count() == 1 and store.count(status="waiting") == 1
    assert _walk(store, limit=1) == ["other"] and _walk(store, status="succeeded", limit=1) == []
    assert store.count(graph="Order") == 1 and _ids(store.list(graph=CACHE)) == ["shifty"]
    store.save(snap("shifty", "Order"), graph="Order", status="failed")
    assert _walk(store, limit=1) == ["shifty", "other"] and store.count() == 2
    assert _walk(store, status="failed", limit=1) == ["shifty"] and store.count(graph=CACHE) == 0


@pytest.mark.parametrize("old", ["no listing index", "listing index with internal records"])
def test_redis_takes_internal_records_an_earlier_release_listed_out(redis_url: str, old: str) -> None:
    """What an earlier release left: internal records in the sets listing every graph (or no listing sets at all);
    the first listing of this release takes them out once."""
    namespace = f"old{uuid.uuid4().hex[:8]}"
    store = RedisStore(redis_url, namespace=namespace)
    try:
        _save(store, "u-1", "Order")
        _save(store, "llm-cache.1", CACHE)
        _save(store, "llm-resume.1", LEASE, "waiting")
        _save(store, "u-2", "Order", "waiting")
        client, recent = store.client, f"{namespace}:recent"
        if old == "no listing index":
            for key in client.scan_iter(f"{namespace}:recent*"):
                client.delete(key)
        else:
            for eid, status in (("llm-cache.1", "succeeded"), ("llm-resume.1", "waiting")):
                score = client.zscore(f"{recent}:graph:igniter_nb.llm_cache", eid) or client.zscore(
                    f"{recent}:graph:igniter_nb.llm_resume", eid)
                client.zadd(recent, {eid: score})
                client.zadd(f"{recent}:status:{status}", {eid: score})
            client.delete(f"{recent}:internal-out")
            assert client.zcard(recent) == 4
        fresh = RedisStore(redis_url, namespace=namespace)
        assert fresh.count() == 2 and fresh.count(status="waiting") == 1
        assert _walk(fresh, limit=1) == ["u-2", "u-1"] and _walk(fresh, status="waiting", limit=1) == ["u-2"]
        assert fresh.count(graph=CACHE) == 1 and _walk(fresh, LEASE, "waiting", limit=1) == ["llm-resume.1"]
        assert client.zcard(recent) == 2 and client.exists(f"{recent}:internal-out")
        fresh.close()
    finally:
        for key in store.client.scan_iter(f"{namespace}:*"):
            store.client.delete(key)
        store.close()


def test_redis_namespace_with_glob_characters(redis_url: str) -> None:
    """The once-only clean-up finds its keys by a MATCH pattern: a namespace holding ``*`` or ``[`` matches only
    itself, never another store's keys."""
    tag = uuid.uuid4().hex[:8]
    mine, neighbour = RedisStore(redis_url, namespace=f"g*[{tag}]"), RedisStore(redis_url, namespace=f"gx{tag}")
    try:
        for s, cached in ((mine, "llm-cache.1"), (neighbour, "llm-cache.2")):
            _save(s, "u-1", "Order")
            _save(s, cached, CACHE)
            s.client.zadd(f"{s.namespace}:recent", {cached: 1})  # an earlier release's leftover in each
        neighbour.client.delete(f"gx{tag}:recent:internal-out")
        mine.client.delete(f"g*[{tag}]:recent:internal-out")
        again = RedisStore(redis_url, namespace=f"g*[{tag}]")
        assert _ids(again.list_page(limit=5)[0]) == ["u-1"] and again.count() == 1
        again.close()
        assert neighbour.client.zcard(f"gx{tag}:recent") == 2  # left to its own store's first listing
    finally:
        for s in (mine, neighbour):
            for key in s.client.scan_iter(match=f"g*{tag}*"):
                if key.decode().startswith(f"{s.namespace}:"):
                    s.client.delete(key)
            s.close()


def test_export_parquet_of_every_execution_leaves_internal_records_out(tmp_path: Any) -> None:
    from igniter_nb.stores import MemoryStore, ParquetStore, export_parquet

    store = MemoryStore()
    _save(store, "u-1", "Order")
    _save(store, "llm-cache.1", CACHE)
    assert export_parquet(store, tmp_path / "all") == 1
    assert export_parquet(store, tmp_path / "named", execution_ids=["llm-cache.1"]) == 1
    with ParquetStore(tmp_path / "all") as exported, ParquetStore(tmp_path / "named") as named:
        assert _ids(exported.list()) == ["u-1"] and _ids(named.list(graph=CACHE)) == ["llm-cache.1"]


def test_a_third_party_store_listing_everything_is_filtered_by_the_fallbacks() -> None:
    """A store written against the protocol alone (its ``list`` answers internal records too): the views' paging and
    counting fallbacks, and ``StoreBase``'s default ``count``, still leave them out."""
    from igniter_nb.stores import MemoryStore
    from igniter_nb.stores.base import StoreBase

    inner = MemoryStore()
    for eid, graph in (("u-1", "Order"), ("llm-cache.1", CACHE), ("u-2", "Order"), ("llm-resume.1", LEASE)):
        _save(inner, eid, graph)

    class Everything(StoreBase):
        def list(self, graph: str | None = None, status: str | None = None) -> list[Any]:
            hidden = [] if graph is not None else inner.list(CACHE, status) + inner.list(LEASE, status)
            return sorted(hidden + inner.list(graph, status), key=lambda r: (r.updated_at, r.execution_id))

    class Minimal:
        list = Everything.list

    for legacy in (Everything(), Minimal()):
        page, cursor = paging.list_page(legacy, limit=1)
        assert _ids(page) == ["u-2"] and _ids(paging.list_page(legacy, limit=5, after=cursor)[0]) == ["u-1"]
        assert paging.count(legacy) == 2 and paging.count(legacy, CACHE) == 1
        assert _ids(paging.list_page(legacy, LEASE, limit=5)[0]) == ["llm-resume.1"]
    assert Everything().count() == 2 and Everything().count(graph=LEASE) == 1
