"""A SnapshotStepper and a Follow on a damaged record (a snapshot edited by hand or written by another tool): the
views show what they can instead of raising — a workflow record whose deadlines or correlation are not maps, an
event time no clock can give."""

from __future__ import annotations

from typing import Any

import pytest
from contracts import ApprovalContract  # (the module the other files import: one ApprovalContract class)

import igniter_nb as ig
from igniter_nb.stores import MemoryStore

DAMAGED: dict[str, dict[str, Any]] = {
    "deadlines are text": {"workflow": {"deadlines": "x"}},
    "correlation is text": {"workflow": {"correlation": "ab", "deadlines": ["x"]}},
    "correlation is a list of numbers": {"workflow": {"correlation": [1, 2]}},
}
TIMES = [1e300, -1e300, 10**20, -(10**20), 1e16]  # (inf and NaN: no store keeps them, not JSON)


def _store(snapshot: dict[str, Any]) -> MemoryStore:
    store = MemoryStore()
    for _ in range(2):
        store.save({"execution_id": "d-1", "states": {"order_id": {"status": "succeeded", "value": "o-1"}},
                    **snapshot}, graph="ApprovalContract", status="waiting")
    return store


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_a_damaged_workflow_record_still_draws(case: str) -> None:
    store = _store(DAMAGED[case])
    stepper = ig.nb.SnapshotStepper(store, "d-1", graph=ApprovalContract)
    assert "<svg" in stepper.to_html() and "<svg" in (stepper.svg(0) or "")
    follow = ig.nb.Follow("d-1", store, graph=ApprovalContract, start=False)
    assert "<svg" in follow.to_html()


@pytest.mark.parametrize("when", TIMES, ids=str)
def test_an_event_time_no_clock_can_give_is_shown_as_stored(when: float) -> None:
    events = [{"type": "node_started", "node": "order_id", "seq": 1, "timestamp": when}]
    store = _store({"events": events})
    html = ig.nb.Follow("d-1", store, graph=ApprovalContract, start=False).to_html()
    assert "node_started" in html


def test_the_simulator_lists_the_other_workflows_beside_a_damaged_one() -> None:
    """One stored workflow whose ``states`` is not a map took the simulator's whole listing down."""
    from tests.notebook.test_simulator_reads import NOW, ReadLead

    store = MemoryStore()
    ReadLead.start(request_id="r-1", store=store, now=NOW)
    store.save({"execution_id": "junk-1", "states": "garbage"}, graph="ReadLead", status="waiting",
               correlation={"request_id": "r-9"})
    html = ig.nb.EventSimulator(ReadLead, store, now=NOW).to_html()
    assert "r-1" in html and "r-9" in html


def test_the_simulator_opens_beside_a_damaged_first_workflow_and_names_it_when_selected() -> None:
    """The first active workflow was restored on opening: one that is not an igniter_nb snapshot made
    ``EventSimulator(...)`` itself raise, with an error that did not say which execution."""
    from igniter_nb.errors import SnapshotEncodingError
    from tests.notebook.test_simulator_reads import NOW, ReadLead

    store = MemoryStore()
    store.save({"execution_id": "junk-1", "states": {}}, graph="ReadLead", status="waiting",
               correlation={"request_id": "r-0"})
    alone = ig.nb.EventSimulator(ReadLead, store, now=NOW)
    assert alone.execution_id is None and "r-0" in alone.to_html()
    ReadLead.start(request_id="r-1", store=store, now=NOW)
    sim = ig.nb.EventSimulator(ReadLead, store, now=NOW)
    assert sim.correlation == {"request_id": "r-1"} and sim.execution_id != "junk-1"
    with pytest.raises(SnapshotEncodingError, match="junk-1"):
        sim.select(execution_id="junk-1")
    assert sim.correlation == {"request_id": "r-1"}  # a refused selection changes nothing


def test_a_step_that_changes_thousands_of_nodes_shows_a_bounded_table() -> None:
    """The diff table listed every changed node: 5,000 nodes made a 4 MB step view."""
    from igniter_nb.notebook.stepper import STEP_ROWS

    store = MemoryStore()
    store.save({"execution_id": "big-1", "states": {}}, graph="G", status="running")
    store.save({"execution_id": "big-1", "states": {f"n{i:05d}": {"status": "succeeded", "value": i}
                                                    for i in range(3000)}}, graph="G", status="succeeded")
    stepper = ig.nb.SnapshotStepper(store, "big-1")
    assert len(stepper.changes(1)) == 3000  # the data keeps every change
    html = stepper.to_html(1)
    assert html.count("<tr>") <= STEP_ROWS + 1 and f"… {3000 - STEP_ROWS} more" in html
    assert "n00000" in html and "n02999" not in html
    assert len(html) < 400_000
    text = stepper.to_text(1)
    assert text.count("\n") == STEP_ROWS + 1 and f"… {3000 - STEP_ROWS} more" in text


# A workflow record part that is not a map (2026-12-04 trials): ``instance_facts`` read ``deadlines`` with
# ``.items()`` and raised AttributeError; SnapshotInstance.of filtered such parts out, anything else building a
# SnapshotInstance (or an execution-like object) did not. The picture now draws the parts that are maps.
@pytest.mark.parametrize("workflow", [
    {"deadlines": "x"}, {"deadlines": ["x"], "correlation": "ab"}, {"correlation": [1, 2]}, {"deadlines": 7},
    "not a record", ["x"], 12,
], ids=repr)
def test_a_snapshot_instance_with_a_damaged_record_draws(workflow: Any) -> None:
    from igniter_nb.notebook.snapshot_view import SnapshotInstance

    svg = ig.nb.render_graph(ApprovalContract.compiled_graph(), states=SnapshotInstance({}, {}, workflow), engine="python")
    assert "<svg" in svg and "correlate by: order_id" in svg


@pytest.mark.parametrize("states, inputs", [("garbage", "x"), (["x"], [1, 2]), (None, None)], ids=repr)
def test_a_snapshot_instance_whose_states_or_inputs_are_not_maps_draws(states: Any, inputs: Any) -> None:
    from igniter_nb.notebook.snapshot_view import SnapshotInstance

    svg = ig.nb.render_graph(ApprovalContract.compiled_graph(), states=SnapshotInstance(states, inputs, None), engine="python")
    assert "<svg" in svg


def test_the_good_part_of_a_damaged_record_still_shows() -> None:
    """Deadlines that are text beside a correlation map: the correlation value is drawn; and the other way."""
    from igniter_nb.notebook.snapshot_view import SnapshotInstance

    instance = SnapshotInstance({}, {}, {"deadlines": "x", "correlation": {"order_id": "<b>o-7</b>"}})
    svg = ig.nb.render_graph(ApprovalContract.compiled_graph(), states=instance, engine="python")
    assert "order_id=" in svg and "o-7" in svg and "<b>" not in svg
    instance = SnapshotInstance({"approval": {"status": "waiting"}}, {},
                                {"correlation": "ab", "deadlines": {"approval": "2030-01-01T10:00:00+00:00"}})
    svg = ig.nb.render_graph(ApprovalContract.compiled_graph(), states=instance, engine="python")
    assert "deadline 2030-01-01 10:00:00 UTC" in svg
