"""The collector does not walk a run's growing lists (issue 13, target 1), pinned by looking at what it walks.

A resolve makes one object the collector tracks per node (its state), so a young collection comes every ~700
nodes and a middle one every ~7,000. Whatever list is in a generation being collected is walked whole: a list
made when the run starts (the resolver's stack, the recorded events) holds up to two entries per node by then
(300,000 at 100,000 nodes, each visit a cache miss). These lists are made ahead (``events/aged.py``), so they are
in the oldest generation before they grow. (Timings are in docs/performance.md; unit tests assert no timing.)
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.events.aged import aged_list
from tests.runtime.test_resolve_scale import chain, fan


def longest_list_walked(cls: type[ig.Contract], out: str) -> tuple[int, int]:
    """(collections during ``cls(x=1).result[out]``, the most entries of a list in a generation one of them
    walked), read from ``gc.callbacks`` as each collection starts."""
    seen = [0, 0]

    def on_collect(phase: str, info: dict[str, Any]) -> None:
        if phase != "start":
            return
        seen[0] += 1
        for generation in range(info["generation"] + 1):
            for obj in gc.get_objects(generation):
                if type(obj) is list and len(obj) > seen[1]:
                    seen[1] = len(obj)

    gc.collect()
    gc.callbacks.append(on_collect)
    try:
        cls(x=1).result[out]
    finally:
        gc.callbacks.remove(on_collect)
    return seen[0], seen[1]


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        if not was:
            gc.disable()


@pytest.mark.parametrize(("make", "out"), [(chain, "n9999"), (fan, "sink")])
def test_no_list_that_grows_with_the_graph_is_walked_by_the_collections_during_a_run(
    make: Any, out: str, collector_on: None
) -> None:
    cls = make(10_000)
    cls(x=1).result[out]  # the first run takes lists made before the collections of the compile
    collections, longest = longest_list_walked(cls, out)
    assert collections >= 10_000 // gc.get_threshold()[0] // 2  # young collections ran (a tracked state per node)
    assert longest < 1_000  # the stack and the recorded events (20,000 and 20,000 entries at the end) were not


def test_an_aged_list_is_a_new_empty_list_each_time_made_before_it_is_taken() -> None:
    taken = [aged_list() for _ in range(20)]
    assert all(type(lst) is list and lst == [] for lst in taken)
    assert len({id(lst) for lst in taken}) == 20
    gc.collect()  # what waits now is in the oldest generation
    lst = aged_list()
    assert not any(obj is lst for generation in (0, 1) for obj in gc.get_objects(generation))
