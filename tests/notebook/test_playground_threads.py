"""``InputPlayground.set`` read ``ex.states`` without the execution's lock — the one ``update_inputs``, ``resume``
and a resolution take — and walked the live dictionary. Another thread sharing the contract could change an input
between its first read and its update: the report then said the input changed though this ``set`` changed nothing
(``changed == ("order_total",)``, ``invalidated == ()``). It now holds the lock from its first read to the report
and reads one-instant copies (``runtime/states.py``).

Deterministic: the other thread holds the execution's lock; the lock (a real ``RLock``, watched) says when the
playground's thread waits for it, and only then does the other thread make its change and let go."""

from __future__ import annotations

import threading
from typing import Any

from contracts import PriceContract

import igniter_nb as ig


class WatchedLock:
    """A real re-entrant lock that tells when a given thread has to wait for it."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.watched: threading.Thread | None = None
        self.waits = threading.Event()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._lock.acquire(False):
            return True
        if not blocking:
            return False
        if threading.current_thread() is self.watched:
            self.waits.set()
        return self._lock.acquire(True, timeout)

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def test_set_is_one_step_to_a_thread_changing_the_same_input() -> None:
    pg = ig.nb.InputPlayground(PriceContract(order_total=100, country="UA"))
    ex = pg.contract.execution
    lock = ex.lock = WatchedLock()
    holding, go = threading.Event(), threading.Event()
    done: dict[str, Any] = {}

    def other() -> None:  # a thread sharing the contract: changes order_total and resolves, holding the lock
        with ex.lock:
            holding.set()
            go.wait(10)
            ex.update_inputs({"order_total": 150})
            ex.resolve_all()

    def playground() -> None:
        done["report"] = pg.set(order_total=150)

    changer = threading.Thread(target=other, daemon=True)
    changer.start()
    assert holding.wait(10)
    setter = threading.Thread(target=playground, daemon=True)
    lock.watched = setter
    setter.start()
    assert lock.waits.wait(10), "the playground never waited for the execution's lock"
    go.set()
    changer.join(10)
    setter.join(10)
    assert not changer.is_alive() and not setter.is_alive()
    report = done["report"]
    # the other thread made the change; this set found order_total already 150 and changed nothing
    assert (report.changed, report.invalidated, report.recomputed) == ((), (), ()), report
    assert report.outputs == {"gross_total": 180.0}
