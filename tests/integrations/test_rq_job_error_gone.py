"""``job_error(job)`` for a job whose record is no longer in Redis (its ``failure_ttl`` or ``result_ttl`` ran out, or
it was deleted) raises :class:`~igniter_nb.integrations.rq.JobNotFoundError`, naming the job id and saying its record
expired or was deleted; it was RQ's bare ``NoSuchJobError: No such job: rq:job:…``. It is still a ``NoSuchJobError``,
so code catching RQ's error keeps working. Against a real Redis."""

from __future__ import annotations

from typing import Any

import pytest
from rq import Queue
from rq.exceptions import NoSuchJobError

import igniter_nb as ig
from igniter_nb.integrations import rq as ig_rq
from tests.integrations.conftest import run_jobs
from tests.integrations.int_contracts import OrderWorkflow

pytestmark = pytest.mark.services


def _failed_job(queue: Queue, default_store: Any) -> Any:
    job = ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"order_id": "nobody"},
                                      payload={"carrier": "DHL"}, queue=queue, retry=None)
    run_jobs(queue)
    assert ig_rq.job_error(job)["type"] == "WorkflowNotFoundError"  # (readable while its record lasts)
    return job


@pytest.mark.parametrize("how", ["expired", "deleted"])
def test_the_error_of_a_job_whose_record_is_gone_names_the_job(queue: Queue, default_store: Any, how: str) -> None:
    job = _failed_job(queue, default_store)
    if how == "expired":
        queue.connection.delete(job.key)  # what Redis does when the record's TTL runs out
    else:
        job.delete()
    with pytest.raises(ig_rq.JobNotFoundError) as raised:
        ig_rq.job_error(job)
    error = raised.value
    assert isinstance(error, ig.IgniterError) and isinstance(error, NoSuchJobError)
    assert error.context["job_id"] == job.id
    assert f"RQ job {job.id!r}" in error.message
    assert "expired or was deleted" in error.message and "failure_ttl" in error.message
