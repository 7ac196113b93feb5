"""What a workflow tells about itself, on every store kind: workflow events, the signal log, waiting events
(each once: L-36), diagnostics fields, the plan, and graph formats naming events and correlation keys."""

from __future__ import annotations

import datetime as dt

from igniter_nb.workflow import waiting_events
from igniter_nb.workflow.signals import payload_digest
from tests.workflow.conftest import T0
from tests.workflow.wf_contracts import FanWorkflow, FragileWorkflow, LeadWorkflow

CORR = {"request_id": "req-1", "company_id": "co-42"}
CRM = {"name": "Acme Corp", "tier": "enterprise"}
BILLING = {"plan": "pro", "mrr": 500}
WORKFLOW_TYPES = {"workflow_started", "workflow_waiting", "workflow_resumed", "external_event_received",
                  "await_satisfied", "workflow_succeeded", "workflow_failed", "workflow_cancelled",
                  "await_timed_out", "workflow_timed_out"}


def _workflow_events(contract):
    return [(e.type, e.node) for e in contract.events if e.type in WORKFLOW_TYPES]


def test_workflow_events_in_order_across_two_deliveries(store):
    wf = LeadWorkflow.start(CORR, store=store)
    assert _workflow_events(wf) == [("workflow_started", None), ("workflow_waiting", None)]
    assert wf.events[0].payload == {"graph": "LeadWorkflow", "correlation": CORR}
    waiting = next(e for e in wf.events if e.type == "workflow_waiting")
    assert waiting.payload == {"waiting_on": [{"node": "crm_data", "event": "crm_webhook_received"},
                                              {"node": "billing_data", "event": "billing_data_fetched"}]}
    LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store,
                               idempotency_key="evt-1")
    done = LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload=BILLING, store=store,
                                      idempotency_key="evt-2")
    assert _workflow_events(done) == [
        ("workflow_started", None), ("workflow_waiting", None),
        ("external_event_received", "crm_data"), ("await_satisfied", "crm_data"), ("workflow_resumed", None),
        ("workflow_waiting", None),
        ("external_event_received", "billing_data"), ("await_satisfied", "billing_data"), ("workflow_resumed", None),
        ("workflow_succeeded", None),
    ]
    received = [e for e in done.events if e.type == "external_event_received"]
    assert received[1].payload == {"event": "billing_data_fetched", "correlation": CORR, "idempotency_key": "evt-2",
                                   "order": 2, "reached": True}
    seqs = [e.seq for e in done.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)  # one event log continued across saves
    assert all(e.execution_id == done.execution_id for e in done.events)
    # the stored snapshot carries the same log
    stored = store.fetch(done.execution_id)["events"]
    assert [e["type"] for e in stored] == [e.type for e in done.events]


def test_failed_and_cancelled_workflow_events(store):
    FragileWorkflow.start(job_id="j-1", store=store)
    failed = FragileWorkflow.deliver_event("job_finished", correlation={"job_id": "j-1"}, payload={"explode": "x"},
                                           store=store)
    last = failed.events[-1]
    assert last.type == "workflow_failed"
    assert last.payload["correlation"] == {"job_id": "j-1"}
    assert "bad result for job: x" in last.payload["error"]
    LeadWorkflow.start(CORR, store=store)
    cancelled = LeadWorkflow.cancel(correlation=CORR, store=store, reason="dup lead")
    assert _workflow_events(cancelled)[-1] == ("workflow_cancelled", None)


