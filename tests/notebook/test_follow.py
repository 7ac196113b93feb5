"""ig.nb.Follow and live=True (issue 15 point 3, notebook half): a view of one execution that updates as *other
processes* deliver to it — over a store's change feed (SQLite, polled by version) and over a server's live stream
(a real `igniter-nb serve`) — each version once and in order, never blocking the caller, and stopping cleanly."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.notebook.follow import Follow
from igniter_nb.stores import MemoryStore, SQLStore
from tests.notebook.service_contracts import SvcLead

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(120)


def deliver_later(*args: str) -> subprocess.Popen[str]:
    """Another process delivering SvcLead events (tests/notebook/deliver_later.py)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-m", "tests.notebook.deliver_later", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finished_ok(proc: subprocess.Popen[str]) -> str:
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    return out


def _in_order(follow: Follow) -> None:
    """Every version once, in order; every event once, in seq order."""
    assert [u.version for u in follow.updates] == list(range(1, follow.version + 1))
    seqs = [e["seq"] for e in follow.events]
    assert seqs == list(range(1, len(seqs) + 1))
    assert sum(len(u.events) for u in follow.updates) == len(seqs)


def test_follow_a_store_while_another_process_delivers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    with SQLStore(url) as store:
        wf = SvcLead.start(request_id="r-1", store=store)
        seen: list[int] = []
        follow = Follow(wf.execution_id, store, engine="python", on_update=lambda u: seen.append(u.version),
                        poll_interval=0.05)
        assert follow.running and follow.status == "waiting" and seen == [1]  # the first look, at once
        worker = deliver_later("--store", url, "--request", "r-1", "crm", "billing")
        started = time.monotonic()
        follow.wait(timeout=30)  # returns when the workflow finished
        assert "billing_ready succeeded" in finished_ok(worker)
        assert follow.status == "succeeded" and follow.finished and seen == [1, 2, 3]
        _in_order(follow)
        assert follow.updates[-1].events[-1]["type"] == "workflow_succeeded"
        follow._thread.join(5)  # type: ignore[union-attr]
        assert not follow.running  # ended by itself with the workflow
        assert time.monotonic() - started < 30


def test_follow_a_server_stream_while_another_process_delivers(service: Any) -> None:
    server, store, client = service
    run = client.execute("lead", inputs={"request_id": "r-1"})
    follow = Follow(run["execution_id"], client, engine="python")
    widget = follow.widget
    first_graph = follow._view.graph.value
    assert 'data-status="waiting"' in first_graph and "following" in follow._view.status.value
    worker = deliver_later("--server", server.url, "--token", client._token, "--request", "r-1", "crm", "billing")
    follow.wait(status="succeeded", timeout=30)
    finished_ok(worker)
    _in_order(follow)
    assert [u.status for u in follow.updates] == ["waiting", "waiting", "succeeded"]
    assert follow.record.snapshot == store.record(run["execution_id"]).snapshot
    # the widget was redrawn from the following thread
    assert follow._view.graph.value != first_graph and 'data-status="succeeded"' in follow._view.graph.value
    assert "succeeded" in follow._view.status.value and "workflow_succeeded" in follow._view.events.value
    assert widget is follow.widget


def test_versions_saved_while_not_following_are_all_received(service: Any) -> None:
    _, _, client = service
    run = client.execute("lead", inputs={"request_id": "r-2"})
    follow = Follow(run["execution_id"], client, start=False)
    for event, payload in (("crm_received", {"name": "A"}), ("billing_ready", 1)):
        client.deliver_event("lead", event=event, correlation={"request_id": "r-2"}, payload=payload)
    assert not follow.running and follow.version == 1
    follow.start().wait(timeout=30)  # the stream says version 3: versions 2 and 3 are read from the history
    _in_order(follow)
    assert follow.version == 3


def test_stop_is_prompt_and_a_dropped_follow_stops_itself(service: Any) -> None:
    _, store, client = service
    eid = client.execute("lead", inputs={"request_id": "r-3"})["execution_id"]
    for source in (client, store):
        follow = Follow(eid, source)
        time.sleep(0.3)  # following: waiting on the stream / the feed
        started = time.monotonic()
        follow.stop()
        assert not follow.running and time.monotonic() - started < 2
        assert follow.wait(lambda f: True) is follow  # a condition already true needs no following
        with pytest.raises(TimeoutError, match="following ended"):
            follow.wait(timeout=1)
    follow = Follow(eid, client)
    thread = follow._thread
    assert thread is not None and thread.is_alive()
    del follow
    gc.collect()
    thread.join(5)
    assert not thread.is_alive()  # nobody held it: it stopped


def test_closing_the_widget_stops_following() -> None:
    store = MemoryStore()
    wf = SvcLead.start(request_id="r-1", store=store)
    follow = Follow(wf.execution_id, store)
    follow.widget.close()
    follow._thread.join(5)  # type: ignore[union-attr]
    assert not follow.running


