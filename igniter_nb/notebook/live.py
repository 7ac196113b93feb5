"""``live=True`` for the ``EventSimulator`` and the ``SnapshotStepper``: both follow their execution with a
``Follow`` (the change feed of a store, or a server's live stream) and update as other processes save new versions.

* The simulator follows the **selected** workflow (a new selection moves the following): each new version is
  restored into the simulator and its widget redrawn; an event delivered elsewhere is no longer offered.
* The stepper follows its execution: each new version becomes a new step (a skipped one is read from the history).
  Views at the last step move on to the new last step; a view moved back stays where it is.

Updates arrive on the following thread; the objects take them under their lock (``locked``), so a cell calling
``select`` or ``goto`` meanwhile sees a consistent state.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from igniter_nb.notebook.follow import Follow, FollowUpdate
    from igniter_nb.notebook.simulator import EventSimulator
    from igniter_nb.notebook.stepper import SnapshotStepper

F = TypeVar("F", bound=Callable[..., Any])


def locked(method: F) -> F:
    """Run ``method`` under ``self._lock`` (an ``RLock``): the following thread and the cell's take turns."""

    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return run  # type: ignore[return-value]


def _follow(execution_id: str, source: Any, graph: Any, engine: Any, take: Callable[[FollowUpdate], None],
            told: Callable[[], None]) -> Follow:
    """A started ``Follow`` calling ``take`` with each version and ``told`` when following changes state (set before
    it starts, so that no change is missed)."""
    from igniter_nb.notebook.follow import Follow

    follow = Follow(execution_id, source, graph=graph, engine=engine, on_update=take, start=False)
    follow.on_state = told
    return follow.start()


class FollowSelected:
    """Keeps a ``Follow`` on the simulator's selected workflow (weakly: a simulator nobody holds stops)."""

    def __init__(self, sim: EventSimulator) -> None:
        self._sim = weakref.ref(sim)
        self.follow: Follow | None = None

    def retarget(self) -> None:
        sim = self._sim()
        if sim is None:
            return
        if self.follow is not None and self.follow.execution_id == sim.execution_id:
            return
        # not waiting for the old thread: it may be waiting for the simulator's lock, which select() holds
        self.stop(timeout=0)
        if sim.execution_id is not None:
            ref = self._sim

            def take(update: FollowUpdate) -> None:
                current = ref()
                if current is not None:
                    current._take_version(update.record)

            def told() -> None:  # reconnecting, back, or ended early: the simulator's status line says so
                current = ref()
                if current is not None:
                    current._redraw_status()

            self.follow = _follow(sim.execution_id, sim.store, sim.graph, sim.engine, take, told)

    def stop(self, timeout: float = 5.0) -> None:
        if self.follow is not None:
            self.follow.stop(timeout)
            self.follow = None


class FollowSteps:
    """Grows a stepper by each new version of its execution."""

    def __init__(self, stepper: SnapshotStepper, source: Any) -> None:
        ref = weakref.ref(stepper)
        self.source = source

        def take(update: FollowUpdate) -> None:
            current = ref()
            if current is not None:
                current._take_version(update.record, source)

        def told() -> None:  # reconnecting, back, or ended early: the stepper's views say so
            current = ref()
            if current is not None:
                current._live_state_changed()

        assert stepper.execution_id is not None
        self.follow = _follow(stepper.execution_id, source, stepper.graph, stepper.engine, take, told)

    def stop(self) -> None:
        self.follow.stop()


__all__ = ["FollowSelected", "FollowSteps", "locked"]
