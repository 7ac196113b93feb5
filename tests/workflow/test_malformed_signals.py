"""A stored workflow whose signal log is not a list (a record edited by hand, or written by another program) made
``deliver_event`` fail with a bare ``AttributeError`` (``'str' object has no attribute 'append'``) from inside the
engine. It is a ``SnapshotEncodingError`` naming the execution and ``workflow.signals``, raised by the restore
before anything is written, as every other malformed part of a stored snapshot is."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.errors import SnapshotEncodingError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _server_contracts import BenchPair


@pytest.mark.parametrize("signals", ["none", {"order": 1}, 3, None])
def test_a_signal_log_that_is_not_a_list_is_a_malformed_snapshot_and_nothing_is_written(signals: Any) -> None:
    store = ig.stores.MemoryStore()
    eid = BenchPair.start({"pair_id": "p"}, store=store).execution_id
    record = store.record(eid)
    snapshot = record.snapshot
    snapshot["workflow"]["signals"] = signals
    store.save(snapshot, expected_version=record.version)
    before = store.history_records(eid)
    with pytest.raises(SnapshotEncodingError) as caught:
        BenchPair.deliver_event("left_arrived", correlation={"pair_id": "p"}, payload={"a": 1}, store=store)
    err = caught.value
    assert err.context["path"] == "workflow.signals" and err.context["execution_id"] == eid, str(err)
    assert "must be a list" in str(err)
    assert [r.version for r in store.history_records(eid)] == [r.version for r in before]
