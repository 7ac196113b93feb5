"""Per-node runtime state."""

from __future__ import annotations

from typing import Any, NamedTuple

from igniter_nb.runtime.status import Status


class NodeState(NamedTuple):
    """What the runtime knows about one node. Immutable; a change writes a new state with ``version + 1``.

    ``waiting_for`` names the pending/waiting nodes (deferring executors or awaits) a blocked node waits for.
    ``resolved_at`` is a POSIX timestamp. (A named tuple rather than a dataclass: states are created once per
    node resolution, and this keeps that cheap.)
    """

    name: str
    status: Status
    value: Any = None
    error: BaseException | None = None
    version: int = 1
    resolved_at: float | None = None
    invalidated_by: str | None = None
    waiting_for: tuple[str, ...] = ()

    @property
    def succeeded(self) -> bool:
        """True when the node holds a fresh value."""
        return self.status is Status.SUCCEEDED

    @property
    def failed(self) -> bool:
        """True when the node failed (``error`` holds the exception)."""
        return self.status is Status.FAILED

    @property
    def pending(self) -> bool:
        """True while the node is pending: deferred itself, or behind a deferred node (``waiting_for`` names which)."""
        return self.status is Status.PENDING

    @property
    def waiting(self) -> bool:
        """True while the node waits for an external event, itself or through a dependency (``waiting_for`` names
        which)."""
        return self.status is Status.WAITING

    @property
    def stale(self) -> bool:
        """True when something it depends on changed since it was computed (it recomputes on the next read)."""
        return self.status is Status.STALE
