"""The diagnostics report (reference §7.6–§7.10): resolves first, never raises, reads node states; presenters
shape only the Outputs line; workflow fields from states and `execution.workflow`."""

from __future__ import annotations

import json
import re
import textwrap

import pytest
from diagnostics_contracts import Approval, Pending, PriceContract

import igniter_nb as ig
from igniter_nb.diagnostics.report import Report, inline


def _masked(text: str, contract) -> str:
    return text.replace(contract.execution_id, "<id>")


def test_text_of_a_succeeded_execution():
    contract = PriceContract(order_total=100, country="UA")
    report = contract.diagnostics
    assert isinstance(report, Report)
    assert _masked(report.to_text(), contract) == textwrap.dedent("""\
        Diagnostics PriceContract
        Execution <id>
        Status: succeeded
        Outputs: gross_total=120.0
        Nodes: total=4, succeeded=4, failed=0, pending=0, waiting=0, stale=0
        Errors: none
        Events: total=10, latest=execution_finished""")
    assert repr(report) == report.to_text()


def test_markdown_of_a_succeeded_execution():
    contract = PriceContract(order_total=100, country="UA")
    assert _masked(contract.diagnostics.to_markdown(), contract) == textwrap.dedent("""\
        # Diagnostics PriceContract

        - Execution: `<id>`
        - Status: `succeeded`
        - Outputs: gross_total=120.0
        - Nodes: total=4, succeeded=4, failed=0, pending=0, waiting=0, stale=0
        - Events: total=10, latest=execution_finished""")


def test_dict_of_a_succeeded_execution_is_json_safe():
    contract = PriceContract(order_total=100, country="UA")
    data = contract.diagnostics.to_dict()
    json.dumps(data)
    assert data["graph"] == "PriceContract" and data["execution_id"] == contract.execution_id
    assert data["status"] == "succeeded"
    assert data["outputs"] == {"gross_total": 120.0}
    assert data["errors"] == []
    assert data["nodes"] == {"total": 4, "succeeded": 4, "failed": 0, "pending": 0, "waiting": 0, "stale": 0,
                             "failed_nodes": []}
    assert data["collection_nodes"] == []
    assert data["events"]["total"] == 10 and data["events"]["latest_type"] == "execution_finished"
    assert data["events"]["by_type"] == {"execution_started": 1, "node_started": 4, "node_succeeded": 4,
                                         "execution_finished": 1}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["events"]["latest_at"])
    assert data["waiting_on"] == [] and data["blocked_nodes"] == []
    assert "workflow_status" not in data


def test_report_resolves_outputs_first():
    contract = PriceContract(order_total=100, country="UA")
    assert contract.execution.states == {}
    assert contract.diagnostics.to_dict()["outputs"] == {"gross_total": 120.0}


def test_stale_nodes_are_counted_after_an_update_without_reading():
    contract = PriceContract(order_total=100, country="UA")
    contract.resolve_all()
    contract.update_inputs(order_total=150)
    # the report resolves all outputs first, so nothing stays stale
    assert contract.diagnostics["outputs"] == {"gross_total": 180.0}
    assert contract.diagnostics["nodes"]["stale"] == 0


class Failing(ig.Contract):
    def define(c):
        c.input("a", type="numeric")

        @c.compute
        def boom(a):
            raise ValueError("bad value")

        @c.compute
        def after(boom):
            return boom

        c.output("after")
        c.output("a")


def test_failures_are_reported_not_raised():
    contract = Failing(a=1)
    report = contract.diagnostics
    data = report.to_dict()
    json.dumps(data)
    assert data["status"] == "failed"
    assert data["outputs"] == {"after": {"status": "failed", "error": "ValueError: bad value"}, "a": 1}
    first = data["errors"][0]
    assert first["node"] == "boom" and first["type"] == "ResolutionError"
    assert first["message"] == "ValueError: bad value" and first["cause_type"] == "ValueError"
    assert first["context"]["node"] == "boom" and first["context"]["graph"] == "Failing"
    assert [e["node"] for e in data["errors"]] == ["boom", "after"]
    assert data["nodes"]["failed"] == 2
    assert data["nodes"]["failed_nodes"][0]["node"] == "boom"
    assert data["nodes"]["failed_nodes"][0]["error"].startswith("ValueError: bad value [graph=Failing")

    lines = report.to_text().splitlines()
    assert lines[2] == "Status: failed"
    assert lines[3] == "Outputs: after={'status': 'failed', 'error': 'ValueError: bad value'}, a=1"
    assert lines[5].startswith("Failed Nodes: boom(ValueError: bad value [graph=Failing")
    assert "Errors: boom=ResolutionError, after=ResolutionError" in lines
    assert lines[-1] == "Events: total=8, latest=execution_failed"

    md = report.to_markdown()
    assert "\n\n## Errors\n- `boom`: ValueError: bad value\n- `after`: ValueError: bad value" in md


