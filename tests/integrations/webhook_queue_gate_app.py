"""A queued webhook route (``OrderWorkflow``'s ``goods_shipped``, enqueued on RQ), served by uvicorn in
``test_webhooks_queued_crash.py``. With ``IGNITER_TEST_GATE`` naming a file, each enqueue waits while that file
exists — ``IGNITER_TEST_GATE_AT=before`` before the job is written to Redis, ``after`` once it is and before the 202
is sent — after creating ``<gate>.entered``, so the test can SIGKILL the server at either point."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import redis
from rq import Queue
from rq.serializers import JSONSerializer
from starlette.applications import Starlette

from igniter_nb.integrations.webhooks import endpoint
from tests.integrations.int_contracts import OrderWorkflow


def _wait_at_the_gate() -> None:
    gate = os.environ.get("IGNITER_TEST_GATE")
    if not gate:
        return
    Path(gate + ".entered").touch()
    deadline = time.monotonic() + 30
    while os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.02)


class GatedQueue(Queue):
    """RQ's queue, waiting at the gate before or after its one write of a job (a MULTI/EXEC pipeline)."""

    def enqueue_job(self, job: Any, *args: Any, **kwargs: Any) -> Any:
        at = os.environ.get("IGNITER_TEST_GATE_AT", "after")
        if at == "before":
            _wait_at_the_gate()
        enqueued = super().enqueue_job(job, *args, **kwargs)
        if at == "after":
            _wait_at_the_gate()
        return enqueued


queue = GatedQueue(os.environ["WEBHOOK_QUEUE"], connection=redis.Redis.from_url(os.environ["WEBHOOK_RQ_URL"]),
                   serializer=JSONSerializer)
app = Starlette(routes=[
    endpoint(OrderWorkflow, event="goods_shipped", correlation_from=["order_id"], payload_from="shipment",
             secret=os.environ["WEBHOOK_SECRET"], path="/shipped", queue=queue, idempotency_header="Idempotency-Key"),
])
