"""Follow, the stepper and the widgets under a hostile user: following restarted after it ended with an error, steps
asked for past either end, widgets asked for where ipywidgets is not installed."""

from __future__ import annotations

import sys

import pytest

import igniter_nb as ig
from igniter_nb.notebook.follow import Follow
from igniter_nb.stores import MemoryStore
from tests.notebook.service_contracts import SvcLead

R1 = {"request_id": "r-1"}


def test_following_started_again_does_not_show_why_the_last_one_ended() -> None:
    store = MemoryStore()
    wf = SvcLead.start(R1, store=store)
    record = store.record(wf.execution_id)
    follow = Follow(wf.execution_id, store, poll_interval=0.01)
    store.delete(wf.execution_id)  # another process cleans up: following ends, saying why
    with pytest.raises(TimeoutError, match="following ended"):
        follow.wait(timeout=60)
    # deleted before or after the following thread's first look: either way it says so (after, error stayed None)
    assert "SnapshotNotFoundError" in (follow.error or "") and follow.state == "stopped"
    store.save(record.snapshot, graph=record.graph, correlation=record.correlation, status=record.status)
    follow.start()  # put back (restored from a backup): follow it again
    assert follow.state == "following"
    assert follow.error is None  # the heading said "following · SnapshotNotFoundError: …"
    assert "Error" not in follow.status_html() and "Error" not in follow.to_text()
    SvcLead.deliver_event("crm_received", correlation=R1, payload={"name": "A"}, store=store)
    assert follow.wait(version=2, timeout=60).error is None
    follow.stop()


@pytest.mark.parametrize(("index", "said"), [
    (3, "step 3 out of range: 3 steps (0..2, or -3..-1 from the end)"),
    (-4, "step -4 out of range: 3 steps"),  # it said "step -1 out of range (0..2)"
])
def test_a_step_out_of_range_is_named_as_asked(index: int, said: str) -> None:
    store = MemoryStore()
    wf = SvcLead.start(R1, store=store)
    SvcLead.deliver_event("crm_received", correlation=R1, payload={"name": "A"}, store=store)
    SvcLead.deliver_event("billing_ready", correlation=R1, payload=1, store=store)
    stepper = ig.nb.SnapshotStepper(store, wf.execution_id)
    with pytest.raises(IndexError) as caught:
        stepper.goto(index)
    assert str(caught.value).startswith(said)
    stepper.goto(-3)
    assert stepper.index == 0


def test_without_ipywidgets_a_widget_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from contracts import PriceContract

    store = MemoryStore()
    wf = SvcLead.start(R1, store=store)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # not installed
    objects = [ig.nb.SnapshotStepper(store, wf.execution_id), ig.nb.EventSimulator(SvcLead, store),
               Follow(wf.execution_id, store, start=False),
               ig.nb.InputPlayground(PriceContract(order_total=1, country="UA"))]
    for obj in objects:
        with pytest.raises(ModuleNotFoundError, match=r"pip install 'igniter_nb\[notebook\]'"):
            obj.widget  # noqa: B018 - it said only "import of ipywidgets halted" / "No module named 'ipywidgets'"
        assert set(obj._repr_mimebundle_()) == {"text/plain", "text/html"}  # displaying still shows the static view


def test_an_execution_deleted_while_followed_says_why_following_ended() -> None:
    store = MemoryStore()
    wf = SvcLead.start(R1, store=store)
    follow = Follow(wf.execution_id, store, poll_interval=0.01)
    SvcLead.deliver_event("crm_received", correlation=R1, payload={"name": "A"}, store=store)
    follow.wait(version=2, timeout=60)  # the thread is past its first look: the feed now ends quietly on deletion
    store.delete(wf.execution_id)
    with pytest.raises(TimeoutError, match="following ended: SnapshotNotFoundError"):
        follow.wait(timeout=60)
    assert "SnapshotNotFoundError" in follow.to_text()
