"""A memory-store delivery does only what it changes (issue 13 target 4, branch mem-fast), pinned by counting and by
equality with the general paths: the events it adds go to the store as rows (no event dict is built on the
delivery path; the same dicts come back when the log is read), the calls a delivery makes do not grow with nodes
it does not touch, a registered class's plain data is encoded without the full encoder, and a tagged value is
decoded with one call per container."""

from __future__ import annotations

import dataclasses
import marshal
import sys
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.events.event import Event
from igniter_nb.runtime import codec
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.event_chunks import NO_EVENTS, EventChunks, event_row
from igniter_nb.runtime.snapshot import _encode_event, _event_rows
from igniter_nb.runtime.status import Status
from igniter_nb.stores import MemoryStore
from tests.workflow.wf_contracts import PairWorkflow, declare_pair


def _calls(fn: Callable[[], Any], wanted: Callable[[Any], bool] = lambda code: True) -> int:
    """How many Python-level calls (generator resumptions included) running ``fn()`` makes of code objects
    ``wanted`` accepts."""
    count = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event == "call" and wanted(frame.f_code):
            count += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count


def _lines(fn: Callable[[], Any]) -> int:
    """How many lines of Python running ``fn()`` executes (a loop's body counts once per pass)."""
    count = 0

    def trace(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return trace

    sys.settrace(trace)
    try:
        fn()
    finally:
        sys.settrace(None)
    return count


def _named(name: str) -> Callable[[Any], bool]:
    return lambda code: code.co_name == name


def test_a_delivery_builds_no_event_dict_and_its_chunk_holds_rows() -> None:
    store = MemoryStore()
    wf = PairWorkflow.start(pair_id="r-1", store=store)

    def deliver() -> None:
        PairWorkflow.deliver_event("left_arrived", correlation={"pair_id": "r-1"}, payload={"n": 1}, store=store)

    assert _calls(deliver, _named("_encode_event")) == 0
    versions = store._executions[wf.execution_id]
    chunk = versions[-1].events.chunks[-1]  # type: ignore[union-attr]
    rows = marshal.loads(chunk)
    assert type(rows) is tuple and all(type(r) is tuple for r in rows)
    events = store.fetch(wf.execution_id)["events"]
    assert rows == tuple(event_row(e) for e in events[-len(rows):])
    # the log the contract holds, encoded the general way, is what the store gives back
    contract = PairWorkflow.deliver_event("right_arrived", correlation={"pair_id": "r-1"}, payload={"n": 2},
                                          store=store)
    assert store.fetch(wf.execution_id)["events"] == [_encode_event(e) for e in contract.events]


class _Odd:
    """Not JSON, no codec: an event payload holding it is stored as unencodable."""


def _events() -> list[Event]:
    return [
        Event(1, "node_started", "x", "a", "a", "running", MappingProxyType({}), 1.5),
        Event(2, "node_succeeded", "x", "a", "a", Status.SUCCEEDED, {}, 2.0),
        Event(3, "custom", "x", None, None, None, {"k": [1, {"d": None}], "s": "t"}, 3.25),
        Event(4, "custom", "x", "b", "b", Status.WAITING, MappingProxyType({"m": 1}), 4.0),
        Event(5, "custom", "x", "b", "b", "failed", {"when": (1, 2)}, 5.0),  # tagged (a tuple)
        Event(6, "custom", "x", "b", "b", "failed", {"odd": _Odd()}, 6.0),  # unencodable
    ]


def test_row_chunks_read_back_as_the_event_dicts_the_general_path_builds() -> None:
    events = _events()
    dicts = [_encode_event(e) for e in events]
    assert dicts[4]["tagged"] is True and dicts[5]["payload"] == {"unencodable": True}
    chunks = NO_EVENTS.extended_rows(_event_rows(events))
    assert chunks.count == 6 and chunks.last_seq == 6
    loaded = chunks.load()
    assert loaded == dicts
    assert [list(e) for e in loaded] == [list(d) for d in dicts]  # the same keys in the same order
    assert [event_row(d) for d in dicts] == _event_rows(events)
    # dict chunks (extended) and row chunks read back as one list, in order; nothing is shared between reads
    mixed = EventChunks().extended(dicts[:2]).extended_rows(_event_rows(events[2:]))
    assert mixed.load() == dicts
    assert mixed.load()[2]["payload"] is not mixed.load()[2]["payload"]


class _Graph:
    """Contracts like PairWorkflow with ``extra`` compute nodes no output reads (never resolved)."""

    @staticmethod
    def build(extra: int) -> type[ig.Contract]:
        class Wide(ig.Contract):
            def define(c):
                declare_pair(c)
                for i in range(extra):
                    c.compute(f"unused{i:04d}", depends_on=["pair_id"], call=lambda pair_id: pair_id)

        Wide.__name__ = Wide.__qualname__ = f"Wide{extra}"
        return Wide


def _delivery_lines(cls: type[ig.Contract]) -> tuple[int, int]:
    store = MemoryStore()
    for i in range(3):  # warm: caches per graph filled
        cls.start(pair_id=f"w-{i}", store=store)
        cls.deliver_event("left_arrived", correlation={"pair_id": f"w-{i}"}, payload={"n": 1}, store=store)
        cls.deliver_event("right_arrived", correlation={"pair_id": f"w-{i}"}, payload={"n": 2}, store=store)
    pair = {"pair_id": f"p-{cls.__name__}"}  # (a correlation no cache has seen, for either graph)
    cls.start(pair_id=pair["pair_id"], store=store)
    left = _lines(lambda: cls.deliver_event("left_arrived", correlation=pair, payload={"n": 1}, store=store))
    right = _lines(lambda: cls.deliver_event("right_arrived", correlation=pair, payload={"n": 2}, store=store))
    assert store.fetch(store.find_latest_by_correlation(cls.compiled_graph().name, pair))["status"] == "succeeded"
    return left, right


def test_the_work_of_a_delivery_does_not_grow_with_nodes_it_does_not_touch() -> None:
    small, large = _delivery_lines(_Graph.build(5)), _delivery_lines(_Graph.build(400))
    assert small == large  # lines executed (each await lookup used to walk every node of the graph)


def test_await_nodes_are_found_once_per_graph() -> None:
    graph = _Graph.build(50).compiled_graph()
    first = graph.await_nodes
    assert [n.name for n in first] == ["left", "right"]
    assert graph.await_nodes is first
    assert _calls(lambda: graph.await_nodes, _named("<genexpr>")) == 0


@dataclasses.dataclass
class _Money:
    amount: int
    currency: str


def _money_codec() -> None:
    codec.register_codec("test_money", _Money, lambda m: {"amount": m.amount, "currency": m.currency},
                         lambda d: _Money(**d))


@pytest.fixture()
def money() -> Any:
    _money_codec()
    yield _Money
    codec.unregister_codec("test_money")


def test_a_registered_class_with_plain_data_is_encoded_without_the_full_encoder(money: Any) -> None:
    deferred = DeferredResult("t-1", {"event": "e", "n": [1, 2]}, "node", None, "e")
    for value in (deferred, money(3, "EUR")):
        encoded = codec.encode(value)
        assert encoded == codec._Encoder(None).encode(value, "", 0)  # what the full encoder gives
        assert _calls(lambda v=value: codec.encode(v), _named("other")) == 0
        assert codec.decode(encoded) == value
    # data that is not plain (a tuple inside) still goes through the full encoder, and gives what it gave
    tagged = DeferredResult("t-2", {"pair": (1, 2)}, "node")
    assert _calls(lambda: codec.encode(tagged), _named("other")) == 1
    assert codec.encode(tagged) == codec._Encoder(None).encode(tagged, "", 0)
    assert codec.decode(codec.encode(tagged)) == tagged


def test_a_failing_registered_codec_still_reports_where() -> None:
    class Broken:
        pass

    def fail(value: Any) -> Any:
        raise RuntimeError("no")

    codec.register_codec("test_broken", Broken, fail, lambda d: Broken())
    try:
        with pytest.raises(ig.SnapshotEncodingError, match="'test_broken' codec failed") as info:
            codec.encode(Broken(), node="n", path="states.n.value")
        assert info.value.context["path"] == "states.n.value"
    finally:
        codec.unregister_codec("test_broken")


def test_a_tagged_value_is_decoded_with_one_call_per_container() -> None:
    deferred = DeferredResult("t-1", {"event": "e", "inner": {"k": [1, "x"]}}, "node", None, "e")
    encoded = codec.encode(deferred)
    # the tagged dict, its value dict, its payload, the payload's inner dict and list: no call per scalar leaf
    assert _calls(lambda: codec.decode(encoded), _named("_decode_fast")) == 5
    assert codec.decode(encoded) == deferred
    plain = {"a": 1, "b": [1, 2, {"c": "d"}], "e": None}
    assert codec.decode(plain) == plain and codec.decode(plain) is not plain
