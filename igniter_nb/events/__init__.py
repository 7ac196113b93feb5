"""Event records and the event bus."""

from igniter_nb.events.bus import EventBus
from igniter_nb.events.event import Event

__all__ = ["Event", "EventBus"]
