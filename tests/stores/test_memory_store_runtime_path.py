"""``MemoryStore`` keeps one immutable str/bytes per version; the runtime saves with ``check_json=False`` (marshal
bytes, no JSON check) and everything read back is a fresh dict (L-47: no deep copy of arbitrary objects)."""

from __future__ import annotations

import re
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.errors import SnapshotEncodingError
from igniter_nb.stores import MemoryStore
from igniter_nb.stores.base import save_runtime_snapshot


class Doubler(ig.Contract):
    def define(c):
        c.input("x", type=int)
        c.compute("y", depends_on=["x"], call=lambda x: {"twice": [x, x]})
        c.output("y")


def snap(**extra: Any) -> dict[str, Any]:
    return {"execution_id": "ex-1", "graph": "G", "items": [1, {"a": 2}], **extra}


def test_runtime_saves_keep_bytes_and_read_back_fresh_dicts() -> None:
    store = MemoryStore()
    contract = Doubler({"x": 3}, runner="store", store=store)
    contract.resolve_all()
    version = store._executions[contract.execution_id][-1]
    assert isinstance(version.data, bytes), "the runtime path keeps marshal bytes, not the snapshot dict"
    first = store.fetch(contract.execution_id)
    first["states"]["y"]["value"]["twice"].append("mutated")
    again = store.fetch(contract.execution_id)
    assert again["states"]["y"]["value"] == {"twice": [3, 3]}
    assert first is not again
    assert Doubler.restore_from_store(contract.execution_id, store=store).result.y == {"twice": [3, 3]}


def test_check_json_false_keeps_what_was_saved_even_if_the_caller_changes_it() -> None:
    store = MemoryStore()
    original = snap()
    assert store.save(original, check_json=False) == 1
    original["items"][1]["a"] = 99
    assert store.fetch("ex-1") == snap()
    assert store.history("ex-1") == [snap()]


def test_check_json_false_rejects_what_marshal_cannot_write_and_stores_nothing() -> None:
    store = MemoryStore()
    with pytest.raises(SnapshotEncodingError, match="not plain data"):
        store.save(snap(bad=object()), check_json=False)
    assert not store.exists("ex-1")


def test_the_default_save_still_checks_json_safety() -> None:
    store = MemoryStore()
    with pytest.raises(SnapshotEncodingError, match="not JSON-safe"):
        store.save(snap(bad=(1, 2j)))
    assert not store.exists("ex-1")


def test_checked_and_runtime_versions_mix_in_one_history() -> None:
    store = MemoryStore()
    store.save(snap(n=1))
    store.save(snap(n=2), check_json=False, expected_version=1)
    assert [type(v.data) for v in store._executions["ex-1"]] == [str, bytes]
    assert [s["n"] for s in store.history("ex-1")] == [1, 2]


def test_save_runtime_snapshot_works_with_stores_without_check() -> None:
    calls: list[dict[str, Any]] = []

    class Recording(MemoryStore):
        def save(self, snapshot, *, graph=None, correlation=None, status=None, expected_version=None):  # type: ignore[override]
            calls.append(snapshot)
            return super().save(snapshot, graph=graph, correlation=correlation, status=status,
                                expected_version=expected_version)

    store = Recording()
    assert save_runtime_snapshot(store, snap(), graph="G") == 1
    assert calls == [snap()]
    assert isinstance(store._executions["ex-1"][-1].data, str)  # the checked path: JSON text


def test_marshal_stays_inside_the_process_and_pickle_is_nowhere() -> None:
    """R5: marshal only copies plain data inside one process (memory store, private snapshot copies, the event
    chunks the runtime hands the memory store); no module of the package imports pickle-like serialisers, and no
    store that writes to disk or a server uses marshal or takes event chunks."""
    import ast
    from pathlib import Path

    import igniter_nb

    root = Path(igniter_nb.__file__).parent
    users = set()
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                 for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])}
        assert not names & {"pickle", "shelve", "dill", "cloudpickle"}, path
        if "marshal" in names:
            users.add(path.relative_to(root).as_posix())
    assert users == {"stores/memory.py", "runtime/snapshot.py", "runtime/restore_checks.py", "runtime/event_chunks.py"}
    takers = {path.relative_to(root).as_posix() for path in root.rglob("*.py")
              if re.search(r"^\s*takes_event_chunks = True", path.read_text(), re.MULTILINE)}
    assert takers == {"stores/memory.py"}
