"""RQ enqueue calls carrying values that travel through the codec but not through RQ's JSON: an integer of more
digits than Python reads or writes as JSON text (4300 by default). It must be refused at enqueue, naming the place,
and nothing enqueued — not fail with json's "Exceeds the limit" naming nothing."""

from __future__ import annotations

from typing import Any

import pytest
from rq import Queue

import igniter_nb as ig
from igniter_nb.integrations import rq as ig_rq
from tests.integrations.int_contracts import AsyncQuote, OrderWorkflow

pytestmark = pytest.mark.services

HUGE = 10**5000


@pytest.mark.parametrize(("call", "where"), [
    (lambda queue: ig_rq.enqueue_start(OrderWorkflow, {"order_id": "o-1", "placed_on": {"n": [1, HUGE]}},
                                       queue=queue), "inputs.placed_on.n[1]"),
    (lambda queue: ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"order_id": "o-1"},
                                               payload={"carrier": "x", "weight": -HUGE}, queue=queue),
     "payload.weight"),
    (lambda queue: ig_rq.enqueue_resume(AsyncQuote, "e-1", token="t", value=HUGE, queue=queue), "value"),
])
def test_an_integer_too_long_for_json_is_refused_at_enqueue_naming_the_place(queue: Queue, call: Any,
                                                                             where: str) -> None:
    with pytest.raises(ig.SnapshotEncodingError, match="5001 digits") as raised:
        call(queue)
    assert raised.value.context["path"] == where, raised.value.context
    assert where in str(raised.value)
    assert queue.count == 0


def test_an_integer_just_under_the_limit_is_still_enqueued(queue: Queue) -> None:
    job = ig_rq.enqueue_resume(AsyncQuote, "e-1", token="t", value=10**4200, queue=queue)
    assert queue.count == 1 and job.kwargs["value"] == 10**4200
