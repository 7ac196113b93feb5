"""How long the pure-Python layout may take: a ``deadline`` (``time.monotonic()`` seconds) that its costly steps
check (``in_time``), raising ``LayoutTimeout`` once it has passed. ``engine="auto"`` gives the layout one, as it
bounds ``dot`` (``render.render_view``); ``engine="python"`` does not.

Part of the pure-Python layout (``igniter_nb.notebook.layout``, which re-exports both names).
"""

from __future__ import annotations

import time


class LayoutTimeout(TimeoutError):
    """The pure-Python layout ran past the ``deadline`` it was given (``layout.layout``)."""


def in_time(deadline: float | None) -> None:
    """Raise ``LayoutTimeout`` when ``deadline`` (``time.monotonic()`` seconds) has passed."""
    if deadline is not None and time.monotonic() > deadline:
        raise LayoutTimeout("the pure-Python layout ran out of time")


__all__ = ["LayoutTimeout", "in_time"]
