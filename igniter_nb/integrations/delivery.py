"""What jobs and webhooks report back: a delivery's summary and an error's JSON-safe description."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

from igniter_nb.errors import ConcurrencyError, IgniterError

# Driver errors that say "the store could not be reached now", by module, so none is imported to check.
_TRANSIENT_DRIVER_ERRORS = (
    ("redis.exceptions", "ConnectionError"),
    ("redis.exceptions", "TimeoutError"),
    ("redis.exceptions", "BusyLoadingError"),
    ("sqlalchemy.exc", "OperationalError"),
    ("sqlalchemy.exc", "DisconnectionError"),
    ("sqlalchemy.exc", "TimeoutError"),
    ("psycopg", "OperationalError"),
)


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON data; anything JSON cannot hold becomes its ``str()``."""
    return json.loads(json.dumps(value, default=str))


def error_record(exc: BaseException) -> dict[str, Any]:
    """``{"type", "message", "context"}`` for any exception; igniter errors bring their context."""
    if isinstance(exc, IgniterError):
        return {"type": type(exc).__name__, "message": exc.message, "context": json_safe(exc.context)}
    return {"type": type(exc).__name__, "message": str(exc), "context": {}}


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says "the store could not be used just now": a compare-and-set
    lost too often, a refused or dropped connection, a timeout, a locked SQLite database."""
    current: BaseException | None = exc
    for _ in range(10):  # a cause chain is short; the bound guards against a cycle
        if current is None:
            return False
        if isinstance(current, ConcurrencyError | ConnectionError | TimeoutError):
            return True
        for module_name, name in _TRANSIENT_DRIVER_ERRORS:
            module = sys.modules.get(module_name)
            cls = getattr(module, name, None) if module is not None else None
            if isinstance(cls, type) and isinstance(current, cls):
                return True
        current = current.__cause__ or current.__context__
    return False


def _received_at(signal: dict[str, Any]) -> dt.datetime | None:
    text = signal.get("received_at")
    if not isinstance(text, str):
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def delivery_summary(contract: Any, event: str, idempotency_key: str | None, moment: dt.datetime) -> dict[str, Any]:
    """The result of ``deliver_event(..., now=moment)``: where it went and whether it was a replay.

    A delivery stamps its signal with ``moment``; an idempotent replay returns the workflow with the signal
    recorded earlier, so ``replayed`` is true when the event's signal carries another time. The event's signal
    is the one in force: a signal ``retry_workflow`` retracted (its await reopened) stays in the log before it.
    """
    from igniter_nb.workflow.signals import live_signals

    signal = next((s for s in reversed(live_signals(contract.execution.workflow)) if s.get("event") == event), None)
    replayed = signal is not None and _received_at(signal) != moment
    return {
        "graph": contract.execution.graph.name,
        "event": event,
        "execution_id": contract.execution_id,
        "workflow_status": contract.workflow_status,
        "idempotency_key": idempotency_key,
        "signal": signal.get("order") if signal else None,
        "replayed": replayed,
    }


__all__ = ["delivery_summary", "error_record", "is_transient", "json_safe"]
