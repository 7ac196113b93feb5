"""Webhook configuration an operator gets wrong, refused when the route is made (at start-up) with a message naming
the mistake — not a route that answers every request 401 or 500."""

from __future__ import annotations

from typing import Any

import pytest

from igniter_nb.integrations.webhooks import endpoint
from tests.integrations.int_contracts import OrderWorkflow
from tests.integrations.test_webhooks import SECRET

BASE: dict[str, Any] = {"event": "payment_received", "correlation_from": ["data.order_id"], "secret": SECRET}


@pytest.mark.parametrize(("options", "error", "says"), [
    # a secret read from a file or a .env keeps its newline: every request was 401 "signature does not match"
    ({"secret": "whsec_abc\n"}, ValueError, "a webhook secret starts or ends with whitespace"),
    ({"secret": [SECRET, " whsec_old"]}, ValueError, "a webhook secret starts or ends with whitespace"),
    ({"secret": 5}, TypeError, "secret= must be a str or bytes, or a list of them, got int"),  # "'int' object is
    # not iterable"
    ({"tolerance": float("inf")}, ValueError, "tolerance must be a positive, finite number of seconds, got inf"),
    # no request can carry a header of that name: every request was 401 "missing signature header"
    ({"signature_header": "Stripe Signature"}, ValueError,
     "signature_header must be an HTTP header name .*, got 'Stripe Signature'"),
    ({"idempotency_header": "Idempotency Key"}, ValueError,
     "idempotency_header must be an HTTP header name .*, got 'Idempotency Key'"),
    # a URL where a store belongs: every request was a 500
    ({"store": "sqlite:///hooks.db"}, TypeError,
     r"store= must be a store object, got str: open a URL with ig.stores.from_url\(url\)"),
])
def test_a_configuration_mistake_is_refused_when_the_route_is_made(options: dict[str, Any], error: type[Exception],
                                                                    says: str) -> None:
    with pytest.raises(error, match=says):
        endpoint(OrderWorkflow, **{**BASE, **options})


def test_a_secret_given_as_bytes_is_taken_as_it_is() -> None:
    """The way to use a secret that really has outer whitespace."""
    route = endpoint(OrderWorkflow, **{**BASE, "secret": b"whsec_abc\n"})
    assert route.path == "/webhooks/payment_received"