def test_report_never_raises_even_when_a_subscriber_breaks():
    contract = Failing(a=1)
    contract.subscribe(lambda event: 1 / 0)
    report = contract.diagnostics
    assert report.status == "failed"
    assert report.to_text() and report.to_markdown() and report.to_dict()


def test_pending_execution_outputs_the_deferred_and_blocked_nodes():
    contract = Pending(amount=1)
    data = contract.diagnostics.to_dict()
    assert data["status"] == "pending"
    assert data["outputs"]["total"] == {"status": "pending", "token": "tok-1", "payload": {"ask": "vendor"},
                                        "source_node": "quote"}
    assert data["nodes"]["pending"] == 2
    assert data["waiting_on"] == []
    assert data["blocked_nodes"] == [
        {"node": "quote", "status": "pending", "waiting_for": ["quote"]},
        {"node": "total", "status": "pending", "waiting_for": ["quote"]},
    ]
    assert "Blocked Nodes: quote(waiting_for=quote), total(waiting_for=quote)" in contract.diagnostics.to_text()


def test_waiting_execution_lists_awaited_events():
    contract = Approval(request_id="r-1")
    report = contract.diagnostics
    assert report.status == "waiting"
    assert report["waiting_on"] == [{"node": "approval", "event": "approval_received"}]
    assert report["blocked_nodes"][-1] == {"node": "decision", "status": "waiting", "waiting_for": ["approval"]}
    assert report["outputs"]["decision"]["status"] == "waiting"
    assert report["outputs"]["decision"]["event"] == "approval_received"
    text = report.to_text()
    assert "Waiting On: approval(event=approval_received)" in text
    assert "Nodes: total=2, succeeded=0, failed=0, pending=0, waiting=2, stale=0" in text
    assert "- Waiting On: approval(event=approval_received)" in report.to_markdown()


def test_workflow_fields_come_from_execution_workflow():
    contract = Approval(request_id="r-1")
    contract.resolve_all()
    contract.execution.workflow = {
        "status": "waiting",
        "satisfied_events": ["kyc_done"],
        "last_external_event": {"event": "kyc_done", "received_at": "2024-01-01T00:00:00Z"},
        "signals": [{"event": "kyc_done", "idempotency_key": "k-1"}],
    }
    report = contract.diagnostics
    data = report.to_dict()
    json.dumps(data)
    assert data["workflow_status"] == "waiting"
    assert data["correlation"] == {"request_id": "r-1"}
    assert data["satisfied_events"] == ["kyc_done"]
    assert data["last_external_event"]["event"] == "kyc_done"
    assert data["signals"] == [{"event": "kyc_done", "idempotency_key": "k-1"}]
    text = report.to_text()
    assert "Workflow: waiting correlation=request_id='r-1'" in text
    assert "Signals: total=1, satisfied=kyc_done, last=kyc_done" in text


class Presented(ig.Contract):
    def define(c):
        c.input("amount", type="numeric")
        c.compute("total", depends_on="amount", call=lambda amount: amount * 1.5)
        c.compute("label", depends_on="amount", call=lambda amount: f"#{amount}")
        c.compute("broken", depends_on="amount", call=lambda amount: amount)
        c.compute("everything", depends_on="amount", call=lambda amount: amount)
        c.output("total")
        c.output("label")
        c.output("broken")
        c.output("everything")

        @c.present("total")
        def money(value):  # declares only `value` (L-14)
            return f"{value:.2f} EUR"

        @c.present("label")
        def tagged(value, output):
            return {"output": output, "value": value}

        @c.present("broken")
        def breaks(value):
            raise RuntimeError("presenter bug")

        @c.present("everything")
        def seen(**kwargs):
            return sorted(kwargs)


