"""Functions run in spawned processes by tests/stores/test_sql_write_gate.py (importable by module name)."""

from __future__ import annotations

import time
from typing import Any

from igniter_nb.stores import SQLStore


def save_many(url: str, tag: str, saves: int, barrier: Any, results: Any) -> None:
    """Create ``saves`` executions and update each once, with no busy timeout at all (a writer SQLite finds
    locked fails at once); report (saves done, turns taken through the gate, turns that waited, errors)."""
    store = SQLStore(url, busy_timeout_ms=0)
    done = errors = 0
    barrier.wait(60)
    for i in range(saves):
        eid = f"{tag}-{i}"
        try:
            version = store.save({"execution_id": eid, "n": i}, expected_version=0, graph="Gate",
                                 correlation={"k": eid}, status="running")
            store.save({"execution_id": eid, "n": i + 1}, expected_version=version, graph="Gate",
                       correlation={"k": eid}, status="succeeded")
            done += 2
        except Exception as exc:  # reported, not raised: the parent asserts there were none
            errors += 1
            results.put(("error", repr(exc)))
    gate = store._gate
    results.put((done, gate.acquired if gate else 0, gate.waited if gate else 0, errors))
    store.close()


def hold_the_gate(url: str, held: Any) -> None:
    """Take the store's write turn, say so, and keep it until killed."""
    store = SQLStore(url)
    store.create_tables()
    assert store._gate is not None
    with store._gate.turn():
        held.set()
        while True:
            time.sleep(1)
