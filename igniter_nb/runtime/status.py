"""Status names for nodes, executions and workflows."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """A status is a ``str``: ``contract.status == "succeeded"`` works, and so does ``Status.SUCCEEDED``.

    Contract statuses: ``succeeded``, ``failed``, ``pending`` (a deferred token is outstanding), ``waiting``
    (an await node waits for an external event). Nodes may also be ``running`` or ``stale``; the plan calls
    nodes that were never resolved ``unresolved``. Workflows add ``cancelled`` and ``timed_out``.
    """

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"
    WAITING = "waiting"
    RUNNING = "running"
    STALE = "stale"
    UNRESOLVED = "unresolved"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"

    @property
    def succeeded(self) -> bool:
        """``self is Status.SUCCEEDED``."""
        return self is Status.SUCCEEDED

    @property
    def failed(self) -> bool:
        """``self is Status.FAILED``."""
        return self is Status.FAILED

    @property
    def pending(self) -> bool:
        """``self is Status.PENDING``."""
        return self is Status.PENDING

    @property
    def waiting(self) -> bool:
        """``self is Status.WAITING``."""
        return self is Status.WAITING


SUCCEEDED = Status.SUCCEEDED
FAILED = Status.FAILED
PENDING = Status.PENDING
WAITING = Status.WAITING
RUNNING = Status.RUNNING
STALE = Status.STALE
UNRESOLVED = Status.UNRESOLVED
BLOCKED = frozenset({PENDING, WAITING})


class StatusFlags:
    """``succeeded``/``failed``/``pending``/``waiting`` booleans for anything with a ``status``."""

    __slots__ = ()

    @property
    def status(self) -> Status:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def succeeded(self) -> bool:
        return self.status is Status.SUCCEEDED

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED

    @property
    def pending(self) -> bool:
        return self.status is Status.PENDING

    @property
    def waiting(self) -> bool:
        return self.status is Status.WAITING
