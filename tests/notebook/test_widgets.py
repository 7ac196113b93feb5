"""InputPlayground and SnapshotStepper driven from Python, and through their ipywidgets views (no browser)."""

from __future__ import annotations

from typing import Literal

import pytest
from contracts import ApprovalContract, PriceContract

import igniter_nb as ig
from igniter_nb.notebook.widgets import control_kind

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def test_playground_reports_invalidated_and_recomputed_nodes():
    pg = ig.nb.InputPlayground(PriceContract(order_total=100, country="UA"))
    report = pg.set(order_total=150)
    assert report.changed == ("order_total",)
    assert report.invalidated == ("gross_total",)
    assert report.recomputed == ("gross_total",)
    assert report.outputs == {"gross_total": 180.0} and report.status == "succeeded"
    report = pg.set(country="PL")
    assert set(report.invalidated) == {"effective_vat_rate", "gross_total"}
    assert report.recomputed == ("effective_vat_rate", "gross_total")
    assert report.outputs == {"gross_total": 150.0}


def test_playground_equal_value_changes_nothing():
    pg = ig.nb.InputPlayground(PriceContract(order_total=100, country="UA"))
    report = pg.set(order_total=100)
    assert (report.changed, report.invalidated, report.recomputed) == ((), (), ())


def test_playground_rejects_invalid_input_and_applies_nothing():
    c = PriceContract(order_total=100, country="UA")
    pg = ig.nb.InputPlayground(c)
    with pytest.raises(ig.InputError):
        pg.set(order_total=5, country=3)
    assert c.inputs["order_total"] == 100 and pg.history == []


def test_playground_with_a_waiting_contract():
    pg = ig.nb.InputPlayground(ApprovalContract(order_id="o", order_total=10))
    report = pg.set(order_total=20)
    assert "taxes" in report.recomputed and report.status == "waiting"
    assert "approval" not in report.recomputed  # still waiting, nothing re-resolved it


class GuardedOrder(ig.Contract):
    def define(c):
        c.input("order_total", type="numeric")
        c.guard("small_enough", depends_on=["order_total"], call=lambda order_total: order_total < 1000,
                message="orders of 1000 or more need a manager")

        @c.compute
        def invoice(order_total, small_enough):
            return f"{order_total:.2f} EUR"

        c.output("invoice")


def test_playground_shows_the_message_of_a_failing_guard():
    pg = ig.nb.InputPlayground(GuardedOrder(order_total=10))
    report = pg.set(order_total=5000)
    assert report.status == "failed"
    # the guard's own message, once: `invoice` failed only because the guard did
    assert report.errors == {"small_enough": "orders of 1000 or more need a manager"}
    assert "failed: small_enough: orders of 1000 or more need a manager" in report.to_text()
    assert "orders of 1000 or more need a manager" in report.to_html()
    assert pg.widget is not None
    pg._controls["order_total"].value = 4000.0  # through the widget: the report area says why
    assert "orders of 1000 or more need a manager" in pg._report.value
    assert "need a manager" in pg.to_html() and pg.set(order_total=20).errors == {}


def test_controls_follow_input_types():
    def define(c):
        c.input("n", type="integer")
        c.input("x", type=float)
        c.input("flag", type=bool)
        c.input("name", type=str)
        c.input("mode", type=Literal["a", "b"])
        c.input("tags", type=list)
        c.output("n")

    graph = ig.compile(define, name="Controls")
    assert {n.name: control_kind(n) for n in graph.input_nodes} == {
        "n": "int", "x": "float", "flag": "bool", "name": "text", "mode": "choice", "tags": "json"}


def test_playground_widget_changes_call_set():
    import ipywidgets as w

    pg = ig.nb.InputPlayground(PriceContract(order_total=100, country="UA"))
    view = pg.widget
    assert isinstance(view, w.VBox)
    controls = pg._controls
    assert isinstance(controls["order_total"], w.FloatText) and isinstance(controls["country"], w.Text)
    controls["order_total"].value = 200.0  # what a browser does when the user edits the field
    assert pg.last.recomputed == ("gross_total",) and pg.last.outputs == {"gross_total": 240.0}
    assert "recomputed" in pg._report.value and "240" not in pg._message.value
    controls["country"].value = ""  # still a str: valid
    assert pg.last.changed == ("country",)
    bundle = pg._repr_mimebundle_()
    assert WIDGET_MIME in bundle and "text/html" in bundle and "InputPlayground PriceContract" in bundle["text/plain"]


