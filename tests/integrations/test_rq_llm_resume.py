"""An RQ resume job for an LLM node whose tool-call wait is held by another worker's resume lease (a worker
killed mid-call, whose lease has not expired yet; the same resume enqueued twice). The job failed with
``ResumeInProgressError`` as if the request were bad — not transient, so RQ's retries were thrown away
(``retries_left = 0``) and the node stayed pending for ever, though the error itself says "resume it again". It is
now transient: RQ retries the job, and a retry after the lease is released (or expired) resumes the node, once."""

from __future__ import annotations

import os
from typing import Any

import pytest
from rq import Queue, Retry
from rq.job import Job, JobStatus

import igniter_nb as ig
from igniter_nb.integrations import rq as ig_rq
from igniter_nb.llm.lease import ResumeLease
from igniter_nb.llm.testing import StubReply, StubServer
from igniter_nb.stores import SQLStore
from tests.integrations.conftest import run_jobs
from tests.llm.llm_contracts import DurableAnthropic

pytestmark = pytest.mark.services

RESULTS = [{"id": "toolu_01", "name": "search", "content": "DUNE RESULTS"}]


@pytest.fixture
def anthropic_stub(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "OPENAI_", "OLLAMA_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic-config"))
    stub = StubServer("anthropic", [StubReply("", tool_calls=(("toolu_01", "search", {"query": "dune"}),)),
                                    StubReply("Dune and Dune Messiah.")]).start()
    for key, value in stub.environment().items():
        monkeypatch.setenv(key, value)
    try:
        yield stub
    finally:
        stub.stop()
        from igniter_nb.llm.providers import close_clients

        close_clients()


def test_a_resume_job_meeting_a_held_lease_is_retried_and_resumes_once_it_is_free(queue: Queue, anthropic_stub: Any,
                                                                                   tmp_path: Any) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 'runs.db'}")
    ig.configure(store=store)
    try:
        contract = DurableAnthropic(question="Which Dune books exist?", store=store)
        assert contract.status == "pending"
        token = contract.result.answer.token
        held = ResumeLease.claim(store, token, 600)  # another worker's resume, in progress (or dead, not expired)
        job = ig_rq.enqueue_resume(DurableAnthropic, contract.execution_id, token=token, value=RESULTS, queue=queue,
                                   retry=Retry(max=2))
        run_jobs(queue, max_jobs=1)
        error = ig_rq.job_error(job)
        assert error is not None and error["type"] == "ResumeInProgressError"
        assert error["transient"] is True, error  # "resume it again": RQ may
        fetched = Job.fetch(job.id, connection=queue.connection, serializer=queue.serializer)
        assert fetched.get_status() != JobStatus.FAILED and fetched.retries_left == 1
        assert store.record(contract.execution_id).status == "pending" and len(anthropic_stub.requests) == 1
        held.finish()  # the other worker is done (here: without saving a resume)
        run_jobs(queue)
        fetched = Job.fetch(job.id, connection=queue.connection, serializer=queue.serializer)
        assert fetched.get_status() == JobStatus.FINISHED, ig_rq.job_error(fetched)
        assert store.record(contract.execution_id).status == "succeeded"
        assert len(anthropic_stub.requests) == 2  # one follow-up
    finally:
        ig.configure(None)
        store.close()


def test_the_same_llm_resume_enqueued_twice_resumes_once_and_the_second_job_is_answered_as_replayed(
        queue: Queue, anthropic_stub: Any, tmp_path: Any) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 'runs.db'}")
    ig.configure(store=store)
    try:
        contract = DurableAnthropic(question="Which Dune books exist?", store=store)
        token = contract.result.answer.token
        jobs = [ig_rq.enqueue_resume(DurableAnthropic, contract.execution_id, token=token, value=RESULTS, queue=queue)
                for _ in range(2)]
        run_jobs(queue)
        results = [Job.fetch(j.id, connection=queue.connection, serializer=queue.serializer) for j in jobs]
        assert [r.get_status() for r in results] == [JobStatus.FINISHED, JobStatus.FINISHED], \
            [ig_rq.job_error(r) for r in results]
        assert [r.return_value()["replayed"] for r in results] == [False, True]
        assert store.record(contract.execution_id).status == "succeeded"
        assert len(anthropic_stub.requests) == 2  # one follow-up
    finally:
        ig.configure(None)
        store.close()


def test_a_second_llm_resume_with_other_results_still_fails(queue: Queue, anthropic_stub: Any, tmp_path: Any) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 'runs.db'}")
    ig.configure(store=store)
    try:
        contract = DurableAnthropic(question="Which Dune books exist?", store=store)
        token = contract.result.answer.token
        other = [{"id": "toolu_01", "name": "search", "content": "OTHER RESULTS"}]
        jobs = [ig_rq.enqueue_resume(DurableAnthropic, contract.execution_id, token=token, value=value, queue=queue)
                for value in (RESULTS, other)]
        run_jobs(queue)
        results = [Job.fetch(j.id, connection=queue.connection, serializer=queue.serializer) for j in jobs]
        assert [r.get_status() for r in results] == [JobStatus.FINISHED, JobStatus.FAILED]
        assert ig_rq.job_error(results[1])["type"] == "ResolutionError"
    finally:
        ig.configure(None)
        store.close()
