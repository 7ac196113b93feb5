"""What one delivery costs, pinned as counts instead of times (issue 13 targets 4 and 6): the bytes a delivery
makes the store keep follow what it added, not the length of the workflow's history, and a delivery sends the
same SQL statements however many deliveries came before it and however many workflows are stored."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore, SQLStore
from tests.stores.test_sql_fast_save import statements
from tests.workflow.wf_contracts import PairWorkflow, documents_workflow

EVENTS = 48


Docs = documents_workflow(EVENTS)


def _kilobyte() -> dict[str, str]:
    return {"blob": base64.b64encode(os.urandom(768)).decode()}  # 1 KB of text that does not compress


def _sqlite_bytes(path: Path) -> int:
    import sqlite3

    with sqlite3.connect(path) as db:
        return int(sum(db.execute(f"SELECT COALESCE(SUM(LENGTH({column})), 0) FROM igniter_{table}").fetchone()[0]
                       for table, column in (("executions", "snapshot"), ("execution_history", "snapshot"),
                                             ("execution_parts", "data"))))


def _written_per_delivery(store: Any, kept: Any) -> tuple[list[int], int]:
    wf = Docs.start(key="k-1", store=store)
    before, written = kept(), []
    for i in range(EVENTS):
        wf = Docs.deliver_event(f"doc{i:02d}_arrived", correlation={"key": "k-1"}, payload=_kilobyte(), store=store)
        now = kept()
        written.append(now - before)
        before = now
    assert wf.workflow_status == "succeeded" and wf.result.count == EVENTS
    assert store.history(wf.execution_id)[-1] == store.fetch(wf.execution_id)  # read back whole
    return written, len(json.dumps(store.fetch(wf.execution_id), separators=(",", ":")))


def _check_follows_the_delivery(written: list[int], final: int, copies: int) -> None:
    """Each late delivery adds ~1 KB of payload and a dozen events; it must not rewrite the ~50 earlier
    payloads (before packing small entries, each of the last deliveries wrote ~30% of the final snapshot)."""
    late = written[-16:]
    assert max(late) < copies * final / 10, (late, final)
    middle = sum(written[16:32]) / 16
    assert sum(late) / 16 < 1.5 * middle, (written, final)  # no growth with the history's length
    assert sum(written) < copies * 5 * final, (sum(written), final)


def test_bytes_per_delivery_follow_what_it_added_in_memory() -> None:
    store = MemoryStore()
    written, final = _written_per_delivery(store, store.stored_bytes)
    _check_follows_the_delivery(written, final, copies=1)


def test_bytes_per_delivery_follow_what_it_added_in_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "bytes.db"
    with SQLStore(f"sqlite:///{path}") as store:
        written, final = _written_per_delivery(store, lambda: _sqlite_bytes(path))
    _check_follows_the_delivery(written, final, copies=2)  # the executions row and the history row


def _sent_by_delivery(store: Any, pair: str, event: str, n: int) -> list[str]:
    with statements(store) as sent:
        PairWorkflow.deliver_event(event, correlation={"pair_id": pair}, payload={"n": n}, store=store,
                           idempotency_key=f"{pair}:{event}")
    return [s.split()[0] for s in sent]


def test_a_delivery_sends_the_same_statements_however_many_workflows_are_stored(tmp_path: Path) -> None:
    with SQLStore(f"sqlite:///{tmp_path / 'count.db'}") as store:
        PairWorkflow.start(pair_id="first", store=store)
        first = _sent_by_delivery(store, "first", "left_arrived", 1)
        for i in range(300):
            PairWorkflow.start(pair_id=f"other-{i}", store=store)
        PairWorkflow.start(pair_id="late", store=store)
        late = _sent_by_delivery(store, "late", "left_arrived", 1)
        # one read of the active record, one compare-and-set transaction with its history row
        assert first == late == ["SELECT", "BEGIN", "UPDATE", "INSERT", "COMMIT"], (first, late)
        assert _sent_by_delivery(store, "late", "right_arrived", 2) == first  # the last delivery too


class _DeletedWhileRead(MemoryStore):
    """A store whose active record is deleted while a delivery reads it (SQL: between the row and its parts)."""

    def record_by_correlation(self, graph: str, correlation: Any) -> Any:
        found = super().record_by_correlation(graph, correlation)
        if found is not None:
            self.delete(found.execution_id)
            raise ig.SnapshotNotFoundError(f"execution {found.execution_id!r} was deleted")
        return found


def test_a_workflow_deleted_while_a_delivery_reads_it_is_not_found() -> None:
    store = _DeletedWhileRead()
    PairWorkflow.start(pair_id="gone", store=store)
    with pytest.raises(ig.WorkflowNotFoundError, match="gone"):
        PairWorkflow.deliver_event("left_arrived", correlation={"pair_id": "gone"}, payload={"n": 1}, store=store)
    assert store.list() == []  # nothing written back
