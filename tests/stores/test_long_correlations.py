"""Every store accepts what the others accept (issue 11 point 11): a correlation value of 100 KB — PostgreSQL used
to refuse anything over ~2.7 KB with a raw btree error, as its indexes held the correlation text — and SQL
tables made by an earlier release are moved to the digest indexes on first use."""

from __future__ import annotations

import random
from typing import Any

import pytest
import sqlalchemy as sa

import igniter_nb as ig
from igniter_nb.stores import SQLStore

# Random text: PostgreSQL compresses index entries, so a repetitive value would fit where real ids do not.
_TEXT = random.Random(11).randbytes(50_000).hex()
LONG = {"tenant": "t-1", "document": _TEXT}  # 100 KB
LONG_OTHER = {"tenant": "t-1", "document": _TEXT[:-1] + ("0" if _TEXT[-1] != "0" else "1")}  # differs at the end


def snap(execution_id: str) -> dict[str, Any]:
    return {"execution_id": execution_id, "graph": "G", "states": {}}


def test_a_100_kb_correlation_value_works_on_every_store(store: Any) -> None:
    assert store.save(snap("ex-1"), graph="G", correlation=LONG, status="waiting") == 1
    assert store.find_by_correlation("G", LONG) == "ex-1"
    assert store.find_by_correlation("G", LONG_OTHER) is None
    assert store.find_latest_by_correlation("G", LONG) == "ex-1"
    assert store.record("ex-1").correlation == LONG
    assert store.correlations("G") == [("ex-1", LONG)]
    with pytest.raises(ig.DuplicateWorkflowError):
        store.save(snap("ex-2"), graph="G", correlation=LONG, status="waiting")
    assert store.save(snap("ex-3"), graph="G", correlation=LONG_OTHER, status="waiting") == 1
    assert store.save(snap("ex-1"), graph="G", correlation=LONG, status="succeeded", expected_version=1) == 2
    assert store.find_by_correlation("G", LONG) is None
    assert store.find_latest_by_correlation("G", LONG) == "ex-1"
    assert store.save(snap("ex-2"), graph="G", correlation=LONG, status="waiting") == 1  # free again


def test_a_workflow_with_a_long_correlation_runs_on_every_store(store: Any) -> None:
    @ig.contract
    def Documented(c):
        c.correlate_by("tenant", "document")
        c.input("tenant", type=str)
        c.input("document", type=str)
        c.await_event("signed", event="signed")
        c.output("signed")

    wf = Documented.start(LONG, store=store)
    done = Documented.deliver_event("signed", correlation=LONG, payload={"by": "ann"}, store=store)
    assert done.execution_id == wf.execution_id and done.workflow_status == "succeeded"


def _downgrade(store: SQLStore) -> None:
    """Turn the store's tables into what an earlier release made: no digest column, indexes on the text."""
    p, t = store.table_prefix, f"{store.table_prefix}executions"
    active = "active = 1" if not store._is_postgres else "active = true"
    with store.engine.begin() as conn:
        for name in ("executions_active_digest", "executions_latest_correlation_digest"):
            conn.exec_driver_sql(f'DROP INDEX "{p}{name}"')
        conn.exec_driver_sql(f'ALTER TABLE "{t}" DROP COLUMN correlation_digest')
        conn.exec_driver_sql(f'CREATE UNIQUE INDEX "{p}executions_active_correlation" ON "{t}" (graph, correlation_key) '
                             f"WHERE {active}")
        conn.exec_driver_sql(f'CREATE INDEX "{p}executions_latest_correlation" ON "{t}" '
                             "(graph, correlation_key, updated_at, execution_id)")


def test_tables_of_an_earlier_release_move_to_digest_indexes_on_first_use(sql_store: Any) -> None:
    store = sql_store
    store.save(snap("active-1"), graph="G", correlation={"k": 1}, status="waiting")
    store.save(snap("done-1"), graph="G", correlation={"k": 2}, status="succeeded")
    _downgrade(store)
    table = f"{store.table_prefix}executions"
    names = {ix["name"] for ix in sa.inspect(store.engine).get_indexes(table)}
    assert f"{store.table_prefix}executions_active_correlation" in names

    reopened = SQLStore(store.engine, table_prefix=store.table_prefix)  # same engine: sqlite:// stays alive
    assert reopened.find_by_correlation("G", {"k": 1}) == "active-1"  # first use migrates, rows found
    assert reopened.find_latest_by_correlation("G", {"k": 2}) == "done-1"
    names = {ix["name"] for ix in sa.inspect(store.engine).get_indexes(table)}
    assert f"{store.table_prefix}executions_active_digest" in names
    assert f"{store.table_prefix}executions_latest_correlation_digest" in names
    assert not {f"{store.table_prefix}executions_active_correlation",
                f"{store.table_prefix}executions_latest_correlation"} & names
    with pytest.raises(ig.DuplicateWorkflowError):  # uniqueness holds for the migrated rows
        reopened.save(snap("active-2"), graph="G", correlation={"k": 1}, status="waiting")
    assert reopened.save(snap("long-1"), graph="G", correlation=LONG, status="waiting") == 1
    assert reopened.find_by_correlation("G", LONG) == "long-1"
    reopened.create_tables()  # again: nothing left to do
    assert SQLStore(store.engine, table_prefix=store.table_prefix).find_by_correlation("G", {"k": 1}) == "active-1"


def test_a_one_key_correlation_has_the_text_of_the_general_path() -> None:
    """Branch deliverfast: a one-key correlation of a str or int takes a shorter path to its canonical text; every
    other value (bool, float, a str subclass, None) the general one, and the texts never mix types."""
    import enum

    from igniter_nb.errors import StoreArgumentError
    from igniter_nb.stores.rules import _CANONICAL, canonical_correlation

    class Colour(enum.StrEnum):
        RED = "red"

    for value in ("x", "é\u2028", "", 0, 1, -7, 10**30, True, False, 1.0, None, Colour.RED):
        assert canonical_correlation({"k": value}) == _CANONICAL.encode({"k": value})
    assert len({canonical_correlation({"k": v}) for v in (1, True, 1.0, "1")}) == 4
    with pytest.raises(StoreArgumentError):
        canonical_correlation({1: "x"})
    with pytest.raises(StoreArgumentError):
        canonical_correlation({"k": [1]})
