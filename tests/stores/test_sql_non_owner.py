"""PostgreSQL: an application role that may read and write the tables but does not own them (tables created by a
migration role, the usual production split) can use ``SQLStore`` — start, deliver, read, watch — once the owner
has created the tables; where the owner still has something to create, the error says what and who."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

import igniter_nb as ig
from igniter_nb.errors import StoreError
from igniter_nb.stores import SQLStore
from igniter_nb.stores.feed import watch

GRAPH = "G"


class Pair(ig.Contract):
    def define(c):
        c.correlate_by("pair_id")
        c.input("pair_id", type=str)
        c.await_event("got", event="arrived", schema=dict)

        @c.compute
        def echoed(got):
            return got

        c.output("echoed")


def snap(eid: str, n: int) -> dict[str, object]:
    return {"format": "igniter_nb.snapshot/1", "graph": GRAPH, "execution_id": eid, "n": n}


@pytest.fixture
def app_role(postgres_url: str) -> Iterator[tuple[str, str]]:
    """(URL of the owner, URL of a fresh role with DML rights only on the owner's tables, a table prefix)."""
    role = f"app_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(sa.text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))
    url = sa.make_url(postgres_url).set(username=role)
    try:
        yield url.render_as_string(hide_password=False), role
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
            conn.execute(sa.text(f'DROP ROLE "{role}"'))
        engine.dispose()


def grant(owner_url: str, prefix: str, role: str, also: tuple[str, ...] = ()) -> None:
    engine = sa.create_engine(owner_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for suffix in ("executions", "execution_history", "execution_parts", *also):
            conn.execute(sa.text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{prefix}{suffix}" TO "{role}"'))
    engine.dispose()


@contextlib.contextmanager
def owner_and_app(postgres_url: str, app_role: tuple[str, str], prepare: Callable[[SQLStore], object],
                  also: tuple[str, ...] = ()) -> Iterator[tuple[SQLStore, SQLStore]]:
    """(the owner's store, the application role's store) on fresh tables the owner made with ``prepare`` and
    granted to the role (plus the ``also`` tables); both closed afterwards."""
    app_url, role = app_role
    owner = SQLStore(postgres_url, table_prefix=f"n{uuid.uuid4().hex[:8]}_")
    try:
        prepare(owner)
        grant(postgres_url, owner.table_prefix, role, also)
        store = SQLStore(app_url, table_prefix=owner.table_prefix)
        try:
            yield owner, store
        finally:
            store.close()
    finally:
        owner.close()


def saved(store: SQLStore) -> None:
    store.save(snap("ex-1", 1), graph=GRAPH, correlation=None, status="waiting")


def test_a_role_that_does_not_own_the_tables_delivers_and_reads(postgres_url: str,
                                                                app_role: tuple[str, str]) -> None:
    with owner_and_app(postgres_url, app_role, SQLStore.create_tables) as (owner, store):
        store.save(snap("ex-1", 1), graph=GRAPH, correlation={"k": 1}, status="waiting", expected_version=0)
        version = store.save(snap("ex-1", 2), graph=GRAPH, correlation={"k": 1}, status="waiting", expected_version=1)
        assert version == 2
        assert store.fetch("ex-1")["n"] == 2
        assert [v["n"] for v in store.history("ex-1")] == [1, 2]
        assert owner.fetch("ex-1")["n"] == 2
        # a real workflow, started and fed by the application role
        Pair.start(pair_id="p-1", store=store)
        done = Pair.deliver_event("arrived", correlation={"pair_id": "p-1"}, payload={"n": 3}, store=store)
        assert done.result.echoed == {"n": 3}
        assert owner.fetch(done.execution_id)["status"] == "succeeded"


def test_a_role_that_may_not_create_the_tables_is_told_so(app_role: tuple[str, str]) -> None:
    app_url, role = app_role
    store = SQLStore(app_url, table_prefix=f"m{uuid.uuid4().hex[:8]}_")
    try:
        with pytest.raises(StoreError) as info:
            store.save(snap("ex-1", 1), graph=GRAPH, correlation=None, status="waiting")
        text = str(info.value)
        assert role in text and "may not create" in text and "grant this role" in text, text
    finally:
        store.close()


def test_the_change_feed_of_a_role_that_may_not_set_it_up_polls(postgres_url: str, app_role: tuple[str, str],
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    role = app_role[1]
    with owner_and_app(postgres_url, app_role, saved) as (owner, store):
        prefix = owner.table_prefix
        with caplog.at_level(logging.WARNING, logger="igniter_nb.stores.sql"):
            assert store.subscribe_changes("ex-1") is None  # the feed polls the version, as on SQLite
            assert store.subscribe_changes("ex-1") is None  # (decided once)
        warned = [r.getMessage() for r in caplog.records if "polls instead of LISTEN" in r.getMessage()]
        assert len(warned) == 1 and role in warned[0] and f"{prefix}feed_watchers" in warned[0]
        seen = []
        for found in watch(store, "ex-1", after_version=0, timeout=10.0, poll_interval=0.05):
            seen.append(found.version)
            if found.version == 1:  # another writer finishes it: the polling feed sees that too
                owner.save(snap("ex-1", 2), graph=GRAPH, correlation=None, status="succeeded", expected_version=1)
        assert seen == [1, 2]


def test_the_change_feed_set_up_by_the_owner_wakes_a_role_that_does_not_own_it(postgres_url: str,
                                                                                app_role: tuple[str, str]) -> None:
    def saved_and_watched(owner: SQLStore) -> None:
        saved(owner)
        assert owner.subscribe_changes("ex-1") is not None  # the owner installs the trigger and the watchers table

    with owner_and_app(postgres_url, app_role, saved_and_watched, also=("feed_watchers",)) as (owner, store):
        sub = store.subscribe_changes("ex-1")
        assert sub is not None
        owner.save(snap("ex-1", 2), graph=GRAPH, correlation=None, status="waiting", expected_version=1)
        assert sub.wait(10.0)
