"""A job that outlasts its ``job_timeout``: RQ's timeout (SIGALRM, raised wherever the job is) used to reach the engine
inside a compute, which recorded it as the node's failure, saved the workflow as failed and let the job finish as a
success. It now ends the job unsaved, as a transient failure that RQ's ``Retry`` runs again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rq import Retry
from rq.job import Job, JobStatus

from igniter_nb.integrations import rq as ig_rq
from tests.integrations.conftest import run_jobs
from tests.integrations.int_contracts import SlowOnceWorkflow

pytestmark = pytest.mark.services


@pytest.fixture
def slow_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The marker that makes the next ``noted`` compute of SlowOnceWorkflow outlast a 1 s job timeout."""
    marker = tmp_path / "slow-once"
    marker.touch()
    monkeypatch.setenv("IGNITER_TEST_SLOW_ONCE", str(marker))
    return marker


def _fetch(job: Job, queue: Any) -> Job:
    return Job.fetch(job.id, connection=queue.connection, serializer=queue.serializer)


def test_a_timed_out_delivery_saves_nothing_and_fails_as_transient(queue: Any, sqlite_default: Any,
                                                                   slow_once: Path) -> None:
    wf = SlowOnceWorkflow.start(ticket="t-1", store=sqlite_default)
    job = ig_rq.enqueue_deliver_event(SlowOnceWorkflow, "answered", correlation={"ticket": "t-1"}, payload="yes",
                                      queue=queue, job_timeout=1, retry=None)
    run_jobs(queue)

    timed_out = _fetch(job, queue)
    assert timed_out.get_status() == JobStatus.FAILED, timed_out.return_value()  # it "finished", workflow failed
    error = ig_rq.job_error(timed_out)
    assert error is not None and error["type"] == "JobTimeoutException" and error["transient"] is True
    assert "1 seconds" in error["message"]
    record = sqlite_default.record(wf.execution_id)
    assert record.status == "waiting" and record.snapshot["workflow"]["signals"] == []

    queue.failed_job_registry.requeue(job.id)  # the operator's retry, once the slowness is gone
    run_jobs(queue)
    done = _fetch(job, queue)
    assert done.get_status() == JobStatus.FINISHED, ig_rq.job_error(done)
    assert done.return_value()["workflow_status"] == "succeeded" and done.return_value()["signal"] == 1
    assert ig_rq.job_error(done) is None
    assert SlowOnceWorkflow.restore_from_store(wf.execution_id, store=sqlite_default).result.noted == "yes"


def test_a_timed_out_delivery_is_retried_by_rq_and_applied_once(queue: Any, sqlite_default: Any,
                                                                slow_once: Path) -> None:
    wf = SlowOnceWorkflow.start(ticket="t-2", store=sqlite_default)
    job = ig_rq.enqueue_deliver_event(SlowOnceWorkflow, "answered", correlation={"ticket": "t-2"}, payload="yes",
                                      queue=queue, job_timeout=1, retry=Retry(max=1))
    run_jobs(queue)

    done = _fetch(job, queue)
    assert not slow_once.exists()  # the first run did time out
    assert done.get_status() == JobStatus.FINISHED, ig_rq.job_error(done)
    assert done.return_value()["workflow_status"] == "succeeded", done.return_value()
    assert done.return_value()["replayed"] is False and done.return_value()["signal"] == 1
    signals = sqlite_default.record(wf.execution_id).snapshot["workflow"]["signals"]
    assert [s["idempotency_key"] for s in signals] == [f"rq:{job.id}"]


def test_a_timed_out_start_leaves_no_workflow_and_its_retry_starts_one(queue: Any, sqlite_default: Any,
                                                                      tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A start resolves what it can at once: a slow compute there times out the same way."""
    from tests.integrations.int_contracts import SlowStart

    marker = tmp_path / "slow-start"
    marker.touch()
    monkeypatch.setenv("IGNITER_TEST_SLOW_ONCE", str(marker))
    job = ig_rq.enqueue_start(SlowStart, {"ticket": "t-3"}, queue=queue, job_timeout=1, retry=Retry(max=1))
    run_jobs(queue)

    done = _fetch(job, queue)
    assert not marker.exists()
    assert done.get_status() == JobStatus.FINISHED, ig_rq.job_error(done)
    result = done.return_value()
    assert result["workflow_status"] == "succeeded" and result["replayed"] is False, result
    assert [r.status for r in sqlite_default.list(graph="SlowStart")] == ["succeeded"]
