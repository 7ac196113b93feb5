"""RQ enqueue calls a hostile (or hurried) caller makes: a start with an input the contract does not have, or of
another type than the contract declares. ``start`` refuses them in every worker; they are refused at enqueue, and
nothing is enqueued. A valid start still runs."""

from __future__ import annotations

from typing import Any

import pytest
from rq import Queue

import igniter_nb as ig
from igniter_nb.integrations import rq as ig_rq
from tests.integrations.conftest import run_jobs
from tests.integrations.int_contracts import OrderWorkflow

pytestmark = pytest.mark.services


@pytest.mark.parametrize(("inputs", "says"), [
    ({"order_id": "o-1", "ordr_total": 5}, r"Unknown input: ordr_total \(inputs of OrderWorkflow: order_id, "),
    ({"order_id": "o-1", "placed_on": None, "zz": 1, "aa": 2}, "Unknown inputs: aa, zz"),
    ({"order_id": 5}, "Input 'order_id' must be of type str, got int 5"),
    ({"order_id": True}, "Input 'order_id' must be of type str, got bool True"),
])
def test_a_start_with_inputs_start_refuses_is_refused_at_enqueue(queue: Queue, inputs: dict[str, Any],
                                                                 says: str) -> None:
    """They were enqueued, and the job failed in the worker with this InputError, every time."""
    with pytest.raises(ig.InputError, match=says) as raised:
        ig_rq.enqueue_start(OrderWorkflow, inputs, queue=queue)
    assert raised.value.context["graph"] == "OrderWorkflow"
    assert queue.count == 0


def test_a_valid_start_is_still_enqueued_and_runs(queue: Queue, default_store: Any) -> None:
    job = ig_rq.enqueue_start(OrderWorkflow, {"order_id": "o-ok", "placed_on": None}, queue=queue)
    run_jobs(queue)
    assert job.return_value()["workflow_status"] == "waiting"


@pytest.mark.parametrize("connection", [5, None, b"redis://127.0.0.1:6379/0", {"host": "127.0.0.1"}])
def test_a_connection_that_is_neither_a_url_nor_a_redis_client_is_refused_when_the_queue_is_made(
        connection: Any) -> None:
    """``make_queue(connection=5)`` made a queue, and the first enqueue failed with "'int' object has no attribute
    'pipeline'" (the worker: "... 'connection_pool'")."""
    said = f"connection= must be a redis.Redis or a redis:// URL, got {type(connection).__name__}"
    with pytest.raises(TypeError, match=said):
        ig_rq.make_queue("igniter-hostile", connection=connection)
    with pytest.raises(TypeError, match=said):
        ig_rq.worker("igniter-hostile", connection=connection)


@pytest.mark.parametrize("retry", [3, "3", {"max": 3}])
def test_a_retry_that_is_not_an_rq_retry_is_refused_naming_it(queue: Queue, retry: Any) -> None:
    """``retry=3`` failed inside RQ with "'int' object has no attribute 'max'"."""
    with pytest.raises(TypeError, match=r"retry= must be an rq\.Retry \(for example Retry\(max=3\)\) or None"):
        ig_rq.enqueue_start(OrderWorkflow, {"order_id": "o-r"}, queue=queue, retry=retry)
    with pytest.raises(TypeError, match=r"retry= must be an rq\.Retry"):
        ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"order_id": "o-r"}, queue=queue,
                                    retry=retry)
    assert queue.count == 0
