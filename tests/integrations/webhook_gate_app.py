"""A webhook route delivering ``GatedWorkflow``'s ``answered`` inline, served by uvicorn in
``test_webhooks_crash.py``: with ``IGNITER_TEST_GATE`` set, the delivery waits inside the store's process while the
gate file exists, so the test can SIGKILL the server between accepting a request and saving its signal."""

from __future__ import annotations

import os

from starlette.applications import Starlette

from igniter_nb.integrations.webhooks import endpoint
from tests.integrations.int_contracts import GatedWorkflow

app = Starlette(routes=[
    endpoint(GatedWorkflow, event="answered", correlation_from=["ticket"], payload_from="answer",
             secret=os.environ["WEBHOOK_SECRET"], path="/answered", idempotency_header="Idempotency-Key"),
])
