"""``Follow.wait`` returns once the ``on_update`` of the version it waited for has returned: the following thread
woke ``wait`` before it called ``on_update``, so a cell that waited and then read what its callback collected could
miss the last version (CI read ``seen == [1, 2]`` after ``wait()`` had seen version 3)."""

from __future__ import annotations

import threading
import time
from typing import Any

from igniter_nb.notebook.follow import Follow
from igniter_nb.stores import MemoryStore
from tests.notebook.service_contracts import SvcLead

R1 = {"request_id": "r-1"}


def test_wait_returns_after_the_callback_of_the_version_it_waited_for() -> None:
    store = MemoryStore()
    wf = SvcLead.start(R1, store=store)
    seen: list[int] = []

    def slow(update: Any) -> None:  # a callback that takes a moment (drawing, writing a file)
        if update.version > 1:
            time.sleep(0.3)
        seen.append(update.version)

    follow = Follow(wf.execution_id, store, on_update=slow, poll_interval=0.01)
    SvcLead.deliver_event("crm_received", correlation=R1, payload={"name": "A"}, store=store)
    follow.wait(version=2, timeout=60)
    assert seen == [1, 2]
    SvcLead.deliver_event("billing_ready", correlation=R1, payload=1, store=store)
    follow.wait(timeout=60)  # until it finished
    assert seen == [1, 2, 3] and follow.finished
    follow.stop()


def test_a_callback_may_wait_for_what_it_was_called_with() -> None:
    """From the callback itself (the following thread), a condition already true is not held up by that callback."""
    store = MemoryStore()
    wf = SvcLead.start(R1, store=store)
    answered: list[int] = []
    done = threading.Event()

    def waits(update: Any) -> None:
        if update.version == 2:
            answered.append(follow.wait(version=2, timeout=60).version)
            done.set()

    follow = Follow(wf.execution_id, store, on_update=waits, poll_interval=0.01)
    SvcLead.deliver_event("crm_received", correlation=R1, payload={"name": "A"}, store=store)
    assert done.wait(60) and answered == [2]
    follow.stop()
