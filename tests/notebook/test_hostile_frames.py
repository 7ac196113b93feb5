"""store_frame, tokens_frame and the SnapshotStepper on stores a hostile world fills: snapshots edited by hand or
written by another tool (wrong types where lists, maps and times belong), next to real workflows. One odd
execution must not take down the frame of the whole store."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore, SQLStore
from tests.notebook.service_contracts import SvcLead

NOW = dt.datetime(2026, 1, 2, 9, 0, tzinfo=dt.UTC)
WAIT = {"status": "pending", "waiting_for": ["a"]}

#: Snapshots that are JSON but not what igniter_nb writes; each once crashed store_frame or tokens_frame.
ODD = {
    "collection item deferred is text": {"states": {"a": WAIT},
                                         "collections": {"a": {"items": [{"status": "waiting", "deferred": "x"}]}}},
    "collection items is a number": {"states": {"a": WAIT}, "collections": {"a": {"items": 5}}},
    "waiting_for is a number": {"states": {"a": {"status": "pending", "waiting_for": 7}}},
    "resolved_at past year 9999": {"states": {"a": {**WAIT, "resolved_at": 1e300}}},
    "first event time past year 9999": {"events": [{"timestamp": 1e20}]},
}


@pytest.fixture(params=["memory", "sqlite"])
def store(request: Any, tmp_path: Path) -> Any:
    if request.param == "memory":
        yield MemoryStore()
        return
    with SQLStore(f"sqlite:///{tmp_path / 'odd.db'}") as opened:
        yield opened


def save_odd(store: Any, what: str) -> str:
    execution_id = str(uuid.uuid4())
    store.save({"execution_id": execution_id, "graph": "Odd", **ODD[what]}, graph="Odd", status="waiting",
               correlation={"k": what})
    return execution_id


@pytest.mark.parametrize("what", sorted(ODD))
def test_an_odd_snapshot_does_not_break_the_frames_of_the_store(store: Any, what: str) -> None:
    real = SvcLead.start({"request_id": "r-1"}, store=store, now=NOW)
    odd = save_odd(store, what)
    frame = ig.nb.store_frame(store, now=NOW)
    assert set(frame["execution_id"]) == {real.execution_id, odd}
    tokens = ig.nb.tokens_frame(store)
    assert {"crm_received", "billing_ready"} <= set(tokens[tokens["execution_id"] == real.execution_id]["event"])
    assert frame._repr_html_() and tokens._repr_html_()  # the HTML of both draws too
    # a time no clock gives is missing, not a crash
    row = frame[frame["execution_id"] == odd].iloc[0]
    assert row["started_at"] == row["updated_at"] or what != "first event time past year 9999"
    assert tokens[tokens["execution_id"] == odd]["since"].isna().all() or what != "resolved_at past year 9999"


@pytest.mark.parametrize("what", sorted(ODD))
def test_the_stepper_steps_through_an_odd_snapshot(store: Any, what: str) -> None:
    odd = save_odd(store, what)
    stepper = ig.nb.SnapshotStepper(store, odd)
    assert stepper.describe() == "step 1/1: version 1 — waiting"
    assert stepper.to_text() and stepper.to_html()


def test_a_graph_of_another_contract_is_refused_not_drawn(store: Any) -> None:
    from contracts import Tax

    from igniter_nb.notebook.follow import Follow

    real = SvcLead.start({"request_id": "r-1"}, store=store, now=NOW)
    for open_it in (lambda g: ig.nb.SnapshotStepper(store, real.execution_id, graph=g, engine="python"),
                    lambda g: Follow(real.execution_id, store, graph=g, start=False, engine="python")):
        # it drew Tax's graph, every node unresolved, as if it were this execution
        with pytest.raises(ValueError, match="graph= is 'Tax', but the execution is of graph 'SvcLead'"):
            open_it(Tax)
        assert 'data-status="waiting"' in open_it(SvcLead).svg()
