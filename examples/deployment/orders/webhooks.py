"""The webhook app: Stripe's signed events become deliveries queued to RQ (202 at once; an RQ worker applies each
exactly once). Served by `uvicorn orders.webhooks:app`; reads RQ_REDIS_URL and STRIPE_WEBHOOK_SECRET (comma-separated
while a secret is rolled)."""

from __future__ import annotations

import os

from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from igniter_nb.integrations.rq import make_queue
from igniter_nb.integrations.webhooks import endpoint
from orders.contracts import OrderWorkflow

queue = make_queue("igniter", connection=os.environ["RQ_REDIS_URL"])


def health(request: Request) -> JSONResponse:
    """Ready when the queue's Redis answers (a plain function: Starlette runs it in its thread pool)."""
    try:
        queue.connection.ping()
    except RedisError as exc:
        return JSONResponse({"status": "unavailable", "error": f"redis: {exc}"}, status_code=503)
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[
    endpoint(OrderWorkflow, event="payment_received", correlation_from=["data.object.metadata.order_id"],
             payload_from="data.object", secret=os.environ["STRIPE_WEBHOOK_SECRET"].split(","),
             idempotency_from="id", path="/webhooks/stripe", queue=queue),
    Route("/healthz", health),
])