def test_presenters_change_only_the_outputs_line():
    contract = Presented(amount=10)
    report = contract.diagnostics
    outputs_line = report.to_text().splitlines()[3]
    assert outputs_line == ("Outputs: total=15.00 EUR, label={'output': 'label', 'value': '#10'}, "
                            "broken=10 [presenter failed: RuntimeError: presenter bug], "
                            "everything=['contract', 'execution', 'output', 'value']")
    assert f"- {outputs_line}" in report.to_markdown()
    assert report.to_dict()["outputs"] == {"total": 15.0, "label": "#10", "broken": 10, "everything": 10}


class FakeCollectionResult:
    """Shaped like igniter_nb's CollectionResult (summary + failed_items), owned by another module."""

    def __init__(self):
        self.items = {1: {"key": 1, "status": "succeeded"}, 2: {"key": 2, "status": "failed"},
                      3: {"key": 3, "status": "succeeded"}}
        self.summary = {"mode": "collect", "total": 3, "succeeded": 2, "failed": 1, "status": "partial_failure"}
        self.failed_items = {2: {"type": "ResolutionError", "message": "Technician inactive",
                                 "context": {"node": "active"}}}

    def as_json(self):
        return {"mode": "collect", "summary": dict(self.summary), "items": dict(self.items)}


def test_collection_values_are_summarised():
    @ig.contract
    def Technicians(c):
        c.input("ids", type=list)
        c.compute("technicians", depends_on="ids", call=lambda ids: FakeCollectionResult())
        c.output("technicians")

    contract = Technicians(ids=[1, 2, 3])
    report = contract.diagnostics
    data = report.to_dict()
    assert data["collection_nodes"] == [{
        "node": "technicians", "path": "technicians", "mode": "collect", "total": 3, "succeeded": 2, "failed": 1, "pending": 0,
        "status": "partial_failure",
        "failed_items": [{"key": 2, "type": "ResolutionError", "message": "Technician inactive",
                          "context": {"node": "active"}}],
    }]
    assert data["outputs"]["technicians"]["summary"]["status"] == "partial_failure"
    text = report.to_text().splitlines()
    assert text[3] == ("Outputs: technicians={mode=collect, total=3, succeeded=2, failed=1, "
                       "status=partial_failure, keys=[1, 2, 3], failed_keys=[2]}")
    assert ("Collections: technicians total=3 succeeded=2 failed=1 status=partial_failure "
            "failed_items=2(Technician inactive)") in text
    md = report.to_markdown()
    assert "- Collections: technicians total=3 succeeded=2 failed=1 status=partial_failure" in md
    assert md.endswith("## Collections\n- `technicians`: total=3, succeeded=2, failed=1, status=partial_failure\n"
                       "- `technicians[2]` failed: Technician inactive")


class Opaque:
    pass


@pytest.mark.parametrize(("value", "text"), [
    (120.0, "120.0"),
    ("HVAC", "'HVAC'"),
    (None, "None"),
    (True, "True"),
    ({"b": 1, "a": [1, 2.5]}, "{'b': 1, 'a': [1, 2.5]}"),
    ((1,), "(1,)"),
    ({"z", "a", "m"}, "{'a', 'm', 'z'}"),
    (frozenset(), "frozenset()"),
    ({"mode": "collect", "summary": {"status": "succeeded"}, "items": {"a": {"key": "a", "status": "succeeded"}}},
     "{mode=collect, total=1, succeeded=1, failed=0, status=succeeded, keys=['a'], failed_keys=[]}"),
    ({1: {"key": 1, "status": "succeeded"}, 2: {"key": 2, "status": "failed"}},
     "{mode=collect, total=2, succeeded=1, failed=1, status=partial_failure, keys=[1, 2], failed_keys=[2]}"),
    ({1: {"key": 1, "status": "waiting"}, 2: {"key": 2, "status": "failed"}},
     "{mode=collect, total=2, succeeded=0, failed=1, status=waiting, keys=[1, 2], failed_keys=[2]}"),
    ({1: {"key": 1, "status": "failed"}},
     "{mode=collect, total=1, succeeded=0, failed=1, status=failed, keys=[1], failed_keys=[1]}"),
])
def test_inline_rendering(value, text):
    assert inline(value) == text


def test_inline_rendering_never_prints_memory_addresses():
    assert "0x" not in inline([Opaque(), lambda: 1])


