"""The change feed (``stores.feed.watch``/``awatch``) over every store, across threads, tasks and processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from igniter_nb.errors import SnapshotNotFoundError, StoreArgumentError
from igniter_nb.stores import ChangeSubscription, MemoryStore, SQLStore, StoredExecution, awatch, watch
from igniter_nb.stores.changes import ChangeHub
from tests.polling import wait_for
from tests.stores import feed_workers
from tests.stores.store_factory import SHARED_KINDS, make_spec, open_store

WAIT = 20.0  # the longest any step may take; every wait below is bounded by it
EID = "ex-1"


def snap(n: int, eid: str = EID) -> dict[str, Any]:
    return {"execution_id": eid, "graph": "Feed", "n": n}


def versions(records: list[StoredExecution]) -> list[int]:
    return [r.version for r in records]


class Follower:
    """``watch`` running in a thread, collecting what it yields."""

    def __init__(self, store: Any, execution_id: str = EID, **options: Any) -> None:
        self.records: list[StoredExecution] = []
        self.error: BaseException | None = None
        self.done = False
        self._cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, args=(store, execution_id, options), daemon=True)
        self.thread.start()

    def _run(self, store: Any, execution_id: str, options: dict[str, Any]) -> None:
        try:
            for rec in watch(store, execution_id, **options):
                with self._cond:
                    self.records.append(rec)
                    self._cond.notify_all()
        except BaseException as exc:
            self.error = exc
        finally:
            with self._cond:
                self.done = True
                self._cond.notify_all()

    def wait_for(self, count: int) -> list[int]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.records) >= count or self.done, WAIT)
            return versions(self.records)

    def join(self) -> list[int]:
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the watcher did not stop"
        assert self.error is None, self.error
        return versions(self.records)



# ------------------------------------------------------------------------------------------ every store


def test_bursts_are_yielded_once_each_in_order(store: Any) -> None:
    store.save(snap(1), status="running")
    feed = watch(store, EID, timeout=WAIT)
    try:
        assert next(feed).version == 1
        saved = 1
        for burst in (1, 3, 7):  # saved while the feed is suspended: several land between two looks
            for _ in range(burst):
                saved += 1
                store.save(snap(saved), status="running")
            got = [next(feed) for _ in range(burst)]
            assert versions(got) == list(range(saved - burst + 1, saved + 1))
            assert [r.snapshot["n"] for r in got] == versions(got)
            assert all(r.execution_id == EID and r.status == "running" for r in got)
        # and live: saved by another thread while the feed waits
        saver = threading.Timer(0.2, lambda: (store.save(snap(saved + 1), status="waiting"),
                                              store.save(snap(saved + 2), status="succeeded")))
        saver.start()
        rest = list(feed)  # ends by itself on the finished status
        saver.join(WAIT)
    finally:
        feed.close()
    assert versions(rest) == [saved + 1, saved + 2]
    assert [r.status for r in rest] == ["waiting", "succeeded"]


def test_feed_ends_on_a_finished_status(store: Any) -> None:
    store.save(snap(1), status="running")
    store.save(snap(2), status="failed")
    store.save(snap(3), status="running")  # saved after it finished: not part of this feed
    assert versions(list(watch(store, EID, timeout=WAIT))) == [1, 2]
    assert versions(list(watch(store, EID, after_version=2, timeout=0.3))) == [3]  # the idle timeout ends this one


def test_after_version_resumes_without_gap_or_repeat(store: Any) -> None:
    for n in range(1, 5):
        store.save(snap(n), status="running")
    feed = watch(store, EID, timeout=WAIT)
    first = [next(feed), next(feed)]
    feed.close()  # the client goes away after version 2
    store.save(snap(5), status="running")
    store.save(snap(6), status="succeeded")
    resumed = list(watch(store, EID, after_version=first[-1].version, timeout=WAIT))
    assert versions(first + resumed) == [1, 2, 3, 4, 5, 6]
    assert [r.snapshot["n"] for r in first + resumed] == [1, 2, 3, 4, 5, 6]
    # resuming at the final version ends at once; past it is an error
    assert list(watch(store, EID, after_version=6, timeout=WAIT)) == []
    with pytest.raises(StoreArgumentError, match="after_version=7 is past the latest version"):
        next(watch(store, EID, after_version=7, timeout=WAIT))


def test_unknown_execution_raises_at_once(store: Any) -> None:
    with pytest.raises(SnapshotNotFoundError, match="missing"):
        next(watch(store, "missing", timeout=WAIT))

    async def first() -> StoredExecution:
        return await anext(awatch(store, "missing", timeout=WAIT))

    with pytest.raises(SnapshotNotFoundError, match="missing"):
        asyncio.run(first())


def test_deleting_the_execution_ends_the_feed(store: Any) -> None:
    store.save(snap(1), status="waiting")
    follower = Follower(store)  # no timeout: only the deletion can end it
    assert follower.wait_for(1) == [1]
    store.delete(EID)
    assert follower.join() == [1]


def test_execution_deleted_and_saved_anew_ends_the_feed(store: Any) -> None:
    for n in (1, 2, 3):
        store.save(snap(n), status="running")
    feed = watch(store, EID, timeout=WAIT)
    assert versions([next(feed) for _ in range(3)]) == [1, 2, 3]
    store.delete(EID)
    store.save(snap(100), status="running")  # version 1 of another life: not the history followed so far
    assert list(feed) == []


def test_idle_timeout_ends_the_feed(store: Any) -> None:
    store.save(snap(1), status="waiting")
    assert versions(list(watch(store, EID, timeout=0.3, poll_interval=0.05))) == [1]


def test_stop_event_ends_a_waiting_watcher_promptly(store: Any) -> None:
    store.save(snap(1), status="waiting")
    stop = threading.Event()
    follower = Follower(store, stop=stop)  # no timeout
    assert follower.wait_for(1) == [1]
    stop.set()
    assert follower.join() == [1]


def test_watch_in_another_thread_sees_saves_while_waiting(store: Any) -> None:
    store.save(snap(1), status="running")
    follower = Follower(store, timeout=WAIT)
    assert follower.wait_for(1) == [1]
    for n in range(2, 6):
        store.save(snap(n), status="running")
        assert follower.wait_for(n) == list(range(1, n + 1))
    store.save(snap(6), status="cancelled")
    assert follower.join() == [1, 2, 3, 4, 5, 6]


def test_awatch_serves_several_concurrent_watchers(store: Any) -> None:
    store.save(snap(1), status="running")

    async def follow() -> list[int]:
        return [rec.version async for rec in awatch(store, EID, timeout=WAIT)]

    async def main() -> list[list[int]]:
        watchers = [asyncio.create_task(follow()) for _ in range(4)]
        for n in range(2, 9):
            await asyncio.to_thread(store.save, snap(n), status="running")
            if n % 3 == 0:
                await asyncio.sleep(0.05)
        await asyncio.to_thread(store.save, snap(9), status="succeeded")
        return await asyncio.wait_for(asyncio.gather(*watchers), WAIT)

    assert asyncio.run(main()) == [list(range(1, 10))] * 4


# ------------------------------------------------------------------------------------------ across processes

SPAWN = multiprocessing.get_context("spawn")


@contextlib.contextmanager
def spawned(target: Callable[..., None], *args: Any, start: bool) -> Iterator[Any]:
    """A spawned process running ``target(*args)`` (started now if ``start``), killed if still alive at the end."""
    proc = SPAWN.Process(target=target, args=args)
    if start:
        proc.start()
    try:
        yield proc
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join()


def closing(store: Any, request: pytest.FixtureRequest) -> Any:
    request.addfinalizer(store.close)
    return store


@pytest.mark.services
@pytest.mark.parametrize("kind", SHARED_KINDS)
def test_watcher_in_another_process_sees_versions_saved_here(kind: str, tmp_path: Path,
                                                             request: pytest.FixtureRequest) -> None:
    spec = make_spec(kind, tmp_path, request, uuid.uuid4().hex[:10])
    store = closing(open_store(spec), request)
    store.save(snap(1), status="running")
    results = SPAWN.Queue()
    with spawned(feed_workers.watch_and_report, spec, EID, results, WAIT, start=True) as proc:
        assert results.get(timeout=WAIT)[:2] == (1, "running")  # the watcher is live from here on
        saved = 1
        for burst in (1, 4, 2):
            for _ in range(burst):
                saved += 1
                store.save(snap(saved), status="running")
            got = [results.get(timeout=WAIT) for _ in range(burst)]
            assert [(v, s["n"]) for v, _, s in got] == [(v, v) for v in range(saved - burst + 1, saved + 1)]
        store.save(snap(saved + 1), status="succeeded")
        assert results.get(timeout=WAIT)[:2] == (saved + 1, "succeeded")
        assert results.get(timeout=WAIT) == (feed_workers.END, "returned")
        proc.join(WAIT)
        assert proc.exitcode == 0


@pytest.mark.services
@pytest.mark.parametrize("kind", SHARED_KINDS)
def test_events_delivered_by_another_process_show_up_in_the_feed(kind: str, tmp_path: Path,
                                                                 request: pytest.FixtureRequest) -> None:
    from tests.workflow.wf_contracts import LeadWorkflow

    spec = make_spec(kind, tmp_path, request, uuid.uuid4().hex[:10])
    store = closing(open_store(spec), request)
    correlation = {"request_id": "req-feed", "company_id": 7}
    execution_id = LeadWorkflow.start(**correlation, store=store).execution_id
    with spawned(feed_workers.deliver_lead_events, spec, correlation, start=False) as proc:
        feed = watch(store, execution_id, timeout=WAIT)
        started = next(feed)
        proc.start()  # delivers while the feed waits
        delivered = list(feed)
        proc.join(WAIT)
        assert proc.exitcode == 0
    assert (started.version, started.status) == (1, "waiting")
    assert [(r.version, r.status) for r in delivered] == [(2, "waiting"), (3, "succeeded")]
    crm, billing = delivered
    assert crm.snapshot["states"]["crm_data"]["value"] == {"crm": "from another process"}
    new_events = crm.snapshot["events"][len(started.snapshot["events"]):]
    assert ("external_event_received", "crm_data") in [(e["type"], e["node"]) for e in new_events]
    assert [e["seq"] for e in crm.snapshot["events"]] == list(range(1, len(crm.snapshot["events"]) + 1))
    assert billing.snapshot["states"]["report"]["value"] == {
        "crm": {"crm": "from another process"}, "billing": {"plan": "pro", "mrr": 42}}


# ------------------------------------------------------------------------------------------ wake-ups


class DeafStore(MemoryStore):
    """A store whose native wake-ups never come: every notification is missed."""

    def __init__(self) -> None:
        super().__init__()
        self._deaf = ChangeHub()  # nothing publishes to it

    def subscribe_changes(self, execution_id: str) -> ChangeSubscription:
        return self._deaf.subscribe(execution_id)


def test_missed_notifications_delay_but_never_lose_a_version() -> None:
    store = DeafStore()
    store.save(snap(1), status="running")
    follower = Follower(store, timeout=WAIT, resync_interval=0.05)
    assert follower.wait_for(1) == [1]
    for n in range(2, 6):
        store.save(snap(n), status="running")
    store.save(snap(6), status="succeeded")
    assert follower.join() == [1, 2, 3, 4, 5, 6]


class CountingStore(MemoryStore):
    """A memory store without native wake-ups that counts what the feed reads."""

    subscribe_changes = None  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.reads = {"version_of": 0, "record": 0, "history_records": 0}

    def version_of(self, execution_id: str) -> int | None:
        self.reads["version_of"] += 1
        return super().version_of(execution_id)

    def record(self, execution_id: str) -> StoredExecution:
        self.reads["record"] += 1
        return super().record(execution_id)

    def history_records(self, execution_id: str) -> list[StoredExecution]:
        self.reads["history_records"] += 1
        return super().history_records(execution_id)


def test_a_polling_feed_reads_only_the_version_while_idle() -> None:
    store = CountingStore()
    store.save(snap(1), status="waiting")
    assert versions(list(watch(store, EID, timeout=0.3, poll_interval=0.02))) == [1]
    assert store.reads["version_of"] >= 2  # it looked again while idle ...
    assert store.reads["record"] + store.reads["history_records"] == 1  # ... and loaded only version 1


def test_memory_store_wakes_watchers_on_save_and_releases_them() -> None:
    store = MemoryStore()
    store.save(snap(1), status="running")
    feed = watch(store, EID, timeout=WAIT, resync_interval=600)  # only a wake-up can deliver in time
    assert next(feed).version == 1
    threading.Timer(0.1, store.save, args=(snap(2),), kwargs={"status": "running"}).start()
    assert next(feed).version == 2
    assert store._changes is not None and store._changes.subscriber_count() == 1
    feed.close()
    assert store._changes.subscriber_count() == 0


def test_awatch_never_blocks_the_event_loop() -> None:
    class GatedStore(MemoryStore):
        def __init__(self) -> None:
            super().__init__()
            self.gate, self.entered = threading.Event(), threading.Event()

        def version_of(self, execution_id: str) -> int | None:
            self.entered.set()
            if not self.gate.wait(WAIT):  # on the loop's thread this would freeze the loop until here
                raise TimeoutError("gate never opened: the event loop was blocked")
            return super().version_of(execution_id)

    store = GatedStore()
    store.save(snap(1), status="running")

    async def main() -> StoredExecution:
        feed = awatch(store, EID, timeout=WAIT)
        first = asyncio.create_task(anext(feed))
        while not store.entered.is_set():  # the loop keeps running while the feed reads
            await asyncio.sleep(0.01)
        store.gate.set()
        try:
            return await asyncio.wait_for(first, WAIT)
        finally:
            await feed.aclose()

    assert asyncio.run(main()).version == 1


def test_cancelled_awatch_releases_its_subscription() -> None:
    store = MemoryStore()
    store.save(snap(1), status="running")

    async def main() -> list[int]:
        seen: list[int] = []
        first = asyncio.Event()

        async def follow() -> None:
            async for rec in awatch(store, EID):  # no timeout: only cancelling ends it
                seen.append(rec.version)
                first.set()

        task = asyncio.create_task(follow())
        await asyncio.wait_for(first.wait(), WAIT)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return seen

    assert asyncio.run(main()) == [1]
    assert store._changes is not None and store._changes.subscriber_count() == 0


def test_stop_callable_and_asyncio_event_stop_the_feed() -> None:
    store = MemoryStore()
    store.save(snap(1), status="running")
    flag = [False]
    feed = watch(store, EID, stop=lambda: flag[0])
    assert next(feed).version == 1
    threading.Timer(0.1, flag.__setitem__, args=(0, True)).start()
    assert list(feed) == []

    async def main() -> list[int]:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.1, stop.set)
        return [rec.version async for rec in awatch(store, EID, stop=stop)]

    assert asyncio.run(main()) == [1]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"after_version": -1}, "after_version must be an int >= 0"),
        ({"after_version": True}, "after_version must be an int >= 0"),
        ({"after_version": "3"}, "after_version must be an int >= 0"),
        ({"timeout": 0}, "timeout must be None or a number of seconds > 0"),
        ({"timeout": float("nan")}, "timeout must be None or a number"),
        ({"timeout": "5"}, "timeout must be None or a number"),
        ({"poll_interval": 0}, "poll_interval must be a number of seconds from 0.01 to 600"),
        ({"poll_interval": float("inf")}, "poll_interval must be"),
        ({"resync_interval": 10_000}, "resync_interval must be"),
        ({"stop": "yes"}, "stop must be None, an Event or a callable"),
    ],
)
def test_bad_feed_arguments_are_refused_when_called(options: dict[str, Any], match: str) -> None:
    store = MemoryStore()
    with pytest.raises(StoreArgumentError, match=match):
        watch(store, EID, **options)
    with pytest.raises(StoreArgumentError, match=match):
        awatch(store, EID, **options)


def test_bad_ids_and_non_stores_are_refused() -> None:
    with pytest.raises(StoreArgumentError, match="invalid execution id"):
        watch(MemoryStore(), "<script>alert(1)</script>")
    with pytest.raises(StoreArgumentError, match="must be a str"):
        watch(MemoryStore(), 42)  # type: ignore[arg-type]
    with pytest.raises(StoreArgumentError, match="needs an execution store"):
        watch({"ex-1": {}}, EID)


# ------------------------------------------------------------------------------------------ PostgreSQL


@pytest.fixture
def open_kind(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[str], Any]]:
    """Opens a fresh store of the kind asked for; closes them all afterwards."""
    opened: list[Any] = []

    def open_(kind: str) -> Any:
        opened.append(open_store(make_spec(kind, tmp_path, request, uuid.uuid4().hex[:10])))
        return opened[-1]

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def postgres_store(open_kind: Callable[[str], Any]) -> Any:
    return open_kind("postgres")


def _watchers(store: Any) -> list[tuple[str, int]]:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(f"SELECT execution_id, listener FROM {store.table_prefix}feed_watchers").all()
    return [tuple(row) for row in rows]


@pytest.mark.services
def test_notification_is_not_seen_before_its_commit_postgres(postgres_store: Any) -> None:
    import sqlalchemy as sa

    store = postgres_store
    store.save(snap(1), status="running")
    sub = store.subscribe_changes(EID)
    follower = Follower(store, timeout=WAIT, resync_interval=600)
    try:
        assert sub.native and follower.wait_for(1) == [1]
        sub.wait(0)  # forget the subscription-time wake-ups, if any
        committed = snap(2) | {"note": "written by a slow transaction"}
        now = sa.func.now()
        with store.engine.connect() as writer:
            transaction = writer.begin()
            writer.execute(sa.update(store._executions).where(store._executions.c.execution_id == EID)
                           .values(version=2, snapshot=json.dumps(committed), updated_at=now))
            writer.execute(sa.insert(store._history).values(
                execution_id=EID, version=2, saved_at=now, graph="Feed", correlation_key=None, status="running",
                snapshot=json.dumps(committed)))
            # The trigger has run and queued its NOTIFY, but nothing is committed: nobody may hear it yet.
            assert sub.wait(0.5) is False
            assert store.version_of(EID) == 1 and follower.wait_for(1) == [1]
            transaction.commit()
        assert sub.wait(WAIT) is True
        assert follower.wait_for(2) == [1, 2]
        assert follower.records[1].snapshot == committed
    finally:
        sub.close()
        store.save(snap(3), status="succeeded")
    assert follower.join() == [1, 2, 3]


@pytest.mark.services
def test_only_watched_executions_send_notifications_postgres(postgres_store: Any) -> None:
    import psycopg

    store = postgres_store
    store.save(snap(1, "watched"), status="running")
    store.save(snap(1, "quiet"), status="running")
    sub = store.subscribe_changes("watched")
    channel = f"{store.table_prefix}feed"
    url = store.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute(f'LISTEN "{channel}"')
        store.save(snap(2, "quiet"), status="running")
        store.save(snap(2, "watched"), status="running")
        # NOTIFYs arrive in commit order: had the quiet save notified, its note would come first
        heard = [n.payload for n in listener.notifies(timeout=WAIT, stop_after=1)]
        assert heard == ["watched 2"]
        assert _watchers(store) == [("watched", store._changes.listener_pid)]
        sub.close()
        wait_for(lambda: _watchers(store) == [], "the registration is dropped after the last watcher left",
                 WAIT, every=0.02)
        store.save(snap(3, "watched"), status="running")
        assert [n.payload for n in listener.notifies(timeout=0.5)] == []


@pytest.mark.services
def test_registrations_of_a_killed_watcher_process_are_dropped_postgres(tmp_path: Path,
                                                                        request: pytest.FixtureRequest) -> None:
    import sqlalchemy as sa

    spec = make_spec("postgres", tmp_path, request, uuid.uuid4().hex[:10])
    store = closing(open_store(spec), request)
    store.save(snap(1), status="running")
    results = SPAWN.Queue()
    with spawned(feed_workers.watch_and_report, spec, EID, results, WAIT, start=True) as proc:
        assert results.get(timeout=WAIT)[0] == 1
        [(_, dead_pid)] = _watchers(store)
        proc.kill()  # no chance to drop its registration
        proc.join(WAIT)

    def gone() -> bool:
        with store.engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                {"pid": dead_pid}).scalar() == 0

    wait_for(gone, "the killed process's LISTEN session ends", WAIT, every=0.02)
    assert _watchers(store) == [(EID, dead_pid)]  # stale: would only cost useless NOTIFYs
    sub = store.subscribe_changes("another")  # the next listener to start cleans up
    try:
        assert _watchers(store) == [("another", store._changes.listener_pid)]
    finally:
        sub.close()


@pytest.mark.services
def test_table_prefix_that_is_not_plain_polls_instead_postgres(postgres_url: str,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    store = SQLStore(postgres_url, table_prefix=f"t-{uuid.uuid4().hex[:8]}_")
    try:
        store.save(snap(1), status="running")
        with caplog.at_level(logging.WARNING, logger="igniter_nb.stores.feed"):
            follower = Follower(store, timeout=WAIT)
            assert follower.wait_for(1) == [1]
            store.save(snap(2), status="succeeded")
            assert follower.join() == [1, 2]
        assert "is not plain" in caplog.text and "polling execution 'ex-1' instead" in caplog.text
    finally:
        store.close()


def test_sqlite_has_no_native_wake_ups(tmp_path: Path) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 'feed.db'}")
    try:
        assert store.subscribe_changes(EID) is None
    finally:
        store.close()


# ------------------------------------------------------------------------------------------ Redis


def _subscribers(store: Any, execution_id: str) -> int:
    channel = f"{store.namespace}:changes:{execution_id}"
    return int(dict(store.client.pubsub_numsub(channel))[channel.encode()])


@pytest.mark.services
def test_channel_is_unsubscribed_after_the_last_watcher_redis(open_kind: Callable[[str], Any]) -> None:
    store = open_kind("redis")
    store.save(snap(1), status="running")
    feeds = [watch(store, EID, timeout=WAIT, resync_interval=600) for _ in range(3)]
    assert [next(feed).version for feed in feeds] == [1, 1, 1]
    assert _subscribers(store, EID) == 1  # one pub/sub connection per store, however many watchers
    threading.Timer(0.1, store.save, args=(snap(2),), kwargs={"status": "running"}).start()
    assert [next(feed).version for feed in feeds] == [2, 2, 2]
    for feed in feeds:
        feed.close()
    wait_for(lambda: _subscribers(store, EID) == 0, "the channel is unsubscribed", WAIT, every=0.02)


# ------------------------------------------------------------------------------------------ lost connections


def _kill_listen_session(store: Any) -> Callable[[], bool]:
    """Terminate the store's LISTEN session; returns a check that the listener is back, registered again."""
    import sqlalchemy as sa

    old_pid = store._changes.listener_pid
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": old_pid}).scalar() is True

    def back() -> bool:
        pid = store._changes.listener_pid
        return pid != old_pid and (EID, pid) in _watchers(store)

    return back


