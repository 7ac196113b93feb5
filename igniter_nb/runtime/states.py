"""Per-node runtime state."""

from __future__ import annotations

from typing import Any, NamedTuple

from igniter_nb._shown_repr import bounded_repr
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

    def __repr__(self) -> str:
        """The named tuple's text, each field by ``bounded_repr``: a value whose ``repr`` raises or recurses too
        deep no longer makes this raise, and a 10 MB value shows its first ``MAX_REPR`` characters."""
        return f"NodeState({', '.join(f'{n}={bounded_repr(v)}' for n, v in zip(self._fields, self, strict=True))})"

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


# A threads run's workers record states (``states[name] = ...``) without a lock while any other thread may read them,
# and no lock is taken on the inline path (it would cost every resolve). A reader that walks the whole dictionary
# therefore copies it first, in one C call: ``list(d.values())`` and ``d.copy()`` run no Python code and make no
# allocation the garbage collector counts (which could run a ``__del__``) while they walk a dictionary of ``str``
# keys, so under the GIL no other thread runs in between — the copy is the dictionary at one instant. A Python-level
# loop over the live dictionary (``for st in d.values()``, a comprehension) may be interrupted after any item, and
# raises "dictionary changed size during iteration" when a worker records a new node meanwhile.
def states_now(states: dict[str, NodeState]) -> list[NodeState]:
    """Every state in ``states`` as it is at one instant (safe while a threads run records nodes)."""
    return list(states.values())


def named_states_now(states: dict[str, NodeState]) -> dict[str, NodeState]:
    """``states`` as it is at one instant, by name (see ``states_now``)."""
    return states.copy()
