"""``Contract.retry_workflow`` (issue 11 point 4, PRODUCT §8): a failed workflow's failed nodes run again, its
status is refreshed and it is saved with compare-and-set; active again, it takes its correlation back — unless
another active workflow holds it (``DuplicateWorkflowError``, nothing written)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import igniter_nb as ig

CORR = {"job": "J-1"}
_failures: dict[str, int] = {}
_during_retry: list[Any] = []


class Flaky(ig.Contract):
    """``fetch`` fails while ``_failures["fetch"]`` > 0 (a transient outage); ``_during_retry`` hooks run inside it."""

    def define(c):
        c.correlate_by("job")
        c.input("job", type=str)

        @c.compute
        def fetch(job):
            if _failures.get("fetch", 0) > 0:
                _failures["fetch"] -= 1
                raise ConnectionError("upstream unavailable")
            while _during_retry:
                _during_retry.pop()()
            return f"data-{job}"

        c.await_event("approval", event="approved")

        @c.compute
        def result(fetch, approval):
            if _failures.get("result", 0) > 0:
                _failures["result"] -= 1
                raise TimeoutError("slow")
            return {"data": fetch, "by": approval["by"]}

        c.output("result")


@pytest.fixture(autouse=True)
def _reset() -> Any:
    _failures.clear()
    _during_retry.clear()
    yield
    _failures.clear()
    _during_retry.clear()


def test_retry_after_a_transient_failure_at_start_saves_the_workflow_active_again(store):
    _failures["fetch"] = 1
    wf = Flaky.start(CORR, store=store)
    assert wf.workflow_status == "failed" and store.find_by_correlation("Flaky", CORR) is None
    retried = Flaky.retry_workflow(correlation=CORR, store=store)
    assert retried.execution_id == wf.execution_id and retried.workflow_status == "waiting"
    record = store.record(wf.execution_id)
    assert record.version == 2 and record.status == "waiting"
    assert "error" not in record.snapshot["workflow"]
    assert store.find_by_correlation("Flaky", CORR) == wf.execution_id  # back in the correlation index
    assert [e["type"] for e in record.snapshot["events"]].count("workflow_retried") == 1
    done = Flaky.deliver_event("approved", correlation=CORR, payload={"by": "ann"}, store=store)
    assert done.workflow_status == "succeeded" and done.result.result == {"data": "data-J-1", "by": "ann"}


def test_retry_after_a_failure_following_a_delivery_finishes_the_workflow(store):
    _failures["result"] = 1
    Flaky.start(CORR, store=store)
    failed = Flaky.deliver_event("approved", correlation=CORR, payload={"by": "ann"}, store=store)
    assert failed.workflow_status == "failed"
    done = Flaky.retry_workflow(correlation=CORR, store=store, node="result")
    assert done.workflow_status == "succeeded" and store.record(done.execution_id).status == "succeeded"
    assert done.result.result == {"data": "data-J-1", "by": "ann"}


def test_retry_of_a_workflow_that_is_not_failed_is_refused(store):
    waiting = Flaky.start(CORR, store=store)
    with pytest.raises(ig.DuplicateWorkflowError, match=f"execution {waiting.execution_id} is active \\(waiting\\)"):
        Flaky.retry_workflow(correlation=CORR, store=store)
    Flaky.deliver_event("approved", correlation=CORR, payload={"by": "ann"}, store=store)
    with pytest.raises(ig.WorkflowNotFoundError, match=r"to retry: the latest one, .*, is succeeded, not failed"):
        Flaky.retry_workflow(correlation=CORR, store=store)
    with pytest.raises(ig.WorkflowNotFoundError, match="no active Flaky workflow has correlation"):
        Flaky.retry_workflow(correlation={"job": "unknown"}, store=store)
    with pytest.raises(ig.WorkflowArgumentError, match="node='nope' is not a node of Flaky"):
        Flaky.retry_workflow(correlation=CORR, store=store, node="nope")


def test_retry_is_refused_while_another_workflow_holds_the_correlation(store):
    _failures["fetch"] = 1
    failed = Flaky.start(CORR, store=store)
    newer = Flaky.start(CORR, store=store)  # a failed workflow does not block a new start (L-07)
    with pytest.raises(ig.DuplicateWorkflowError, match=f"execution {newer.execution_id} is active") as info:
        Flaky.retry_workflow(correlation=CORR, store=store)
    assert info.value.context["existing_execution_id"] == newer.execution_id
    assert store.record(failed.execution_id).version == 1


def test_a_workflow_started_while_the_retry_runs_makes_the_retry_write_nothing(store):
    _failures["fetch"] = 1
    failed = Flaky.start(CORR, store=store)
    started: list[Any] = []
    _during_retry.append(lambda: started.append(Flaky.start(CORR, store=store)))
    with pytest.raises(ig.DuplicateWorkflowError):
        Flaky.retry_workflow(correlation=CORR, store=store)
    assert store.record(failed.execution_id).version == 1 and store.record(failed.execution_id).status == "failed"
    assert store.find_by_correlation("Flaky", CORR) == started[0].execution_id


def test_retry_loses_no_concurrent_save(store):
    _failures["fetch"] = 1
    wf = Flaky.start(CORR, store=store)

    def concurrent_writer() -> None:  # another process touches the record while the retry computes
        record = store.record(wf.execution_id)
        store.save(record.snapshot, expected_version=record.version)

    _during_retry.append(concurrent_writer)
    retried = Flaky.retry_workflow(correlation=CORR, store=store)
    assert retried.workflow_status == "waiting"
    assert [r.status for r in store.history_records(wf.execution_id)] == ["failed", "failed", "waiting"]


def test_retry_reopens_an_await_whose_value_could_not_be_stored(store):
    Flaky.start(CORR, store=store)
    failed = Flaky.deliver_event("approved", correlation=CORR, payload={"by": threading.Lock()}, store=store,
                                 idempotency_key="a-1")
    assert failed.workflow_status == "failed"
    reopened = Flaky.retry_workflow(correlation=CORR, store=store)
    assert reopened.workflow_status == "waiting"
    (signal,) = reopened.signals
    assert signal["retracted"]["by"] == "retry_workflow"
    done = Flaky.deliver_event("approved", correlation=CORR, payload={"by": "ann"}, store=store, idempotency_key="a-2")
    assert done.workflow_status == "succeeded" and [s["order"] for s in done.signals] == [1, 2]



class TwoBranches(ig.Contract):
    """``side`` succeeds from the input; ``charge`` fails while ``_failures["charge"]`` > 0."""

    def define(c):
        c.correlate_by("job")
        c.input("job", type=str)
        c.compute("side", depends_on=["job"], call=lambda job: job.upper())
        c.await_event("approval", event="approved")

        @c.compute
        def charge(approval):
            if _failures.get("charge", 0) > 0:
                _failures["charge"] -= 1
                raise ConnectionError("bank unavailable")
            return approval["by"]

        c.output("side")
        c.output("charge")


def test_retry_of_a_node_that_did_not_fail_is_refused_and_writes_nothing(memory_store):
    # it saved a new version with a `workflow_retried` event re-running nothing, once per call
    _failures["charge"] = 1
    TwoBranches.start(CORR, store=memory_store)
    failed = TwoBranches.deliver_event("approved", correlation=CORR, payload={"by": "ann"}, store=memory_store)
    assert failed.workflow_status == "failed"
    versions = len(memory_store.history(failed.execution_id))
    with pytest.raises(ig.WorkflowArgumentError, match=r"node='side' of TwoBranches .* did not fail, nor anything "
                                                       r"after it \(failed: charge\)") as info:
        TwoBranches.retry_workflow(correlation=CORR, store=memory_store, node="side")
    assert info.value.context["failed"] == ["charge"]
    assert len(memory_store.history(failed.execution_id)) == versions
    done = TwoBranches.retry_workflow(correlation=CORR, store=memory_store, node="approval")  # before the failure
    assert done.workflow_status == "succeeded" and done.result.charge == "ann"
    assert [e.payload["nodes"] for e in done.events if e.type == "workflow_retried"] == [["charge"]]
