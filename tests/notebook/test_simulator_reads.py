"""How much of the store the EventSimulator and the store frames read, counted on a real SQLite store: a select
or a display reads a bounded page of snapshots, each at most once (a store of 10,000 waiting workflows took 11-28 s
per select when every snapshot was read about three times), and a delivery goes only to the selected workflow."""

from __future__ import annotations

import collections
import datetime as dt
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.notebook import simulator_reads, simulator_views
from igniter_nb.stores.sql import SQLStore

NOW = dt.datetime(2026, 1, 2, 9, 0, tzinfo=dt.UTC)


class ReadLead(ig.Contract):
    def define(c):
        c.correlate_by("request_id")
        c.input("request_id")
        c.await_event("crm", event="crm_received")
        c.await_event("note", event="note_added")

        @c.aggregate
        def report(crm, note):
            return {"crm": crm, "note": note}

        c.output("report")


def counting(store: SQLStore) -> collections.Counter[str]:
    """Snapshot decodes per execution id: every snapshot the store reads passes ``_loads``."""
    reads: collections.Counter[str] = collections.Counter()
    loads = store._loads

    def spy(text: Any, execution_id: str) -> Any:
        reads[execution_id] += 1
        return loads(text, execution_id)

    store._loads = spy  # type: ignore[method-assign]
    return reads


@pytest.fixture
def store(tmp_path: Any) -> Any:
    s = SQLStore(f"sqlite:///{tmp_path / 'sim.db'}")
    for i in range(12):
        ReadLead.start(request_id=f"r-{i:02d}", store=s, now=NOW)
    for i in range(5):  # finished ones: no view of active workflows needs them
        ReadLead.start(request_id=f"done-{i}", store=s, now=NOW)
        ReadLead.cancel(correlation={"request_id": f"done-{i}"}, store=s, now=NOW)
    yield s
    s.close()


def test_opening_selecting_and_showing_read_each_snapshot_at_most_once(store: Any) -> None:
    reads = counting(store)
    sim = ig.nb.EventSimulator(ReadLead, store, now=NOW)
    assert sum(reads.values()) == 12 and max(reads.values()) == 1  # the first page, the first one restored from it
    reads.clear()
    sim.select(correlation={"request_id": "r-07"})
    assert dict(reads) == {sim.execution_id: 1}  # found by the correlation index, only the target read
    reads.clear()
    sim.select(event="note_added")
    assert dict(reads) == {sim.execution_id: 1}  # a change of event: only the selected workflow, as it is now
    reads.clear()
    bundle = sim._repr_mimebundle_()  # text, HTML and the widget view
    assert "12 active workflows" in bundle["text/plain"]
    assert sum(reads.values()) == 12 and max(reads.values()) == 1
    reads.clear()
    sim.select(correlation={"request_id": "r-03"})  # with the widget built: its dropdown and the target, one read
    assert sum(reads.values()) == 12 and max(reads.values()) == 1
    reads.clear()
    assert repr(sim) == "EventSimulator(ReadLead, 12 active)" and not reads  # counted, not read


def test_the_views_read_a_bounded_page(store: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(simulator_reads, "LISTED_WORKFLOWS", 5)
    monkeypatch.setattr(simulator_views, "SHOWN_WORKFLOWS", 3)  # where the static view reads it
    reads = counting(store)
    sim = ig.nb.EventSimulator(ReadLead, store, now=NOW)
    html = sim.to_html()
    # the page of the first select and the page of the view (each with the store's look-ahead row), not all 12
    assert sum(reads.values()) <= 2 * (5 + 1) and len(reads) <= 6
    assert "… 9 more rows" in html  # 3 shown of 12 counted
    assert len(sim.workflows()) == 12  # the object still lists them all when asked


def test_store_frame_reads_each_snapshot_once_and_tokens_frame_only_active_ones(store: Any) -> None:
    reads = counting(store)
    assert len(ig.nb.store_frame(store)) == 17
    assert sum(reads.values()) == 17 and max(reads.values()) == 1
    reads.clear()
    assert set(ig.nb.tokens_frame(store)["event"]) == {"crm_received", "note_added"}
    assert sum(reads.values()) == 12 and max(reads.values()) == 1  # the 5 cancelled ones are not read


def test_deliver_goes_to_the_selected_workflow_not_a_newer_one_with_its_correlation(store: Any) -> None:
    sim = ig.nb.EventSimulator(ReadLead, store, now=NOW).select(correlation={"request_id": "r-01"}, event="crm_received",
                                                                  payload={"name": "Acme"})
    old = sim.execution_id
    ReadLead.cancel(correlation={"request_id": "r-01"}, store=store, now=NOW)
    new = ReadLead.start(request_id="r-01", store=store, now=NOW).execution_id  # the same correlation, started after
    before = {eid: store.version_of(eid) for eid in (old, new)}
    preview = sim.dry_run()  # the dry run says what deliver() will do
    assert not preview.ok and preview.errors[0]["type"] == "WorkflowNotFoundError"
    assert old in preview.errors[0]["message"] and new in preview.errors[0]["message"]
    with pytest.raises(ig.WorkflowNotFoundError) as caught:
        sim.deliver()
    message = str(caught.value)
    assert old in message and new in message and "no longer the active one" in message
    assert f"sim.select(execution_id={new!r})" in message
    assert {eid: store.version_of(eid) for eid in (old, new)} == before  # nothing written to either
    assert sim.last_error is not None and sim.last_error["type"] == "WorkflowNotFoundError"
    assert sim.execution_id == old  # still the selected one
    contract = sim.select(execution_id=new, event="crm_received", payload={"name": "Acme"}).deliver()
    assert contract.execution_id == new  # selected explicitly: delivered


def test_deliver_to_the_selected_active_workflow_is_unchanged(store: Any) -> None:
    sim = ig.nb.EventSimulator(ReadLead, store, now=NOW).select(correlation={"request_id": "r-02"}, event="crm_received",
                                                                  payload={"name": "Acme"})
    contract = sim.deliver()
    assert contract.execution_id == sim.execution_id and sim.last_delivery is not None