def test_follow_errors_and_finished_executions() -> None:
    store = MemoryStore()
    with pytest.raises(ig.SnapshotNotFoundError):
        Follow("no-such-execution", store)
    with pytest.raises(TypeError):
        Follow(None, store)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="latest="):
        Follow("x", store, latest=-1)
    with pytest.raises(ValueError, match="poll_interval="):
        Follow("x", store, poll_interval=0)
    wf = SvcLead.start(request_id="r-1", store=store)
    SvcLead.deliver_event("crm_received", correlation={"request_id": "r-1"}, payload={"name": "A"}, store=store)
    SvcLead.deliver_event("billing_ready", correlation={"request_id": "r-1"}, payload=1, store=store)
    done = Follow(wf.execution_id, store, latest=3)
    assert done.finished and not done.running and done.wait() is done  # nothing to follow
    assert len(done.to_text().splitlines()) == 4 and "(finished)" in done.to_text()
    assert done.events_html().count("<tr>") == 4  # the header and the 3 latest
    bundle = done._repr_mimebundle_()
    assert {"text/plain", "text/html"} <= set(bundle) and "<svg" in bundle["text/html"]


def test_a_failing_callback_is_reported_and_following_goes_on() -> None:
    store = MemoryStore()
    wf = SvcLead.start(request_id="r-1", store=store)

    def bad(update: Any) -> None:
        if update.version == 2:
            raise RuntimeError("callback broke")

    follow = Follow(wf.execution_id, store, on_update=bad)
    SvcLead.deliver_event("crm_received", correlation={"request_id": "r-1"}, payload={"name": "A"}, store=store)
    SvcLead.deliver_event("billing_ready", correlation={"request_id": "r-1"}, payload=1, store=store)
    follow.wait(timeout=60)
    assert follow.version == 3 and follow.error == "on_update raised RuntimeError: callback broke"


def test_live_stepper_grows_as_another_process_delivers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    with SQLStore(url) as store:
        wf = SvcLead.start(request_id="r-1", store=store)
        stepper = ig.nb.SnapshotStepper(store, execution_id=wf.execution_id, live=True, engine="python")
        live_view, pinned = stepper.widget, stepper.view(0)
        assert stepper.live and len(stepper) == 1
        finished_ok(deliver_later("--store", url, "--request", "r-1", "crm", "billing", "--delay", "0.1"))
        deadline = time.monotonic() + 20
        while len(stepper) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        with stepper._lock:  # the new step is taken (index, views) under this lock
            pass
        assert len(stepper) == 3 and stepper.index == 2  # it was at the last step: it moved on
        assert stepper.describe() == "step 3/3: version 3 — succeeded"
        assert stepper._live.slider.max == 3 and stepper._live.slider.value == 3
        assert "step 3/3" in stepper._live.body.value
        assert pinned is not live_view
        stepper.stop()
        assert not stepper.live


def test_live_stepper_over_a_client_and_a_view_moved_back_stays(service: Any) -> None:
    _, _, client = service
    eid = client.execute("lead", inputs={"request_id": "r-4"})["execution_id"]
    client.deliver_event("lead", event="crm_received", correlation={"request_id": "r-4"}, payload={"name": "A"})
    stepper = ig.nb.SnapshotStepper(client, execution_id=eid, live=True, engine="python")
    stepper.widget  # noqa: B018 - the live view
    stepper.goto(0)  # looking back
    client.deliver_event("lead", event="billing_ready", correlation={"request_id": "r-4"}, payload=2)
    deadline = time.monotonic() + 20
    while len(stepper) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    with stepper._lock:
        pass
    assert len(stepper) == 3 and stepper.index == 0 and stepper._live.index == 0
    assert stepper._live.slider.max == 3 and "step 1/3" in stepper._live.body.value
    with pytest.raises(ValueError, match="live=True follows a store or a server"):
        ig.nb.SnapshotStepper(_audit_frame(), live=True)


def _audit_frame() -> Any:
    c = SvcLead(request_id="x")
    c.resolve_all()
    return c.audit.to_frame()


def test_live_simulator_shows_deliveries_made_elsewhere(service: Any) -> None:
    server, _, client = service
    client.execute("lead", inputs={"request_id": "r-5"})
    sim = ig.nb.EventSimulator(SvcLead, client, live=True, engine="python")
    view = sim._view if sim._view is not None else (sim.widget, sim._view)[1]
    assert sim.live and sim.event == "crm_received"
    finished_ok(deliver_later("--server", server.url, "--token", client._token, "--request", "r-5", "crm",
                              "--delay", "0.1"))
    deadline = time.monotonic() + 20
    while sim.event != "billing_ready" and time.monotonic() < deadline:
        time.sleep(0.05)
    with sim._lock:  # the following thread redraws the widget under this lock: wait until it is done
        pass
    assert sim.event == "billing_ready" and sim.contract.execution.store_version == 2  # delivered elsewhere
    assert list(view.event.options) == ["billing_ready"] and "crm_received" in view.diagnostics.value
    sim.stop()
    assert sim._live is not None and sim._live.follow is None
