"""How much a delivery reads from the store, independent of how many workflows are stored (B6 "flat").

Counted, not timed: a MemoryStore subclass counts the records its ``list`` and ``record`` hand back."""

from __future__ import annotations

import pytest

from igniter_nb.errors import WorkflowNotFoundError
from igniter_nb.stores import MemoryStore
from tests.workflow.wf_contracts import PairWorkflow

STORED = 2_000


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.loaded = 0

    def list(self, graph=None, status=None):
        found = super().list(graph, status)
        self.loaded += len(found)
        return found

    def record(self, execution_id):
        self.loaded += 1
        return super().record(execution_id)

    def record_by_correlation(self, graph, correlation):
        found = super().record_by_correlation(graph, correlation)
        self.loaded += found is not None
        return found


@pytest.fixture(scope="module")
def crowded() -> CountingStore:
    store = CountingStore()
    for i in range(STORED):
        PairWorkflow.start(pair_id=f"p-{i}", store=store)
    return store


def test_delivery_to_a_known_workflow_reads_one_record(crowded):
    crowded.loaded = 0
    PairWorkflow.deliver_event("left_arrived", correlation={"pair_id": "p-7"}, payload={}, store=crowded)
    assert crowded.loaded == 1


def test_delivery_to_an_unknown_correlation_reads_a_bounded_number_of_records(crowded):
    crowded.loaded = 0
    with pytest.raises(WorkflowNotFoundError):
        PairWorkflow.deliver_event("left_arrived", correlation={"pair_id": "ghost"}, payload={}, store=crowded)
    assert crowded.loaded <= 100


class _OlderProtocolStore:
    """A store written before ``correlations()`` existed: everything but that method, delegated."""

    def __init__(self, inner: MemoryStore) -> None:
        self._inner = inner

    def __getattr__(self, name):
        if name == "correlations":
            raise AttributeError(name)
        return getattr(self._inner, name)


def test_the_nearest_hint_falls_back_to_list_on_a_store_without_correlations():
    inner = MemoryStore()
    for pair in ("p-1", "p-2"):
        PairWorkflow.start(pair_id=pair, store=inner)
    older = _OlderProtocolStore(inner)
    with pytest.raises(WorkflowNotFoundError) as found:
        PairWorkflow.deliver_event("left_arrived", correlation={"pair_id": "p-3"}, payload={}, store=older)
    assert sorted(n["correlation"]["pair_id"] for n in found.value.context["nearest"]) == ["p-1", "p-2"]
    with pytest.raises(WorkflowNotFoundError) as direct:
        PairWorkflow.deliver_event("left_arrived", correlation={"pair_id": "p-3"}, payload={}, store=inner)
    assert direct.value.context["nearest"] == found.value.context["nearest"]  # same hint either way
