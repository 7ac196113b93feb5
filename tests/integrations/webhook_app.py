"""The Starlette app the HTTP tests serve with a real uvicorn, configured from the environment:
``WEBHOOK_SECRET``, ``WEBHOOK_RQ_URL``, ``WEBHOOK_QUEUE`` and ``IGNITER_STORE_URL`` (inline deliveries)."""

from __future__ import annotations

import os

from starlette.applications import Starlette

from igniter_nb.integrations.rq import make_queue
from igniter_nb.integrations.webhooks import endpoint
from tests.integrations.int_contracts import OrderWorkflow

SECRET = os.environ["WEBHOOK_SECRET"]
queue = make_queue(os.environ["WEBHOOK_QUEUE"], connection=os.environ["WEBHOOK_RQ_URL"])
# (keyed by the Idempotency-Key header, named: the stripe scheme's default is the signed body's "id")
payment = {"event": "payment_received", "correlation_from": ["order_id"], "payload_from": "payment", "secret": SECRET,
           "idempotency_header": "Idempotency-Key"}

app = Starlette(routes=[
    endpoint(OrderWorkflow, **payment, path="/inline/payment"),
    endpoint(OrderWorkflow, **payment, path="/small", max_body_size=1000),
    endpoint(OrderWorkflow, **payment, path="/queued/payment", queue=queue),
    endpoint(OrderWorkflow, event="goods_shipped", correlation_from=["order_id"], payload_from="shipment",
             secret=SECRET, path="/queued/shipped", queue=queue, idempotency_header="Idempotency-Key"),
])
