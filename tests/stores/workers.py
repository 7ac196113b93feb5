"""Functions run in spawned worker processes by the concurrency and crash tests (importable by module name)."""

from __future__ import annotations

import random
import time
from typing import Any

from igniter_nb.errors import ConcurrencyError
from tests.stores.store_factory import open_store


def increment(spec: dict[str, Any], execution_id: str, increments: int, barrier: Any, results: Any) -> None:
    """Read-modify-write ``increments`` times with compare-and-set, retrying on conflict; report (done, conflicts)."""
    store = open_store(spec)
    rng = random.Random()
    done = conflicts = 0
    barrier.wait(60)
    while done < increments:
        rec = store.record(execution_id)
        snapshot = dict(rec.snapshot)
        snapshot["counter"] += 1
        if rng.random() < 0.5:
            time.sleep(rng.random() / 1000)  # widen the read-to-write window so writers really collide
        try:
            store.save(snapshot, expected_version=rec.version)
            done += 1
        except ConcurrencyError:
            conflicts += 1
    store.close()
    results.put((done, conflicts))


def payload(counter: int, size: int) -> str:
    """Content that is checkable: a torn or mixed snapshot would not equal payload(its own counter)."""
    unit = f"<{counter:09d}>"
    return unit * (size // len(unit))


def write_forever(spec: dict[str, Any], execution_id: str, size: int, acks: Any) -> None:
    """Save increasing versions until killed; after each save returns, send its version on ``acks``."""
    store = open_store(spec)
    try:
        version = store.record(execution_id).version
    except Exception:
        version = 0
    while True:
        counter = version + 1
        snapshot = {"execution_id": execution_id, "counter": counter, "payload": payload(counter, size)}
        version = store.save(snapshot, expected_version=version, graph="Crash", correlation={"k": "crash"},
                             status="running")
        acks.send(version)
