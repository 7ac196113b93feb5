"""RQ jobs when things go wrong in production: a worker SIGKILLed in the middle of a delivery (RQ 3.0 retries the
abandoned job), the same job enqueued twice, a job whose contract's module is gone."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest
from rq.job import Job, JobStatus

import igniter_nb as ig
from igniter_nb.integrations import rq as ig_rq
from igniter_nb.stores import from_url
from tests.integrations.conftest import run_jobs, store_url
from tests.integrations.int_contracts import GatedWorkflow, OrderWorkflow
from tests.integrations.processes import environment, rq_workers

pytestmark = pytest.mark.services


def _signals(store: Any, execution_id: str) -> list[dict[str, Any]]:
    return list(store.record(execution_id).snapshot["workflow"]["signals"])


def _fetch(job: Job, queue: Any) -> Job:
    return Job.fetch(job.id, connection=queue.connection, serializer=queue.serializer)


@pytest.mark.parametrize("retries", ["default", "none"])
def test_a_worker_killed_mid_delivery_leaves_nothing_written_and_a_retry_applies_the_signal_once(
        retries: str, queue: Any, rq_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = store_url("sqlite", tmp_path, request)
    store = from_url(url)
    gate = tmp_path / "gate"
    gate.touch()
    try:
        wf = GatedWorkflow.start(ticket="t-1", store=store)
        job = ig_rq.enqueue_deliver_event(GatedWorkflow, "answered", correlation={"ticket": "t-1"}, payload="yes",
                                          queue=queue, **({"retry": None} if retries == "none" else {}))
        env = environment(IGNITER_STORE_URL=url, IGNITER_TEST_GATE=str(gate))
        with rq_workers(1, queue.name, rq_url, env, tmp_path / "worker.log") as (proc,):
            entered = Path(f"{gate}.entered")
            for _ in range(600):  # at most 30 s for the worker to start and reach the gate
                if entered.exists() or proc.poll() is not None:
                    break
                time.sleep(0.05)
            assert entered.exists(), (tmp_path / "worker.log").read_text()[-2000:]
            proc.send_signal(signal.SIGKILL)  # mid-job: no handler, no traceback, nothing saved
            proc.wait(10)
        assert _fetch(job, queue).get_status() == JobStatus.STARTED  # what RQ knows until the job is abandoned
        assert _signals(store, wf.execution_id) == []
        assert store.record(wf.execution_id).status == "waiting"

        # What a worker's maintenance does once the dead worker's heartbeat expired (RQ 3.0,
        # StartedJobRegistry.cleanup): a job with retries left is requeued, otherwise failed as abandoned.
        queue.started_job_registry.cleanup(timestamp=time.time() + 24 * 3600)
        abandoned = _fetch(job, queue)
        if retries == "default":
            assert abandoned.get_status() == JobStatus.QUEUED and abandoned.retries_left == ig_rq.DEFAULT_RETRIES - 1
        else:
            assert abandoned.get_status() == JobStatus.FAILED and job.id in queue.failed_job_registry.get_job_ids()
            assert "AbandonedJobError" in abandoned.latest_result().exc_string
            assert ig_rq.job_error(abandoned) is None  # its body never got to record an error: RQ's result says why
            queue.failed_job_registry.requeue(job.id)  # the operator's retry (rq requeue, the dashboard)
        gate.unlink()
        ig.configure(store=store)
        try:
            run_jobs(queue)
        finally:
            ig.configure(None)
        done = _fetch(job, queue)
        assert done.get_status() == JobStatus.FINISHED, ig_rq.job_error(done)
        assert done.return_value()["replayed"] is False and done.return_value()["signal"] == 1
        assert [s["idempotency_key"] for s in _signals(store, wf.execution_id)] == [f"rq:{job.id}"]
        assert store.record(wf.execution_id).status == "succeeded"
    finally:
        store.close()


def test_the_same_job_id_enqueued_twice_applies_the_signal_once(queue: Any, default_store: Any) -> None:
    wf = OrderWorkflow.start(order_id="c-2", store=default_store)
    jobs = [ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"order_id": "c-2"},
                                        payload={"carrier": "UPS"}, queue=queue, job_id="ship-c2")
            for _ in range(2)]
    run_jobs(queue)
    done = _fetch(jobs[0], queue)
    assert done.get_status() == JobStatus.FINISHED, ig_rq.job_error(done)
    assert [s["idempotency_key"] for s in _signals(default_store, wf.execution_id)] == ["rq:ship-c2"]
    assert queue.failed_job_registry.count == 0


def test_the_same_event_enqueued_twice_without_a_key_or_job_id_is_applied_once_and_the_second_job_fails(
        queue: Any, default_store: Any) -> None:
    """Two enqueues with neither an idempotency key nor a job id are two jobs with keys of their own ("rq:<id>"):
    nothing says they are one event, so the second is a duplicate signal (failed, not retried)."""
    wf = OrderWorkflow.start(order_id="c-4", store=default_store)
    first, second = (ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"order_id": "c-4"},
                                                 payload={"carrier": "UPS"}, queue=queue) for _ in range(2))
    run_jobs(queue)
    assert _fetch(first, queue).get_status() == JobStatus.FINISHED
    error = ig_rq.job_error(second)
    assert error is not None and error["type"] == "DuplicateSignalError" and error["transient"] is False
    assert [s["idempotency_key"] for s in _signals(default_store, wf.execution_id)] == [f"rq:{first.id}"]


def test_a_job_whose_contract_module_is_gone_fails_naming_the_path_and_writes_nothing(
        queue: Any, default_store: Any) -> None:
    # enqueued by an older deploy; the module was renamed since
    job = queue.enqueue(ig_rq.run_start, kwargs={"contract": "tests.integrations.renamed_away:OrderWorkflow",
                                                 "inputs": {"order_id": "c-3"}})
    run_jobs(queue)
    error = ig_rq.job_error(job)
    assert error is not None and error["type"] == "ValueError" and error["transient"] is False
    assert "tests.integrations.renamed_away:OrderWorkflow" in error["message"] and "cannot be imported" in error["message"]
    assert default_store.find_by_correlation("OrderWorkflow", {"order_id": "c-3"}) is None


def test_a_start_job_run_again_finishes_with_the_workflow_it_started(queue: Any, default_store: Any) -> None:
    """A start job RQ runs a second time — requeued after its worker died past the save, or its job id enqueued
    twice — answers with the workflow its first run started, instead of failing with DuplicateWorkflowError."""
    job = ig_rq.enqueue_start(OrderWorkflow, {"order_id": "c-5"}, queue=queue, job_id="start-c5")
    ig_rq.enqueue_start(OrderWorkflow, {"order_id": "c-5"}, queue=queue, job_id="start-c5")
    run_jobs(queue)
    done = _fetch(job, queue)
    assert done.get_status() == JobStatus.FINISHED, ig_rq.job_error(done)
    result = done.return_value()
    assert result["replayed"] is True and result["workflow_status"] == "waiting"
    first = done.results()[-1].return_value  # (results() is newest first)
    assert first["replayed"] is False and first["execution_id"] == result["execution_id"]
    queue.enqueue_job(_fetch(job, queue))  # a requeue of the finished job
    run_jobs(queue)
    assert _fetch(job, queue).return_value() == result
    assert [r.execution_id for r in default_store.list(graph="OrderWorkflow")] == [result["execution_id"]]
    assert queue.failed_job_registry.count == 0


def test_a_resume_job_run_again_finishes_with_the_execution_it_resumed(queue: Any, default_store: Any) -> None:
    from tests.integrations.int_contracts import AsyncQuote

    pending = AsyncQuote(order_total=10, store=default_store)
    assert str(pending.status) == "pending"  # resolved (lazily) and saved by the store runner
    job = ig_rq.enqueue_resume(AsyncQuote, pending.execution_id, token="quote-10", value=21, queue=queue)
    run_jobs(queue)
    assert _fetch(job, queue).get_status() == JobStatus.FINISHED, ig_rq.job_error(job)
    first = _fetch(job, queue).return_value()
    queue.enqueue_job(_fetch(job, queue))  # run again: a requeue, or a retry after its worker died past the save
    run_jobs(queue)
    again = _fetch(job, queue)
    assert again.get_status() == JobStatus.FINISHED, ig_rq.job_error(again)
    assert again.return_value()["status"] == first["status"] == "succeeded"
    assert (first["replayed"], again.return_value()["replayed"]) == (False, True)
    other = ig_rq.enqueue_resume(AsyncQuote, pending.execution_id, token="quote-10", value=99, queue=queue)
    run_jobs(queue)  # the same token with another value: a conflict, not a replay
    error = ig_rq.job_error(other)
    assert error is not None and error["type"] == "ResolutionError" and "quote-10" in error["message"]
    assert AsyncQuote.restore_from_store(pending.execution_id, store=default_store).result.gross_total == 42


def test_text_no_store_could_write_is_refused_at_enqueue_naming_the_place(queue: Any) -> None:
    """A lone surrogate (what ``os.fsdecode`` makes of a non-UTF-8 file name) cannot be written as UTF-8 by any
    store: refused when enqueued, naming where it is, instead of failing in the worker."""
    from igniter_nb.errors import SnapshotEncodingError

    name = b"report-\xff.pdf".decode("utf-8", "surrogateescape")
    with pytest.raises(SnapshotEncodingError, match=r"payload\.file.*\\udcff"):
        ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"order_id": "c-6"},
                                    payload={"carrier": "DHL", "file": name}, queue=queue)
    with pytest.raises(SnapshotEncodingError, match=r"inputs\.placed_on"):
        ig_rq.enqueue_start(OrderWorkflow, {"order_id": "c-6", "placed_on": name}, queue=queue)
    assert queue.count == 0


def test_a_start_job_id_reused_for_another_contract_or_correlation_fails_instead_of_answering_replayed(
        queue: Any, default_store: Any) -> None:
    """The execution a start job creates is named after its job id alone: a job id already used by a start of another
    contract, or of another workflow of the same contract, was answered ``"replayed": true`` with that other
    workflow (under this job's graph name), and this start never happened. It fails now, naming both."""
    from tests.integrations.int_contracts import GatedWorkflow

    first = ig_rq.enqueue_start(OrderWorkflow, {"order_id": "c-7"}, queue=queue, job_id="start-7")
    run_jobs(queue)
    started = _fetch(first, queue).return_value()
    assert started["replayed"] is False

    other_contract = ig_rq.enqueue_start(GatedWorkflow, {"ticket": "c-7"}, queue=queue, job_id="start-7")
    run_jobs(queue)
    error = ig_rq.job_error(other_contract)
    assert error is not None, _fetch(other_contract, queue).return_value()
    assert error["type"] == "DuplicateWorkflowError" and error["transient"] is False
    assert "start-7" in error["message"] and "OrderWorkflow" in error["message"]
    assert error["context"]["existing_execution_id"] == started["execution_id"]

    other_workflow = ig_rq.enqueue_start(OrderWorkflow, {"order_id": "c-8"}, queue=queue, job_id="start-7")
    run_jobs(queue)
    error = ig_rq.job_error(other_workflow)
    assert error is not None, _fetch(other_workflow, queue).return_value()
    assert error["type"] == "DuplicateWorkflowError" and "c-7" in error["message"] and "c-8" in error["message"]

    assert [r.execution_id for r in default_store.list(graph="OrderWorkflow")] == [started["execution_id"]]
    assert default_store.list(graph="GatedWorkflow") == []