def test_signal_log_records_each_delivery(store):
    LeadWorkflow.start(CORR, store=store, now=T0)
    LeadWorkflow.deliver_event("billing_data_fetched", correlation=CORR, payload=BILLING, store=store,
                               idempotency_key="bill-7", now=T0 + dt.timedelta(seconds=5))
    done = LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store,
                                      now=T0 + dt.timedelta(seconds=9))
    billing = LeadWorkflow.compiled_graph().node("billing_data").schema.model_validate(BILLING)
    expected = [
        {"order": 1, "event": "billing_data_fetched", "node": "billing_data", "correlation": CORR,
         "idempotency_key": "bill-7", "payload_digest": payload_digest(billing),
         "received_at": "2030-01-01T12:00:05Z"},
        {"order": 2, "event": "crm_webhook_received", "node": "crm_data", "correlation": CORR,
         "idempotency_key": None, "payload_digest": payload_digest(CRM), "received_at": "2030-01-01T12:00:09Z"},
    ]
    assert all(s["payload_digest"].startswith("sha256:") for s in expected)
    assert done.signals == expected
    assert store.fetch(done.execution_id)["workflow"]["signals"] == expected
    restored = LeadWorkflow.restore_from_store(done.execution_id, store=store)
    assert restored.signals == expected


def test_waiting_events_lists_each_event_once_L36(store):
    wf = FanWorkflow.start(ticket="t-1", store=store)
    assert wf.states["left"]["status"] == wf.states["right"]["status"] == "waiting"
    assert waiting_events(wf.execution) == [{"node": "approval", "event": "approved"}]
    report = wf.diagnostics.to_dict()
    assert report["waiting_on"] == [{"node": "approval", "event": "approved"}]
    assert {b["node"] for b in report["blocked_nodes"]} == {"approval", "left", "right"}
    done = FanWorkflow.deliver_event("approved", correlation={"ticket": "t-1"}, payload={"by": "ann"}, store=store)
    assert (done.result.left, done.result.right) == ("ann-L", "ann-R")
    assert waiting_events(done.execution) == []


def test_diagnostics_workflow_fields(store):
    LeadWorkflow.start(CORR, store=store, now=T0)
    wf = LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload=CRM, store=store,
                                    idempotency_key="evt-1", now=T0 + dt.timedelta(seconds=3))
    report = wf.diagnostics
    data = report.to_dict()
    assert data["workflow_status"] == "waiting"
    assert data["correlation"] == CORR
    assert data["waiting_on"] == [{"node": "billing_data", "event": "billing_data_fetched"}]
    assert data["blocked_nodes"] == [
        {"node": "billing_data", "status": "waiting", "waiting_for": ["billing_data"]},
        {"node": "report", "status": "waiting", "waiting_for": ["billing_data"]},
    ]
    assert data["signals"] == wf.signals
    assert data["satisfied_events"] == ["crm_webhook_received"]
    assert data["last_external_event"]["event"] == "crm_webhook_received"
    assert data["last_external_event"]["received_at"] == "2030-01-01T12:00:03Z"
    text = report.to_text()
    assert "Workflow: waiting correlation=request_id='req-1', company_id='co-42'" in text
    assert "Waiting On: billing_data(event=billing_data_fetched)" in text
    assert "Signals: total=1, satisfied=crm_webhook_received, last=crm_webhook_received" in text
    assert "Waiting On: billing_data(event=billing_data_fetched)" in report.to_markdown()


def test_plan_shows_waiting_with_the_event(store):
    wf = LeadWorkflow.start(CORR, store=store)
    plan = wf.explain_plan()
    assert "- await crm_data status=waiting blocked=true event=crm_webhook_received" in plan
    assert "- await billing_data status=waiting blocked=true event=billing_data_fetched" in plan


def test_graph_formats_show_events_and_correlation_keys():
    graph = LeadWorkflow.compiled_graph()
    text = graph.to_text()
    assert "Correlation: request_id, company_id" in text
    assert "- await crm_data event=crm_webhook_received" in text
    assert "crm_webhook_received" in graph.to_mermaid()
    dot = graph.to_dot().source
    assert "crm_webhook_received" in dot and "billing_data_fetched" in dot
    assert "request_id" in dot
    schema = graph.to_schema()
    assert schema["correlation_keys"] == ["request_id", "company_id"]
    awaits = [n for n in schema["nodes"] if n["kind"] == "await"]
    assert [(n["name"], n["event"]) for n in awaits] == [("crm_data", "crm_webhook_received"),
                                                        ("billing_data", "billing_data_fetched")]
