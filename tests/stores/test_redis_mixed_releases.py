"""A Redis database written by a mix of releases: an older release, still running beside this one, puts its saves of
internal records (graphs ``igniter_nb.…``) in the sets listing every graph again, after this release's once-only
clean-up ran. ``count()`` was one ``ZCARD`` of those sets, so it counted them (``list()`` and ``list_page()`` compare
each record's graph and left them out): now the count checks, in the same read, that ``<ns>:recent`` holds no more
ids than the executions that are not internal, and takes the internal ones out again when it does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from igniter_nb.stores import RedisStore

CACHE = "igniter_nb.llm_cache"
LEASE = "igniter_nb.llm_resume"


def _save(store: Any, eid: str, graph: str, status: str) -> None:
    store.save({"format": "igniter_nb.snapshot/1", "graph": graph, "execution_id": eid}, graph=graph, status=status)


def _as_the_older_release_listed(store: Any, eid: str, status: str) -> None:
    """What the older release's save script added for an internal record: the all-graphs sets, scored by its time."""
    recent = f"{store.namespace}:recent"
    score = store.client.zscore(f"{recent}:graph:{store.record(eid).graph}", eid)
    store.client.zadd(recent, {eid: score})
    store.client.zadd(f"{recent}:status:{status}", {eid: score})


def _walk(store: Any, status: str | None = None) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page, cursor = store.list_page(None, status, limit=1, after=cursor)
        seen += [r.execution_id for r in page]
        if cursor is None:
            return seen


def _agree(store: Any) -> None:
    assert store.count() == len(store.list()) == len(_walk(store)) == 2
    for status, ids in (("waiting", ["u-2"]), ("succeeded", ["u-1"])):
        assert store.count(status=status) == len(store.list(status=status)) == 1 and _walk(store, status) == ids
    assert store.count(graph=CACHE) == 2 and store.count(graph=LEASE, status="waiting") == 1


@pytest.fixture
def namespace(redis_url: str) -> Iterator[str]:
    name = f"mix{uuid.uuid4().hex[:8]}"
    yield name
    cleaner = RedisStore(redis_url, namespace=name)
    for key in cleaner.client.scan_iter(f"{name}:*"):
        cleaner.client.delete(key)
    cleaner.close()


def test_internal_records_an_older_release_lists_again_are_left_out_of_count(redis_url: str, namespace: str) -> None:
    store = RedisStore(redis_url, namespace=namespace)
    _save(store, "u-1", "Order", "succeeded")
    _save(store, "cache-1", CACHE, "succeeded")
    _save(store, "lease-1", LEASE, "waiting")
    _save(store, "u-2", "Order", "waiting")
    assert store.count() == 2  # this release's first listing: the once-only clean-up ran, its marker is set
    older = RedisStore(redis_url, namespace=namespace)  # the other process, with the older release's save script
    _save(older, "cache-2", CACHE, "succeeded")
    for eid, status in (("cache-1", "succeeded"), ("lease-1", "waiting"), ("cache-2", "succeeded")):
        _as_the_older_release_listed(older, eid, status)
    assert store.client.zcard(f"{namespace}:recent") == 5
    _agree(store)  # the store that already listed once
    _agree(RedisStore(redis_url, namespace=namespace))  # and a process started afterwards
    assert store.client.zcard(f"{namespace}:recent") == 2
    older.close()
    store.close()


def test_a_database_listed_by_a_release_before_the_check_is_checked_too(redis_url: str, namespace: str) -> None:
    """The clean-up ran under a release that kept no set of internal graph names: the first listing finds them by
    their sets' names, once."""
    store = RedisStore(redis_url, namespace=namespace)
    for eid, graph, status in (("u-1", "Order", "succeeded"), ("u-2", "Order", "waiting"),
                               ("cache-1", CACHE, "succeeded"), ("cache-2", CACHE, "succeeded"),
                               ("lease-1", LEASE, "waiting")):
        _save(store, eid, graph, status)
    store.client.delete(f"{namespace}:internal-graphs")
    store.client.set(f"{namespace}:recent:complete", "1")
    store.client.set(f"{namespace}:recent:internal-out", "1")
    for eid, status in (("cache-2", "succeeded"), ("lease-1", "waiting")):
        _as_the_older_release_listed(store, eid, status)
    fresh = RedisStore(redis_url, namespace=namespace)
    _agree(fresh)
    assert {m.decode() for m in store.client.smembers(f"{namespace}:internal-graphs")} == {CACHE, LEASE}
    fresh.close()
    store.close()


def test_an_excess_that_is_no_internal_record_is_not_looked_for_on_every_count(redis_url: str, namespace: str,
                                                                              monkeypatch: Any) -> None:
    """An id in the listing set with no record (left by some other writer) is not internal: the clean-up runs once
    for it, not on every count (the id itself is taken out then: tests/stores/test_redis_orphan_ids.py), and a
    record saved under a user graph since is listed."""
    store = RedisStore(redis_url, namespace=namespace)
    _save(store, "u-1", "Order", "succeeded")
    _save(store, "cache-1", CACHE, "succeeded")
    assert store.count() == 1
    store.client.zadd(f"{namespace}:recent", {"ghost": 1})
    listing = store._listing_of()
    runs: list[int] = []
    take_out = listing._take_out_internal
    monkeypatch.setattr(listing, "_take_out_internal", lambda: (runs.append(1), take_out())[1])
    counts = [store.count() for _ in range(3)]
    assert runs == [1] and len(set(counts)) == 1
    _save(store, "cache-1", "Order", "succeeded")  # moved to a user graph: listed by this release's save
    assert store.count() == counts[0] + 1 and runs == [1]
    assert [r.execution_id for r in store.list_page(limit=5)[0]] == ["cache-1", "u-1"]
    store.client.zrem(f"{namespace}:recent", "ghost")  # gone: a later leak of the same size is looked for again
    assert store.count() == 2
    _save(store, "cache-2", CACHE, "succeeded")
    _as_the_older_release_listed(store, "cache-2", "succeeded")
    assert store.count() == 2 and runs == [1, 1]
    store.close()
