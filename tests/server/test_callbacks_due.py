"""``callbacks.due`` on an execution restored from a store that keeps the event log as chunks (``MemoryStore``):
it finds the registrations in the chunks without decoding the log into events (that cost more than the
delivery that finished the workflow), and finds none where there are none."""

from __future__ import annotations

from typing import Any

from igniter_nb.server import callbacks
from igniter_nb.server.served import ServedContracts
from igniter_nb.server.service import ContractService
from igniter_nb.stores import MemoryStore
from tests.workflow.wf_contracts import PairWorkflow as Pair


def _finish(store: MemoryStore, pair_id: str, callback: dict[str, str] | None) -> Any:
    service = ContractService(ServedContracts({"pair": Pair}), store)
    service.execute("pair", {"pair_id": pair_id}, callback=callback)
    Pair.deliver_event("left_arrived", correlation={"pair_id": pair_id}, payload={"n": 1}, store=store)
    return Pair.deliver_event("right_arrived", correlation={"pair_id": pair_id}, payload={"n": 2}, store=store)


def test_due_reads_the_registration_from_the_chunks_without_decoding_the_log() -> None:
    store = MemoryStore()
    contract = _finish(store, "p1", {"url": "http://127.0.0.1:9/back", "token": "t0ken"})
    unloaded = contract.execution.bus.unloaded
    assert unloaded > 0, "the restored log is still held as the store's chunks"
    found = callbacks.due(contract, "succeeded")
    assert [(c.url, c.token, c.execution_id) for c in found] == [("http://127.0.0.1:9/back", "t0ken",
                                                                   contract.execution_id)]
    assert contract.execution.bus.unloaded == unloaded, "due() decoded the log into events"
    registered = [e for e in contract.events if e.type == callbacks.REGISTERED]
    assert found[0].registration == registered[0].seq


def test_due_finds_nothing_without_a_registration_and_nothing_while_running() -> None:
    store = MemoryStore()
    contract = _finish(store, "p2", None)
    assert callbacks.due(contract, "succeeded") == []
    assert callbacks.due(contract, "waiting") == []


def test_a_reported_callback_is_not_due_again() -> None:
    store = MemoryStore()
    contract = _finish(store, "p3", {"url": "http://127.0.0.1:9/back", "token": "t0ken"})
    [callback] = callbacks.due(contract, "succeeded")
    contract.execution.bus.emit(callbacks.SENT, payload={"registration": callback.registration})
    assert callbacks.due(contract, "succeeded") == []
