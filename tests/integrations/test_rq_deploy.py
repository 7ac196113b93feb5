"""RQ jobs enqueued before a deploy renamed an await (item 5 of the hostile-user trial): the worker, running the
new code, fails the job with ``GraphChangedError`` (not transient: retrying before ``migrate`` would fail alike),
and once the stored workflows are migrated, requeueing the failed job applies its signal, once."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from rq import Queue
from rq.job import Job, JobStatus

import igniter_nb as ig
from igniter_nb.integrations import rq as ig_rq
from tests.integrations.conftest import run_jobs

pytestmark = pytest.mark.services

CORR = {"lead": "L-1"}


class Renamed(ig.Contract):  # the version the job was enqueued under
    def define(c):
        c.correlate_by("lead")
        c.input("lead", type=str)
        c.await_event("crm", event="crm_received")
        c.await_event("billing", event="billing_received")
        c.compute("report", depends_on=["crm", "billing"], call=lambda crm, billing: {**crm, **billing})
        c.output("report")


def _next_deploy() -> Any:
    class Renamed(ig.Contract):  # `crm` is `crm_data` now
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.await_event("crm_data", event="crm_received")
            c.await_event("billing", event="billing_received")
            c.compute("report", depends_on=["crm_data", "billing"],
                      call=lambda crm_data, billing: {**crm_data, **billing})
            c.output("report")

    return Renamed


def test_a_deliver_job_enqueued_before_a_rename_runs_after_migrate_when_requeued(
        queue: Queue, default_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    wf = Renamed.start(CORR, store=default_store)
    job = ig_rq.enqueue_deliver_event(Renamed, "crm_received", correlation=CORR, payload={"name": "Acme"},
                                      queue=queue)
    deployed = _next_deploy()
    monkeypatch.setattr(sys.modules[__name__], "Renamed", deployed)  # the worker imports the new code
    run_jobs(queue)
    fetched = Job.fetch(job.id, connection=queue.connection, serializer=queue.serializer)
    assert fetched.get_status() == JobStatus.FAILED
    error = ig_rq.job_error(fetched)
    assert error is not None and error["type"] == "GraphChangedError" and error["transient"] is False
    assert error["context"]["node"] == "crm" and error["context"]["current_node"] == "crm_data"
    assert "migrate(store, rename={'crm': 'crm_data'})" in error["message"]
    assert default_store.record(wf.execution_id).version == 1  # nothing written

    deployed.migrate(default_store, rename={"crm": "crm_data"})
    for job_id in queue.failed_job_registry.get_job_ids():  # what docs/integrations.md tells operators to run
        failed = Job.fetch(job_id, connection=queue.connection, serializer=queue.serializer)
        if (ig_rq.job_error(failed) or {}).get("type") == "GraphChangedError":
            queue.failed_job_registry.requeue(job_id)
    run_jobs(queue)
    fetched = Job.fetch(job.id, connection=queue.connection, serializer=queue.serializer)
    assert fetched.get_status() == JobStatus.FINISHED, ig_rq.job_error(fetched)
    assert fetched.return_value()["replayed"] is False and ig_rq.job_error(fetched) is None
    signals = default_store.record(wf.execution_id).snapshot["workflow"]["signals"]
    assert [(s["node"], s["idempotency_key"]) for s in signals] == [("crm_data", f"rq:{job.id}")]
    done = deployed.deliver_event("billing_received", correlation=CORR, payload={"mrr": 5}, store=default_store)
    assert done.workflow_status == "succeeded" and done.result.report == {"name": "Acme", "mrr": 5}
