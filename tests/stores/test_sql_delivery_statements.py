"""What one workflow delivery sends to a SQL store: a PostgreSQL delivery is two autocommitted statements (two
round trips) — the active execution's read and the compare-and-set save that also writes the history row —
with its idempotency key, correlation lookup and change-feed wake-up adding none."""

from __future__ import annotations

from typing import Any

from tests.stores.test_sql_fast_save import statements
from tests.workflow.wf_contracts import PairWorkflow as Pair


def test_a_delivery_is_one_read_and_one_save(sql_store: Any) -> None:
    Pair.start(pair_id="p-1", store=sql_store)
    sent_by_delivery = []
    for event, key in (("left_arrived", "l"), ("right_arrived", "r")):
        with statements(sql_store) as sent:
            Pair.deliver_event(event, correlation={"pair_id": "p-1"}, payload={"n": 1}, store=sql_store,
                               idempotency_key=f"p-1:{key}")
        sent_by_delivery.append([s.split()[0] + (" " + s.split()[3] if s.startswith("WITH") else "") for s in sent])
    if sql_store.engine.dialect.name == "postgresql":
        assert sent_by_delivery == [["SELECT", "WITH (UPDATE"]] * 2, sent_by_delivery
    else:
        assert sent_by_delivery == [["SELECT", "BEGIN", "UPDATE", "INSERT", "COMMIT"]] * 2, sent_by_delivery
    assert sql_store.record_by_correlation("PairWorkflow", {"pair_id": "p-1"}) is None  # finished: no longer active
    with statements(sql_store) as sent:  # the same key again: answered from the stored execution, nothing written
        Pair.deliver_event("left_arrived", correlation={"pair_id": "p-1"}, payload={"n": 1}, store=sql_store,
                           idempotency_key="p-1:l")
    assert not any(s.startswith(("WITH", "UPDATE", "INSERT", "DELETE", "BEGIN IMMEDIATE")) for s in sent), sent
