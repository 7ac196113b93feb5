"""SnapshotStepper over real histories: store versions (memory, SQLite, ParquetStore), a ParquetStore directory,
an ``export_parquet`` dataset, a snapshot-log DataFrame; diffs, values, pictures, widget, the 100 ms step bar."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from nb_store_contracts import NOW, NbAsyncPricing, NbBroken, NbLeadWorkflow

import igniter_nb as ig
from igniter_nb.notebook import stepper as stepper_module

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
CORR = {"request_id": "r-1", "company_id": 42}


def _store(kind, tmp_path):
    from igniter_nb.stores import MemoryStore, ParquetStore, SQLStore

    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        return SQLStore(f"sqlite:///{tmp_path / 'steps.db'}")
    return ParquetStore(tmp_path / "log")


def _pricing_history(store):
    c = NbAsyncPricing(order_total=100, store=store, execution_id="pricing-1")
    c.resolve_all()  # version 1: pending on quote-100
    resumed = NbAsyncPricing.resume_from_store("pricing-1", token="quote-100", value=150, store=store)  # version 2
    resumed.resolve_all()  # version 3: the lazy dependents computed
    return "pricing-1"


def _workflow_history(store):
    wf = NbLeadWorkflow.start(dict(CORR), store=store, now=NOW)
    NbLeadWorkflow.deliver_event("crm_received", correlation=CORR, payload={"plan": "pro"}, store=store,
                               now=NOW + dt.timedelta(minutes=1))
    NbLeadWorkflow.deliver_event("billing_ready", correlation=CORR, payload={"seats": 3}, store=store,
                               now=NOW + dt.timedelta(minutes=2))
    return wf.execution_id


def test_the_stepper_is_still_reachable_from_widgets():
    from igniter_nb.notebook import widgets

    assert ig.nb.SnapshotStepper is stepper_module.SnapshotStepper is widgets.SnapshotStepper


@pytest.mark.parametrize("kind", ["memory", "sqlite", "parquet"])
def test_stepping_through_a_store_history(kind, tmp_path):
    store = _store(kind, tmp_path)
    eid = _pricing_history(store)
    st = ig.nb.SnapshotStepper(store, eid, engine="python")
    assert st.steps == range(2) and st.graph is NbAsyncPricing.graph and st.execution_id == eid
    first = st.goto(0)
    assert first["format"] == "igniter_nb.snapshot/1" and first["execution_id"] == eid
    assert st.current_status == "pending" and st.version.version == 1 and st.version.status == "pending"
    assert st.diff() == {"gross_total": ("unresolved", "pending"), "order_total": ("unresolved", "succeeded"),
                         "quote_total": ("unresolved", "pending")}
    states = st.current_states
    assert states["quote_total"]["waiting_for"] == ["quote_total"] and states["quote_total"]["version"] == 1
    assert "quote-100" in states["quote_total"]["value"]
    st.next()  # resumed by a worker: the store runner computes the dependents before saving
    assert st.current_status == "succeeded" and st.version.version == 2
    assert st.diff() == {"gross_total": ("pending", "succeeded"), "quote_total": ("pending", "succeeded")}
    changes = {c.node: c for c in st.changes()}
    assert changes["quote_total"].value_after == "150"
    assert changes["gross_total"].value_after == "180.0"
    assert isinstance(st.version.saved_at, dt.datetime) and st.version.saved_at.tzinfo is not None
    assert st.next() is st.current and st.index == 1  # stays on the last step
    assert st.prev()["states"]["gross_total"]["status"] == "pending"
    with pytest.raises(IndexError):
        st.goto(2)
    svg = st.goto(-1) and st.svg()
    assert "NbAsyncPricing" in svg and 'data-status="succeeded"' in svg


def test_a_workflow_history_shows_each_delivery(tmp_path):
    store = _store("memory", tmp_path)
    eid = _workflow_history(store)
    st = ig.nb.SnapshotStepper(store, eid, engine="python")
    assert len(st) == 3
    assert [st.goto(i) and st.current_status for i in st.steps] == ["waiting", "waiting", "succeeded"]
    st.goto(0)
    assert st.current_states["crm"]["event"] == "crm_received"
    assert 'data-status="waiting"' in st.svg() and "crm_received" in st.svg()
    st.goto(1)
    assert st.diff() == {"crm": ("waiting", "succeeded")}
    st.goto(2)
    assert st.diff() == {"billing": ("waiting", "succeeded"), "report": ("waiting", "succeeded")}
    assert st.to_text().splitlines()[1:] == ["  billing: waiting -> succeeded", "  report: waiting -> succeeded"]


def test_recomputed_nodes_show_in_changes_but_not_in_the_status_diff(tmp_path):
    store = _store("memory", tmp_path)
    eid = _pricing_history(store)
    c = NbAsyncPricing.restore_from_store(eid, store=store)
    c.update_inputs(order_total=200)
    c.resolve_all()  # recomputes quote_total? no: it defers again with a new token
    versions = store.history(eid)
    st = ig.nb.SnapshotStepper(store, eid, engine="python")
    assert len(st) == len(versions) >= 3
    st.goto(-1)
    assert st.diff()["quote_total"] == ("succeeded", "pending")
    # order_total keeps its status but has a new value: a change, not a status change
    changes = {c.node: c for c in st.changes()}
    assert "order_total" not in st.diff()
    assert changes["order_total"].before == changes["order_total"].after == "succeeded"
    assert (changes["order_total"].value_before, changes["order_total"].value_after) == ("100", "200")
    assert "order_total: succeeded -> succeeded (value: 100 -> 200)" in st.to_text()


def test_a_failed_version_shows_its_error(tmp_path):
    store = _store("memory", tmp_path)
    NbBroken(x=1, store=store, execution_id="broken-1").resolve_all()
    st = ig.nb.SnapshotStepper(store, "broken-1", engine="python")
    assert st.current_status == "failed"
    assert st.current_states["boom"]["error_type"] == "ResolutionError"
    assert "no good" in st.current_states["boom"]["value"]
    assert 'data-status="failed"' in st.svg()


# ----------------------------------------------------------------------------------------------- parquet


def test_a_parquet_store_directory_is_a_source(tmp_path):
    store = _store("parquet", tmp_path)
    eid = _pricing_history(store)
    other = _workflow_history(store)
    root = tmp_path / "log"
    by_path = ig.nb.SnapshotStepper(root, eid, engine="python")  # a PathLike
    by_store = ig.nb.SnapshotStepper(store, eid, engine="python")
    assert len(by_path) == len(by_store) == 2 and by_path.graph is NbAsyncPricing.graph
    for i in by_path.steps:
        assert by_path.goto(i) == by_store.goto(i)
        assert by_path.current_status == by_store.current_status and by_path.diff() == by_store.diff()
        assert by_path.version == by_store.version
    wf = ig.nb.SnapshotStepper(str(root), other)
    assert wf.graph is NbLeadWorkflow.graph and [wf.goto(i) and wf.current_status for i in wf.steps][-1] == "succeeded"
    with pytest.raises(ValueError, match="holds 2 executions; pick one with execution_id="):
        ig.nb.SnapshotStepper(str(root))
    with pytest.raises(ValueError, match=r"nothing to step through|not in this snapshot log"):
        ig.nb.SnapshotStepper(str(root), "nope")


def test_an_export_parquet_dataset_and_a_log_frame_are_sources(tmp_path):
    from igniter_nb.stores import ParquetStore, SQLStore, export_parquet

    source = SQLStore(f"sqlite:///{tmp_path / 'src.db'}")
    eid = _workflow_history(source)
    export_parquet(source, tmp_path / "export", execution_ids=[eid])
    from_store = ig.nb.SnapshotStepper(source, eid, engine="python")
    alone = ig.nb.SnapshotStepper(tmp_path / "export", engine="python")  # one execution: picked by itself
    assert alone.execution_id == eid and len(alone) == len(from_store) == 3
    log = pd.read_parquet(tmp_path / "export")  # pandas reads the dataset (the index sidecar is skipped)
    as_frame = ig.nb.SnapshotStepper(log, eid, engine="python")
    store_frame = ig.nb.SnapshotStepper(ParquetStore(tmp_path / "export").to_frame(), engine="python")
    for i in from_store.steps:
        expected = (from_store.goto(i), from_store.current_status, from_store.diff())
        for other in (alone, as_frame, store_frame):
            assert (other.goto(i), other.current_status, other.diff()) == expected
    # a single parquet file of the log works too
    one_file = next((tmp_path / "export" / eid).glob("v*.parquet"))
    assert len(ig.nb.SnapshotStepper(one_file)) == 1


# ----------------------------------------------------------------------------------------------- views


def test_widget_and_static_output(tmp_path):
    store = _store("memory", tmp_path)
    eid = _workflow_history(store)
    st = ig.nb.SnapshotStepper(store, eid, engine="python")
    view = st.widget
    live = st._live
    live.slider.value = 2  # the slider counts like the heading: 1..3
    assert st.index == 1 and "step 2/3" in live.body.value and "crm" in live.body.value
    st.next()
    assert live.slider.value == 3 and "step 3/3" in live.body.value  # the live view follows the stepper
    bundle = st._repr_mimebundle_()
    assert WIDGET_MIME in bundle and bundle["text/plain"].startswith("step 3/3: version 3 — succeeded")
    html = bundle["text/html"]
    assert "<svg" in html and "value before" in html and "billing" in html
    assert view is st.widget


def test_static_output_without_a_known_graph(tmp_path):
    from igniter_nb.stores import MemoryStore

    store = MemoryStore()
    store.save({"execution_id": "x-1", "states": {"a": {"status": "succeeded", "value": 1, "version": 1}}},
               graph="NoSuchContract", status="succeeded")
    st = ig.nb.SnapshotStepper(store, "x-1")
    assert st.graph is None and st.svg() is None
    assert "a: unresolved -> succeeded" in st.to_text() and "<svg" not in st.to_html()


def test_every_step_of_a_long_history_renders_its_own_version(tmp_path):
    # A long history of a 50-node contract, visited out of order: each step shows its own version and values.
    # (How fast a step is — B7, well under 100 ms — is measured by bench/notebook.py: no clocks in unit tests.)
    from igniter_nb.stores import MemoryStore

    class NbWide(ig.Contract):
        def define(c):
            c.run_with("store")
            c.input("x", type="numeric")
            for i in range(48):
                c.compute(f"n{i}", depends_on=["x"] if i < 8 else [f"n{i - 8}", f"n{i - 7}"],
                          call=lambda **kw: sum(kw.values()))
            c.output("n47")

    store = MemoryStore()
    c = NbWide(x=1, store=store, execution_id="wide-1")
    c.resolve_all()
    for i in range(60):
        c.update_inputs(x=i + 2)
        c.resolve_all()
    st = ig.nb.SnapshotStepper(store, "wide-1", engine="python")
    assert len(st) == 61
    for i in [*range(0, 61, 7), 60, 0, 30]:
        st.goto(i)
        assert st.index == i
        assert f"step {i + 1}/61" in st.to_html()
        changed = {c.node for c in st.changes()}
        assert changed >= {"x", "n0", "n47"}  # the input moved, so did every node after it
        assert st.current_states["x"]["value"] == str(i + 1)


def test_the_graph_comes_from_the_snapshot_contract_not_a_namesake(tmp_path):
    # graph names need not be unique: the stored `module:QualName` decides; a namesake that cannot compile is skipped
    import nb_store_contracts

    store = _store("memory", tmp_path)
    eid = _pricing_history(store)

    class NbAsyncPricing(ig.Contract):  # registered last under the same name, with another graph
        def define(c):
            c.input("other")
            c.output("other")

    assert ig.nb.SnapshotStepper(store, eid).graph is nb_store_contracts.NbAsyncPricing.graph
    store.save({"execution_id": "x-2", "contract": "nowhere:Missing", "states": {}}, graph="NbAsyncPricing")
    assert ig.nb.SnapshotStepper(store, "x-2").graph is NbAsyncPricing.graph  # by name, when the ref is unknown


def test_slider_and_heading_count_steps_the_same_way(tmp_path):
    store = _store("memory", tmp_path)
    st = ig.nb.SnapshotStepper(store, _workflow_history(store), engine="python")
    st.goto(0)
    view = st.view()
    parts = view.children[0].children
    slider = next(p for p in parts if type(p).__name__ == "IntSlider")
    assert (slider.min, slider.max, slider.value) == (1, 3, 1)
    assert "step 1/3" in view.children[1].value
    slider.value = 3
    assert "step 3/3" in view.children[1].value and st.describe().startswith("step 3/3")


def test_a_displayed_view_keeps_its_step_when_later_code_moves_the_stepper(tmp_path):
    from igniter_nb.notebook.stepper_widget import StepperView

    store = _store("memory", tmp_path)
    st = ig.nb.SnapshotStepper(store, _workflow_history(store), engine="python")
    st.goto(1)
    bundle = st._repr_mimebundle_()  # "cell A" displays the stepper at step 2/3
    assert bundle["text/plain"].startswith("step 2/3") and WIDGET_MIME in bundle
    shown = StepperView(st, st.index, live=False)  # the same kind of view the bundle carries
    st.goto(2)  # "cell B" moves the stepper on
    assert shown.index == 1 and "step 2/3" in shown.body.value and shown.slider.value == 2
    assert st.to_text().startswith("step 3/3")
    shown.back.click()  # the view's own controls move it, and the stepper with it
    assert shown.index == 0 and "step 1/3" in shown.body.value and st.index == 0
    with pytest.raises(IndexError):
        st.goto(3)
    with pytest.raises(TypeError):
        st.goto("1")
    import numpy as np

    assert st.goto(np.int64(1)) is st.current and st.index == 1  # a step read from a frame


def test_reading_any_step_without_moving(tmp_path):
    store = _store("memory", tmp_path)
    st = ig.nb.SnapshotStepper(store, _workflow_history(store), engine="python")
    st.goto(2)
    assert st.describe(0).startswith("step 1/3") and st.status_at(0) == "waiting"
    assert st.diff(0) and st.to_html(0) != st.to_html() and st.index == 2