def test_playground_widget_shows_errors_instead_of_raising():
    def define(c):
        c.input("tags", type=list)
        c.output("tags")

    pg = ig.nb.InputPlayground(ig.contract(define, name="Tags")(tags=[1]))
    control = pg.widget and pg._controls["tags"]
    control.value = "{not json"
    assert "not JSON" in pg._message.value
    control.value = '{"a": 1}'  # JSON, but not a list
    assert "InputError" in pg._message.value
    control.value = "[1, 2]"
    assert pg._message.value == "" and pg.last.changed == ("tags",)


# ----------------------------------------------------------------------------------------------- stepper


def _approved_frame():
    c = ApprovalContract(order_id="o-1", order_total=5)
    c.resolve_all()
    c.resume("approval", {"ok": True})
    c.resolve_all()
    return c, c.audit.to_frame()


def test_stepper_over_an_audit_frame():
    c, frame = _approved_frame()
    st = ig.nb.SnapshotStepper(frame)
    assert st.steps == range(len(frame)) and st.graph is c.graph
    first = st.goto(0)
    assert first.type == "execution_started" and st.diff() == {}
    st.goto(2)
    assert st.current.node is not None
    waiting_at = next(i for i in st.steps if st.goto(i).type == "node_waiting" and st.current.node == "approval")
    assert st.diff() == {"approval": ("running", "waiting")}
    assert st.current_status == "waiting"  # the worst status so far, though summary is still running
    st.goto(-1)
    assert st.current_status == "succeeded" and st.index == len(frame) - 1
    assert st.next().seq == frame["seq"].iloc[-1]  # stays on the last step
    st.goto(waiting_at)
    st.prev()
    assert st.index == waiting_at - 1
    with pytest.raises(IndexError):
        st.goto(len(frame))
    svg = st.svg()
    assert "ApprovalContract" in svg and "<svg" in svg


def test_stepper_reads_parquet_and_filters_by_execution(tmp_path):
    c, frame = _approved_frame()
    path = tmp_path / "audit.parquet"
    ig.nb.to_parquet(frame, path)
    st = ig.nb.SnapshotStepper(str(path), execution_id=c.execution_id)
    assert len(st) == len(frame)
    with pytest.raises(ValueError):
        ig.nb.SnapshotStepper(str(path), execution_id="nope")


def test_stepper_widget_and_static_output():
    _, frame = _approved_frame()
    st = ig.nb.SnapshotStepper(frame)
    view = st.widget
    st._live.slider.value = 6  # moving the slider moves the stepper; both count from 1
    assert st.index == 5 and "step 6/" in st._live.body.value
    st.next()
    assert st._live.slider.value == 7
    bundle = st._repr_mimebundle_()
    assert WIDGET_MIME in bundle and bundle["text/plain"].startswith("step 7/")
    assert view is st.widget


def test_stepper_over_a_store_history():
    from igniter_nb.stores import MemoryStore

    store = MemoryStore()
    states = {"approval": {"status": "waiting"}}
    version = store.save({"execution_id": "e-1", "states": states}, graph="ApprovalContract", status="waiting")
    store.save({"execution_id": "e-1", "states": {"approval": {"status": "succeeded"}, "summary": {"status": "succeeded"}}},
               graph="ApprovalContract", status="succeeded", expected_version=version)
    st = ig.nb.SnapshotStepper(store, "e-1")
    assert len(st) == 2 and st.current["states"] == states
    st.next()
    assert st.diff() == {"approval": ("waiting", "succeeded"), "summary": ("unresolved", "succeeded")}
    assert st.current_status == "succeeded"
    assert st.graph is ApprovalContract.graph
    with pytest.raises(ValueError):
        ig.nb.SnapshotStepper(store)
