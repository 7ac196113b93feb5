"""What an idempotency key may be where it enters through an integration (a webhook's header or body field, an RQ
enqueue's argument): one limit and one check, so a key one of them takes is never refused by the other."""

from __future__ import annotations

from typing import Any

MAX_IDEMPOTENCY_KEY = 255
"""The longest idempotency key (in characters) a webhook request or ``enqueue_deliver_event`` takes."""
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
