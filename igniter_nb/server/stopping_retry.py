"""When the client repeats a call the server answered ``503 ServerStopping`` or ``503 StoreUnavailable``, and how
long it waits first.

A server shutting down answers a request it had to cut off ``503`` with ``"type": "ServerStopping"`` and
``Retry-After: 1`` (``stopped.py``); a server whose store did not answer answers ``503 StoreUnavailable``, also with
``Retry-After: 1`` (``outage.py``). Whether the request took effect is not known, and the body says to retry it.
``Client(retries=N)`` / ``AsyncClient`` do that for a call that is safe to repeat (every GET, the dry run, and
``deliver_event`` with an idempotency key: the rule of their connection retries), up to ``N`` times; never for
``execute``, ``resume`` or a delivery without a key, which could then be applied twice. Any other error answer —
another 503 (``TooManyStreams``, a proxy's), a 500 — is raised at once, as before. ``events()`` counts the 503
among its ``reconnects`` attempts instead (``follow.py``).

The wait: ``Retry-After`` when the answer has one in seconds (at most :data:`MAX_DELAY`), else 0.5 s doubling per
retry, at most 4 s.
"""

from __future__ import annotations

from typing import Any

import httpx

STOPPING = "ServerStopping"
STORE_UNAVAILABLE = "StoreUnavailable"
SERVER_BUSY = "ServerBusy"  # the server process could not start a thread for the request (routing.busy_response)
#: The 503 answers that say "retry later": the request was fine, the server or its store could not take it then.
RETRY_LATER = frozenset({STOPPING, STORE_UNAVAILABLE, SERVER_BUSY})
#: The longest wait before a retry, whatever ``Retry-After`` says: the client never sleeps for long on its own.
MAX_DELAY = 10.0
FIRST_DELAY, MAX_BACKOFF = 0.5, 4.0


def _error_type_503(response: httpx.Response) -> Any:
    """The ``type`` of a ``503`` answer's JSON error body; None for any other answer or body."""
    if response.status_code != 503:
        return None
    try:
        body: Any = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the decoder reads: not the server's 503
        return None
    return body.get("type") if isinstance(body, dict) else None


def server_stopping(response: httpx.Response) -> bool:
    """Whether ``response`` is the server's ``503 ServerStopping`` (a JSON error body of that type)."""
    return bool(_error_type_503(response) == STOPPING)


def retry_later(response: httpx.Response) -> bool:
    """Whether ``response`` is a ``503`` whose JSON error body's type is one of :data:`RETRY_LATER`."""
    kind = _error_type_503(response)
    return isinstance(kind, str) and kind in RETRY_LATER


def retry_delay(response: httpx.Response, retry: int) -> float:
    """Seconds to wait before retry number ``retry`` (1, 2, ...) of a call answered ``response``."""
    said = retry_after(response)
    if said is not None:
        return min(said, MAX_DELAY)
    return min(FIRST_DELAY * 2 ** (retry - 1), MAX_BACKOFF)


def retry_after(response: httpx.Response) -> float | None:
    """The seconds ``response``'s ``Retry-After`` asks to wait, when it gives a whole number of them (an HTTP date
    or anything else: None)."""
    said = response.headers.get("retry-after", "").strip()
    return float(said) if said.isascii() and said.isdigit() else None


__all__ = ["MAX_DELAY", "RETRY_LATER", "SERVER_BUSY", "STOPPING", "STORE_UNAVAILABLE", "retry_after", "retry_delay", "retry_later",
           "server_stopping"]
