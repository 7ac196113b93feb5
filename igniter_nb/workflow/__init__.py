"""Durable workflows: correlation, awaited events, delivery, cancellation, timeouts."""

from igniter_nb.workflow.engine import cancel, deliver_event, expire_due, start, waiting_events

__all__ = ["cancel", "deliver_event", "expire_due", "start", "waiting_events"]