def _kill_pubsub_connection(store: Any) -> Callable[[], bool]:
    """Kill the store's pub/sub connection; returns a check that redis-py has subscribed again."""
    wait_for(lambda: _subscribers(store, EID) == 1, "the watcher is subscribed", WAIT, every=0.02)
    assert store.client.client_kill_filter(_type="pubsub") >= 1
    return lambda: _subscribers(store, EID) == 1


@pytest.mark.services
@pytest.mark.parametrize(("kind", "kill"), [("postgres", _kill_listen_session), ("redis", _kill_pubsub_connection)])
def test_lost_notification_connection_loses_no_version(kind: str, kill: Callable[[Any], Callable[[], bool]],
                                                       open_kind: Callable[[str], Any]) -> None:
    store = open_kind(kind)
    store.save(snap(1), status="running")
    follower = Follower(store, timeout=WAIT, resync_interval=600)  # only the store's wake-ups deliver in time
    assert follower.wait_for(1) == [1]
    back = kill(store)
    for n in (2, 3, 4):  # notified while the connection is down (or being re-made)
        store.save(snap(n), status="running")
    assert follower.wait_for(4) == [1, 2, 3, 4]
    wait_for(back, "the store listens again", WAIT, every=0.02)
    store.save(snap(5), status="succeeded")
    assert follower.join() == [1, 2, 3, 4, 5]
