"""What an idempotency key may be where it enters a service: a webhook's header or body field, an RQ enqueue's
argument, and the HTTP events route's ``idempotency_key`` (``server/models.py`` takes :data:`MAX_IDEMPOTENCY_KEY`
from here). One limit, so a key one of them takes is never refused by another (a delivery retried through the
route with the key a webhook used).

The engine (``Contract.deliver_event``) has no limit of its own: every store keeps the key inside the workflow's
JSON snapshot, as text, with no column of its own — memory, file, SQLite, PostgreSQL and Redis stores hold any
length alike."""

from __future__ import annotations

from typing import Any

MAX_IDEMPOTENCY_KEY = 255
"""The longest idempotency key (in characters) a webhook request, ``enqueue_deliver_event`` or ``POST
/v1/contracts/{name}/events`` takes."""
KEY_RULE = f"a non-blank string of at most {MAX_IDEMPOTENCY_KEY} characters"


def idempotency_key_problem(value: Any) -> str | None:
    """What is wrong with ``value`` as an idempotency key (``"a str of 256 characters"``, ``"a blank str"``,
    ``"int 5"``), or ``None`` when it is one."""
    if not isinstance(value, str):
        return f"{type(value).__name__} {value!r:.80}"
    if not value.strip():
        return "a blank str"
    if len(value) > MAX_IDEMPOTENCY_KEY:
        return f"a str of {len(value)} characters"
    return None


__all__ = ["KEY_RULE", "MAX_IDEMPOTENCY_KEY", "idempotency_key_problem"]
