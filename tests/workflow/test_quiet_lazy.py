"""The contract a quiet delivery returns is restored on first touch (``runtime/first_touch.py``): a real instance of
the class that holds only its snapshot until something reads it, then answers exactly what a restore at delivery
would have — however much later, from whichever thread, whatever was delivered meanwhile."""

from __future__ import annotations

import copy
import pickle
import random
import threading
from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.runtime import first_touch
from igniter_nb.runtime.restore import restore_record
from igniter_nb.stores import MemoryStore
from igniter_nb.workflow import quiet
from igniter_nb.workflow.engine import start
from tests.workflow._fast_paths import (
    CLASSES,
    NOW,
    Docs,
    Pair,
    answer,
    assert_same,
    make_store,
    norm,
    random_ops,
    run,
)


@pytest.fixture
def restores(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The contracts restored on first touch from now on, one entry per restore."""
    made: list[Any] = []
    original = first_touch.restore_attributes

    def counting(contract: Any, snapshot: Any, *, store: Any) -> Any:
        made.append(contract)
        return original(contract, snapshot, store=store)

    monkeypatch.setattr(first_touch, "restore_attributes", counting)
    return made


def _fresh(store: Any, key: str = "k") -> Any:
    Pair.start(key=key, store=store, now=NOW)
    return Pair.deliver_event("left_arrived", correlation={"key": key}, payload={"n": 1}, store=store, now=NOW)


def test_a_quiet_delivery_restores_nothing_until_the_contract_is_read(restores: list[Any],
                                                                      count_quiet: list[int]) -> None:
    applied = count_quiet
    store = MemoryStore()
    contract = _fresh(store)
    assert applied[0] == 1
    assert type(contract) is Pair and isinstance(contract, ig.Contract)
    assert restores == [] and "execution" not in vars(contract)  # no execution exists yet
    # what needs no execution: the class's own methods, identity, copying (refused as for any contract)
    assert contract.compiled_graph() is Pair.compiled_graph() and contract.correlation_keys() == ("key",)
    with pytest.raises(TypeError, match="Pair contract is a live execution"):
        copy.copy(contract)
    with pytest.raises(TypeError, match="Pair contract is a live execution"):
        pickle.dumps(contract)
    contract.note = "mine"  # (an attribute of the caller's own is kept)
    assert restores == []
    assert contract.workflow_status == "waiting"
    assert restores == [contract]
    ex = contract.execution
    assert ex.contract is contract and ex.store_version == 2 and ex.saved_seq == ex.bus.last_seq()
    assert contract.reaction_errors == [] and contract.note == "mine"
    assert contract.events and contract.states["left"]["status"] == "succeeded"
    assert restores == [contract]  # once
    assert "_igniter_first_touch" not in vars(contract)  # (the snapshot is let go)


READERS = {
    "execution": lambda c: (c.execution.execution_id, sorted(c.execution.states), c.execution.workflow),
    "result": lambda c: (c.result.to_dict(), repr(c.result)),
    "status": lambda c: (str(c.status), c.waiting, c.succeeded),
    "events": lambda c: [e._asdict() for e in c.events],
    "workflow": lambda c: (c.workflow_status, c.signals),
    "states": lambda c: c.states,
    "audit": lambda c: c.audit.snapshot(),
    "diagnostics": lambda c: c.diagnostics.to_dict(),
    "repr": repr,
    "notebook": lambda c: c._repr_mimebundle_()["text/plain"],
    "inputs": lambda c: (c.inputs, c.execution_id),
    "plan": lambda c: c.explain_plan(),
    "snapshot": lambda c: c.snapshot(),
}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_each_reader_restores_it_and_reads_what_a_restore_at_delivery_gives(reader: str, restores: list[Any]) -> None:
    store = MemoryStore()
    contract = _fresh(store)
    eager = restore_record(Pair, store.record(store.find_latest_by_correlation("Pair", {"key": "k"})), store=store)
    restores.clear()
    assert norm(READERS[reader](contract)) == norm(READERS[reader](eager))
    assert restores == [contract]


class Delegating(ig.Contract):
    """A subclass with its own ``__getattr__`` (outputs read as attributes) and a property reading the execution."""

    define = staticmethod(Pair.define)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("execution", "reaction_errors"):
            raise AttributeError(name)
        return self.states[name]["status"]

    @property
    def delivered(self) -> list[str]:
        return [s["event"] for s in self.execution.workflow["signals"]]


class KeepsAttributes(Delegating):
    """A subclass that changes how attributes are set: its contract is restored at delivery, as before."""

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)


def test_a_subclass_reading_through_its_own_attributes_restores_it(restores: list[Any]) -> None:
    store = MemoryStore()
    Delegating.start(key="k", store=store)
    contract = Delegating.deliver_event("left_arrived", correlation={"key": "k"}, payload={}, store=store)
    assert restores == []
    assert contract.left == "succeeded" and contract.joined == "waiting"  # (its __getattr__, then the states)
    assert contract.delivered == ["left_arrived"]
    assert restores == [contract]
    KeepsAttributes.start(key="k2", store=store)  # (the same graph: another correlation)
    kept = KeepsAttributes.deliver_event("left_arrived", correlation={"key": "k2"}, payload={}, store=store)
    assert "execution" in vars(kept) and kept.delivered == ["left_arrived"]
    assert restores == [contract]


def test_the_class_still_has_no_execution_attribute() -> None:
    # (notebook reprs and renderers tell a class from an instance by it)
    assert not hasattr(Pair, "execution") and not hasattr(Pair, "reaction_errors")
    with pytest.raises(AttributeError, match="type object 'Pair' has no attribute 'execution'"):
        Pair.execution  # noqa: B018
    bare = Pair.__new__(Pair)  # (made and never set up: as before, no execution)
    with pytest.raises(AttributeError, match="'Pair' object has no attribute 'execution'"):
        bare.execution  # noqa: B018


def test_threads_touching_the_same_fresh_contract_get_one_execution(monkeypatch: pytest.MonkeyPatch) -> None:
    threads = 6
    store = MemoryStore()
    contract = _fresh(store)
    arrived: list[int] = []
    everyone_in = threading.Event()
    restored: list[int] = []
    original_restore = first_touch._Pending.restore
    original_attributes = first_touch.restore_attributes

    def arriving(self: Any, contract: Any) -> None:
        arrived.append(1)
        if len(arrived) == threads:
            everyone_in.set()
        original_restore(self, contract)

    def restoring(contract: Any, snapshot: Any, *, store: Any) -> Any:
        restored.append(1)
        everyone_in.wait(10)  # (every thread has found it unrestored and is waiting for it)
        return original_attributes(contract, snapshot, store=store)

    monkeypatch.setattr(first_touch._Pending, "restore", arriving)
    monkeypatch.setattr(first_touch, "restore_attributes", restoring)
    start_together = threading.Barrier(threads)
    seen: list[Any] = [None] * threads

    def read(i: int) -> None:
        start_together.wait(10)
        seen[i] = (contract.execution, contract.reaction_errors, len(contract.events))

    workers = [threading.Thread(target=read, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(20)
    assert everyone_in.is_set() and len(restored) == 1
    assert all(s is not None for s in seen)
    executions = {id(s[0]) for s in seen}
    assert len(executions) == 1 and seen[0][0].contract is contract
    assert {id(s[1]) for s in seen} == {id(contract.reaction_errors)}
    assert {s[2] for s in seen} == {len(contract.events)}


def test_a_touch_from_inside_its_own_restore_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryStore()
    contract = _fresh(store)
    original = first_touch.restore_attributes

    def touching(c: Any, snapshot: Any, *, store: Any) -> Any:
        c.execution  # noqa: B018
        return original(c, snapshot, store=store)

    monkeypatch.setattr(first_touch, "restore_attributes", touching)
    with pytest.raises(RuntimeError, match="Pair contract read while it is being restored"):
        contract.execution  # noqa: B018
    monkeypatch.setattr(first_touch, "restore_attributes", original)
    assert contract.workflow_status == "waiting"  # (nothing was set: restored on the next touch)


@pytest.mark.parametrize("kind", ["memory", "sqlite", "file"])
def test_contracts_read_after_later_deliveries_show_the_version_they_were_saved_at(
        kind: str, tmp_path: Path, restores: list[Any]) -> None:
    store = make_store(kind, tmp_path)
    eid = "00000000-0000-4000-8000-00000000000d"
    start(Docs, {"key": "k"}, store=store, now=NOW, execution_id=eid)
    kept = [Docs.deliver_event(f"d{i}_arrived", correlation={"key": "k"}, payload={"n": i, "m": [i]}, store=store,
                               now=NOW, idempotency_key=f"i{i}") for i in range(5)]
    assert restores == []  # (the completing delivery's contract too is built on first touch)
    assert kept[-1].result.count == 5
    assert restores == [kept[-1]]
    restores.clear()
    quiet_ones = kept[:4]
    records = {r.version: r for r in store.history_records(eid)}
    for version, contract in reversed(list(enumerate(quiet_ones, 2))):  # (read last first, long after returned)
        assert answer(contract) == answer(restore_record(Docs, records[version], store=store))
    assert [c.execution.store_version for c in quiet_ones] == [2, 3, 4, 5]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("name", ["docs", "pair", "scoped", "three"])
def test_random_sequences_read_at_the_end_answer_as_the_general_path_at_once(
        name: str, kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restores: list[Any]) -> None:
    cls = CLASSES[name]
    ops = random_ops(random.Random(f"late-{name}-{kind}"), cls, 30 if kind == "memory" else 20)
    (tmp_path / "q").mkdir()
    (tmp_path / "g").mkdir()
    late = run(cls, ops, make_store(kind, tmp_path / "q"), read_late=True)  # (each contract read at the end)
    assert restores  # (the sequences do return contracts restored on first touch)
    monkeypatch.setattr(quiet, "GENERAL_ONLY", True)
    assert_same(late, run(cls, ops, make_store(kind, tmp_path / "g")))


def test_the_execution_id_of_a_contract_not_read_yet_comes_from_its_snapshot_without_a_restore(
        restores: list[Any]) -> None:
    store = MemoryStore()
    contract = _fresh(store)
    eid = contract.execution_id
    assert restores == [] and "execution" not in vars(contract)  # (a loop keeping ids restores nothing)
    assert store.fetch(eid)["execution_id"] == eid
    assert contract.execution.execution_id == eid and len(restores) == 1  # the restore gives the same id
    assert contract.execution_id == eid and len(restores) == 1