def test_inline_rendering_of_a_child_result():
    @ig.contract
    def Checkout(c):
        c.input("order_total", type="numeric")
        c.input("country", type=str)
        c.compose("pricing", contract=PriceContract, inputs={"order_total": "order_total", "country": "country"})
        c.output("pricing")

    contract = Checkout(order_total=100, country="UA")
    contract.resolve_all()
    child = contract.execution.states["pricing"].value
    assert inline(child) == "{graph='PriceContract', status=succeeded, outputs=['gross_total']}"
    assert contract.diagnostics["outputs"] == {"pricing": {"gross_total": 120.0}}
    assert "Outputs: pricing={'gross_total': 120.0}" in contract.diagnostics.to_text()


def test_report_accepts_an_execution_and_has_a_text_mimebundle():
    contract = PriceContract(order_total=100, country="UA")
    report = Report(contract.execution)
    assert report.status == "succeeded"
    assert "text/plain" in report._repr_mimebundle_()


class Technician(ig.Contract):
    def define(c):
        c.input("id")
        c.input("active", type=bool)
        c.guard("active_technician", depends_on="active", eq=True, message="Technician inactive")
        c.compute("summary", depends_on=["id", "active_technician"], call=lambda id, active_technician: {"id": id})
        c.output("summary")


class ItemApproval(ig.Contract):
    def define(c):
        c.input("id")
        c.await_event("ok", event="item_ok")
        c.output("ok")


def test_real_collection_with_a_failed_item_E7():
    @ig.contract
    def Technicians(c):
        c.input("techs", type=list)
        c.collection("technicians", source="techs", each=Technician, key="id")
        c.output("technicians")

    contract = Technicians(techs=[{"id": 1, "active": True}, {"id": 2, "active": False}, {"id": 3, "active": True}])
    report = contract.diagnostics
    json.dumps(report.to_dict(), default=str)
    lines = report.to_text().splitlines()
    assert lines[2] == "Status: succeeded"
    assert lines[3] == ("Outputs: technicians={mode=collect, total=3, succeeded=2, failed=1, status=partial_failure, "
                        "keys=[1, 2, 3], failed_keys=[2]}")
    assert lines[5] == ("Collections: technicians total=3 succeeded=2 failed=1 status=partial_failure "
                        "failed_items=2(Technician inactive)")
    assert lines[6] == "Errors: none"
    collection = report["collection_nodes"][0]
    assert collection["failed_items"][0]["key"] == 2
    assert collection["failed_items"][0]["type"] == "ResolutionError"


def test_collection_with_waiting_items_is_listed_with_its_pending_count():
    @ig.contract
    def Approvals(c):
        c.input("ids", type=list)
        c.collection("approvals", source="ids", each=ItemApproval, key="id")
        c.output("approvals")

    report = Approvals(ids=[{"id": "a"}, {"id": "b"}]).diagnostics
    assert report.status == "waiting"
    assert report["collection_nodes"][0]["pending"] == 2
    assert "Collections: approvals total=2 succeeded=0 failed=0 pending=2 status=waiting" in report.to_text()


def test_presenter_named_by_a_contract_method():
    class Named(ig.Contract):
        def define(c):
            c.input("a")
            c.output("a")
            c.present("a", call="fmt")

        def fmt(self, value):
            return f"<{value}>"

    assert Named(a=1).diagnostics.to_text().splitlines()[3] == "Outputs: a=<1>"


def test_non_callable_presenter_is_a_compile_error():
    with pytest.raises(ig.CompileError):
        @ig.contract
        def Bad(c):
            c.input("a")
            c.output("a")
            c.present("a", call=42)


class BadRepr:
    def __repr__(self):
        raise RuntimeError("no repr")


def test_a_value_whose_repr_raises_does_not_break_the_report():
    @ig.contract
    def Odd(c):
        c.input("a")
        c.compute("odd", depends_on="a", call=lambda a: BadRepr())
        c.output("odd")

    assert "Outputs: odd=<BadRepr (repr failed)>" in Odd(a=1).diagnostics.to_text()


def test_satisfied_and_last_event_are_derived_from_the_signal_log():
    contract = Approval(request_id="r-1")
    contract.resolve_all()
    signal = {"order": 1, "event": "approval_received", "node": "approval", "correlation": {"request_id": "r-1"},
              "idempotency_key": None, "received_at": "2024-01-01T00:00:00.000Z"}
    contract.execution.workflow = {"status": "running", "correlation": {"request_id": "r-1"}, "signals": [signal]}
    data = contract.diagnostics.to_dict()
    assert data["satisfied_events"] == ["approval_received"]
    assert data["last_external_event"] == signal
    assert "Signals: total=1, satisfied=approval_received, last=approval_received" in contract.diagnostics.to_text()
