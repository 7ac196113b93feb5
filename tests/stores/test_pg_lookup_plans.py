"""A PostgreSQL store's lookups by correlation are planned for their values on every run, never served from a
generic plan PostgreSQL cached while the table was nearly empty (docs/server-load.md#generic-plans).

psycopg prepares a statement on the server after its fifth run; PostgreSQL may then keep one generic plan for
it. In B8 runs that plan, made while the table held the warm-up's 50 rows, found a correlation through the
active-listing index (graph, updated_at) and read every active row of the graph at 10,000 workflows."""

from __future__ import annotations

from typing import Any

import pytest

from tests.workflow.wf_contracts import PairWorkflow as Pair


@pytest.fixture(params=("postgres",))
def pg_store(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    from tests.stores.conftest import _fresh

    yield from _fresh(request, tmp_path)


def _prepared(store: Any) -> list[str]:
    """The statements prepared on the server in the store's one pooled session."""
    assert store.engine.pool.checkedout() == 0 and store.engine.pool.size() >= 1
    with store.engine.connect() as conn:
        return [row[0] for row in conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements").all()]


def test_lookups_by_correlation_are_never_prepared_but_the_save_is(pg_store: Any) -> None:
    for i in range(8):  # past psycopg's prepare threshold (5) for every hot statement
        Pair.start(pair_id=f"p-{i}", store=pg_store)
        assert pg_store.find_by_correlation("PairWorkflow", {"pair_id": f"p-{i}"}) is not None
        Pair.deliver_event("left_arrived", correlation={"pair_id": f"p-{i}"}, payload={"n": i}, store=pg_store,
                           idempotency_key=f"p-{i}:l")
    prepared = _prepared(pg_store)
    assert pg_store.engine.pool.checkedin() == 1, "the test reads the one session the store used"
    assert any("UPDATE" in s and "execution_history" in s for s in prepared), prepared  # the save: prepared
    lookups = [s for s in prepared if "correlation_digest =" in s and s.lstrip().startswith("SELECT")]
    assert lookups == [], lookups


def test_a_lookup_after_the_table_grew_still_finds_the_right_row(pg_store: Any) -> None:
    for i in range(8):
        Pair.start(pair_id=f"small-{i}", store=pg_store)
        pg_store.find_by_correlation("PairWorkflow", {"pair_id": f"small-{i}"})
    for i in range(300):
        Pair.start(pair_id=f"big-{i}", store=pg_store)
    found = pg_store.record_by_correlation("PairWorkflow", {"pair_id": "big-299"})
    assert found is not None and found.correlation == {"pair_id": "big-299"}
    assert pg_store.record_by_correlation("PairWorkflow", {"pair_id": "absent"}) is None


@pytest.fixture
def engine_store(postgres_url: str) -> Any:
    """A store made from an Engine the caller built (no hot path: everything through SQLAlchemy), one session."""
    import uuid

    import sqlalchemy as sa

    from igniter_nb.stores import SQLStore

    engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1), pool_size=1,
                              max_overflow=0)
    store = SQLStore(engine, table_prefix=f"t{uuid.uuid4().hex[:10]}_")
    yield store
    store.close()
    engine.dispose()


def test_a_store_made_from_your_engine_does_not_prepare_the_lookups_either(engine_store: Any) -> None:
    """A user-passed Engine runs every statement through SQLAlchemy (its events see them), which passes psycopg no
    ``prepare=False``: the two lookups run with the session's ``prepare_threshold`` off instead (restored after)."""
    statements: list[str] = []
    import sqlalchemy as sa

    sa.event.listen(engine_store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    for i in range(8):
        Pair.start(pair_id=f"p-{i}", store=engine_store)
        assert engine_store.find_by_correlation("PairWorkflow", {"pair_id": f"p-{i}"}) is not None
        Pair.deliver_event("left_arrived", correlation={"pair_id": f"p-{i}"}, payload={"n": i}, store=engine_store,
                           idempotency_key=f"p-{i}:l")
        assert engine_store.record_by_correlation("PairWorkflow", {"pair_id": f"p-{i}"}) is not None
    assert sum("correlation_digest =" in s for s in statements) >= 16  # your events still see the lookups
    with engine_store.engine.connect() as conn:
        assert conn.connection.driver_connection.prepare_threshold == 5  # psycopg's default, left as it was
        prepared = [row[0] for row in conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements").all()]
    assert any(s.lstrip().startswith("SELECT") for s in prepared), prepared  # others still prepared
    lookups = [s for s in prepared if "correlation_digest =" in s and "active" in s]
    assert lookups == [], lookups
