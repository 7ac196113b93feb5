"""Lists made ahead of their use, for the containers of a run that grow to one entry per node.

The cyclic garbage collector walks every object of the generations it collects, and a young collection comes
every ~700 new tracked objects (a resolve makes one per node: its state). A list made at the start of a run is
young: the first young collection during the run walks it whole, and so does the first collection of the middle
generation, ten young ones later — at 100,000 nodes a resolver's stack and recorded events hold 300,000 entries
by then, and each visit of an entry is a cache miss (docs/performance.md, "Target 1 again"). A list made a while
ago has been moved to the oldest generation, which only full collections walk, while it was still empty.
So a run takes its lists from a short queue of lists made by the runs before it, and leaves a new one for the
runs after it. Nothing else changes: the list is a new, empty ``list``, used by one run only.
"""

from __future__ import annotations

from collections import deque
from typing import Any

# How many lists wait: a list is taken this many takes after it was made (a run takes two: its events, its stack).
_DEPTH = 8
_SPARE: deque[list[Any]] = deque([[] for _ in range(_DEPTH)])


def aged_list() -> list[Any]:
    """An empty list, made earlier (so likely in the collector's oldest generation already); one is made in its
    place. Safe from any thread: ``deque.append``/``popleft`` are atomic, and each take appends before it pops."""
    spare = _SPARE
    spare.append([])
    return spare.popleft()
