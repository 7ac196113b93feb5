"""Durable workflows: correlation, awaited events, delivery, cancellation, timeouts, retries, migrations."""

from igniter_nb.workflow.control import cancel, expire_due, retry_workflow
from igniter_nb.workflow.engine import deliver_event, start, waiting_events

__all__ = ["cancel", "deliver_event", "expire_due", "retry_workflow", "start", "waiting_events"]
