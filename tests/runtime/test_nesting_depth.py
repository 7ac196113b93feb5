"""Child contracts nest to any depth: status, errors, to_dict, diagnostics, resume and updates never hit
Python's recursion limit, however many compositions, branches and collections deep (issue 11, point 10)."""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

import pytest

import igniter_nb as ig


class AskDeep(ig.Executor):
    def call(self, x):  # type: ignore[no-untyped-def]
        return self.defer(token=f"deep-{x}")


def _leaf(c: Any, leaf: str) -> None:
    c.input("x")
    if leaf == "divide":
        c.compute("y", depends_on=["x"], call=lambda x: 10 / x)
    else:
        c.compute("y", depends_on=["x"], call=AskDeep)
    c.output("y")


def chain(depth: int, leaf: str, kinds: tuple[str, ...] = ("composition",)) -> type[ig.Contract]:
    """``depth`` levels of contracts, each running the previous one as a child (composition, branch or a
    one-item collection, cycling through ``kinds``); the innermost divides by x or defers."""
    tag = f"{leaf}{depth}{''.join(k[0] for k in kinds)}"
    prev: Any = None
    for level in range(depth):
        kind = kinds[level % len(kinds)]

        def define(c: Any, prev: Any = prev, kind: str = kind) -> None:
            if prev is None:
                return _leaf(c, leaf)
            c.input("x")
            if kind == "composition":
                c.compose("child", contract=prev, inputs={"x": "x"})
                c.output("y", source="child.y")
            elif kind == "branch":
                c.branch("child", selector="x", cases=[(lambda v: True, prev)], inputs={"x": "x"})
                c.output("y", source="child.y")
            else:
                c.compute("items", depends_on=["x"], call=lambda x: [{"x": x}])
                c.collection("child", source="items", each=prev, key="x")
                c.compute("y", depends_on=["child"], call=lambda child: next(iter(child)).result.y)
                c.output("y")
            c.output("inner", source="child")
            return None

        prev = type(f"Deep_{tag}_{level}", (ig.Contract,), {"define": define})
    return prev  # type: ignore[no-any-return]


def _deep_chain_passes_the_recursion_limit(depth: int) -> bool:
    return depth * 8 > sys.getrecursionlimit()


def test_status_and_errors_of_a_150_deep_composition_never_raise():
    assert _deep_chain_passes_the_recursion_limit(150)
    k = chain(150, "divide")(x=0)
    assert k.status == "failed"
    errors = k.result.errors
    assert set(errors) == {"child", "y", "inner"} or "child" in errors
    err = k.first_error()
    assert isinstance(err, ig.ResolutionError) and "ZeroDivisionError" in str(err)
    assert k.result.to_dict()["y"]["status"] == "failed"
    assert k.execution.to_dict()["status"] == "failed"
    assert k.diagnostics.to_dict()
    assert k.states["child"]["status"] == "failed"
    assert k.result.explain("y")
    k.update_inputs(x=5)
    assert k.status == "succeeded" and k.result.y == 2.0
    assert k.result.to_dict()["y"] == 2.0


def test_pending_150_levels_down_resumes_by_token_L08():
    k = chain(150, "defer")(x=3)
    assert k.status == "pending"
    assert k.first_deferred().token == "deep-3"
    k.resume_by_token("deep-3", value=42)
    assert k.status == "succeeded" and k.result.y == 42
    k.update_inputs(x=4)  # new inputs all the way down: new children, a new token
    assert k.status == "pending" and k.first_deferred().token == "deep-4"
    k.resume("child", 7)
    assert k.result.y == 7


def test_branches_and_collections_nest_150_deep():
    k = chain(150, "defer", ("composition", "branch", "collection"))(x=1)
    assert k.status == "pending"
    k.resume_by_token("deep-1", value=9)
    assert k.status == "succeeded" and k.result.y == 9
    assert k.result.to_dict()["y"] == 9


def test_400_levels_resolve_resume_and_report_on_any_thread():
    outcome: dict[str, Any] = {}

    def run() -> None:  # also from a thread that is not the main thread
        k = chain(400, "defer")(x=2)
        outcome["status"] = k.status
        k.resume_by_token("deep-2", value=1)
        outcome["after"] = (k.status, k.result.y, len(k.result.errors))

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=60)
    assert outcome == {"status": "pending", "after": ("succeeded", 1, 0)}


def test_300_levels_snapshot_to_json_restore_and_resume():
    cls = chain(300, "defer")
    k = cls(x=4)
    assert k.status == "pending"
    restored = cls.restore(json.loads(json.dumps(k.snapshot())))
    assert restored.status == "pending"
    restored.resume_by_token("deep-4", value=9)
    assert (restored.status, restored.result.y) == ("succeeded", 9)


def test_a_snapshot_nested_beyond_what_can_be_copied_is_a_clear_error():
    k = chain(1000, "defer")(x=5)
    assert k.status == "pending"
    with pytest.raises(ig.SnapshotEncodingError, match="nested too deeply") as caught:
        k.snapshot()
    assert caught.value.context["execution_id"] == k.execution_id
