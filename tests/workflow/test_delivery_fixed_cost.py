"""The fixed work of a delivery (issue 13 target 4), pinned by counting and by equality with what the slower,
general paths give: the codec's plain copy takes scalar leaves without a call per leaf, an execution's targets
are computed once per compiled graph, a well-formed delivered correlation skips the checks that explain a bad
one, and a save does not run an import statement on every call."""

from __future__ import annotations

import dis
import enum
import sys
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.runtime import codec
from igniter_nb.stores import MemoryStore
from igniter_nb.workflow.correlation import check_delivery_correlation
from tests.workflow.wf_contracts import PairWorkflow


class _Level(enum.IntEnum):
    LOW = 1


class _Key(str):
    pass


def _calls_of(fn: Any, name: str, *args: Any) -> int:
    """How many Python-level calls of the function called ``name`` running ``fn(*args)`` makes."""
    count = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event == "call" and frame.f_code.co_name == name:
            count += 1

    sys.setprofile(profile)
    try:
        fn(*args)
    finally:
        sys.setprofile(None)
    return count


def test_plain_copy_calls_itself_once_per_container_not_per_leaf() -> None:
    value = {"a": 1, "b": "x", "c": True, "d": None, "e": [1, 2, 3, {"f": "g", "h": [4, 5]}], "i": 1.5}
    # containers: the dict, the list, the inner dict, the inner list (+1 for the float leaf, checked by the call)
    assert _calls_of(codec.plain_copy, "_plain_copy", value) == 5
    assert _calls_of(codec.is_plain, "is_plain", value) == 5


@pytest.mark.parametrize("value", [
    {"a": 1, "b": [1, "x", None, True, 2.5, {"c": []}]},
    {"level": _Level.LOW},  # an int subclass is not plain: tagged by the encoder
    {"k": [1, float("nan")]},
    {"__ig__": "x"},
    {1: "a"},
    [[[[[[1]]]]]],
    {"t": (1, 2)},
    [1] * 3 + ["s"] + [{"deep": [0] * 2}],
])
def test_plain_copy_and_plain_check_agree_with_the_encoder(value: Any) -> None:
    copied = codec.plain_copy(value)
    assert (copied is not None) is codec.is_plain(value)
    if copied is not None:
        assert copied == value and copied is not value
        assert codec.encode(value) == value
        if isinstance(value, dict):
            assert all(copied[k] is not v for k, v in value.items() if isinstance(v, (dict, list)))
    else:
        assert codec.TAG in repr(codec.encode(value))  # the encoder tags something: a plain copy would be wrong


def test_nesting_past_64_levels_is_left_to_the_full_encoder() -> None:
    deep: Any = 1
    for _ in range(70):
        deep = [deep]
    assert codec.plain_copy(deep) is None and not codec.is_plain(deep)
    shallow: Any = "leaf"
    for _ in range(60):
        shallow = {"x": shallow}
    assert codec.plain_copy(shallow) == shallow and codec.is_plain(shallow)


def test_an_executions_targets_are_computed_once_per_compiled_graph() -> None:
    store = MemoryStore()
    first = PairWorkflow.start(pair_id="t-1", store=store)
    second = PairWorkflow.start(pair_id="t-2", store=store)
    graph = PairWorkflow.compiled_graph()
    expected = tuple(dict.fromkeys(o.source_root for o in graph.outputs))
    assert first.execution.targets() == expected
    assert first.execution.targets() is second.execution.targets()  # one tuple, not one per lifecycle
    assert graph.runtime_cache["all_targets"] is first.execution.targets()  # kept on the graph, freed with it
    name = graph.outputs[0].name
    assert first.execution.targets([name]) == (graph.outputs[0].source_root,)
    with pytest.raises(KeyError, match="no output 'no_such_output'"):  # (as before: names are still checked)
        first.execution.targets(["no_such_output"])


def test_a_well_formed_correlation_is_copied_like_any_other() -> None:
    graph = PairWorkflow.compiled_graph()
    (key,) = graph.correlation_keys
    given = {key: "o-1"}
    found = check_delivery_correlation(graph, given)
    assert found == given and found is not given
    odd = check_delivery_correlation(graph, {_Key(key): "o-1"})  # a str subclass key becomes a plain str
    assert [type(k) for k in odd] == [str] and odd == given


@pytest.mark.parametrize("correlation, says", [
    ({}, "missing"),
    ({"pair_id": "  "}, "blank"),
    ({"pair_id": None}, "blank"),
    ({"pair_id": "o", "other": 1}, "unknown"),
    ({"other": 1}, "missing"),
])
def test_a_wrong_correlation_is_still_explained(correlation: dict[str, Any], says: str) -> None:
    graph = PairWorkflow.compiled_graph()
    assert graph.correlation_keys == ("pair_id",)
    with pytest.raises(ig.WorkflowNotFoundError, match=says):
        check_delivery_correlation(graph, correlation)


def test_a_delivery_runs_no_import_statement_on_its_save_path() -> None:
    # an import statement costs ~1 us even for a loaded module; what these call from other layers is held once
    from igniter_nb.dsl.contract import Contract
    from igniter_nb.runtime import store_runner
    from igniter_nb.workflow import engine

    per_delivery = [store_runner.persist, store_runner._save, engine.save_workflow, engine.deliver_event,
                    engine.refresh_status, Contract.deliver_event.__func__]
    for fn in per_delivery:
        assert [i.argval for i in dis.get_instructions(fn) if i.opname == "IMPORT_NAME"] == [], fn.__qualname__
    store = MemoryStore()
    PairWorkflow.start(pair_id="i-1", store=store)
    wf = PairWorkflow.deliver_event("left_arrived", correlation={"pair_id": "i-1"}, payload={"n": 1}, store=store)
    assert store.record(wf.execution_id).status == "waiting"
