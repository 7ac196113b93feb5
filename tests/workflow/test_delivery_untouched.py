"""A memory-store delivery encodes and copies only what it changed (issue 13 target 4, branch memdeliver), pinned by
counting calls: a workflow with many resolved nodes the delivery does not touch costs the same number of encoder,
copy and value-building calls as one with a few."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from igniter_nb.workflow import quiet
from tests.workflow.wf_contracts import declare_pair

# Encoding, copying and building values. (Decoding is not among them: a restore still turns every stored state
# into a ``NodeState``, checking a plain value for tags — the execution holds its states in a plain dict.)
_COUNTED = ("_plain_copy", "_encode_state", "encode", "_decode_fast", "from_dict", "to_dict", "_row_dict",
            "_encode_event")


def _counts(fn: Callable[[], Any]) -> dict[str, int]:
    """How many times running ``fn()`` calls each of the ``_COUNTED`` functions of igniter_nb."""
    found = dict.fromkeys(_COUNTED, 0)

    def profile(frame: Any, event: str, arg: Any) -> None:
        code = frame.f_code
        if event == "call" and code.co_name in found and "igniter_nb" in code.co_filename:
            found[code.co_name] += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return found


def _wide(extra: int) -> type[ig.Contract]:
    """Two awaits joined by one compute, and ``extra`` resolved computes (dict, list and scalar values) that
    an output reads from the start: a delivery touches neither them nor their states."""

    class Wide(ig.Contract):
        def define(c):
            declare_pair(c)
            for i in range(extra):
                kind = i % 3
                if kind == 0:
                    c.compute(f"side{i:03d}", depends_on=["pair_id"], call=lambda pair_id: {"id": pair_id, "n": [1, 2]})
                elif kind == 1:
                    c.compute(f"side{i:03d}", depends_on=["pair_id"], call=lambda pair_id: [pair_id, {"k": 1}])
                else:
                    c.compute(f"side{i:03d}", depends_on=["pair_id"], call=lambda pair_id: pair_id.upper())
                c.output(f"side{i:03d}")

    Wide.__name__ = Wide.__qualname__ = f"WideResolved{extra}"
    return Wide


def _delivery_counts(cls: type[ig.Contract]) -> tuple[dict[str, int], dict[str, int]]:
    store = MemoryStore()
    for i in range(2):  # warm: caches per graph filled
        cls.start(pair_id=f"w-{i}", store=store)
        cls.deliver_event("left_arrived", correlation={"pair_id": f"w-{i}"}, payload={"n": 1}, store=store)
        cls.deliver_event("right_arrived", correlation={"pair_id": f"w-{i}"}, payload={"n": 2}, store=store)
    pair = {"pair_id": "p-1"}
    started = cls.start(pair_id="p-1", store=store)
    assert len(store.fetch(started.execution_id)["states"]) > 4 or cls.__name__.endswith("0")
    left = _counts(lambda: cls.deliver_event("left_arrived", correlation=pair, payload={"n": 1}, store=store))
    right = _counts(lambda: cls.deliver_event("right_arrived", correlation=pair, payload={"n": 2}, store=store))
    snapshot = store.fetch(started.execution_id)
    assert snapshot["status"] == "succeeded"
    assert snapshot["states"]["joined"]["value"] == {"left": {"n": 1}, "right": {"n": 2}}
    return left, right


def test_a_delivery_encodes_only_the_nodes_it_touches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quiet, "GENERAL_ONLY", True)  # (the general path; a quiet first delivery encodes no state)
    small, large = _delivery_counts(_wide(3)), _delivery_counts(_wide(60))
    assert small == large, (small, large)
    left, right = small
    assert left["_encode_state"] == 2 and right["_encode_state"] == 2  # the await and the join, no other state
    assert left["_row_dict"] == 0 and left["_encode_event"] == 0  # the new events go to the store as rows
