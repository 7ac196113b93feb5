"""The baselines ``bench/core.py`` prints its figures against compute what the contracts compute: a floor that
computed something else (or less) would make every ratio against it meaningless."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from _core_graphs import lazy_resolver, least_loop, module_graph


@pytest.mark.parametrize("kind", ["chain", "fan"])
@pytest.mark.parametrize("n", [3, 50])
def test_the_least_loop_and_the_lazy_resolver_compute_the_contracts_result(kind: str, n: int) -> None:
    graph = module_graph(kind, n)
    contract = ig.contract(graph.define, name=f"Bench{kind.title()}{n}")
    for x in (1, 7):
        expected = contract(x=x).result[graph.output]
        assert lazy_resolver(graph.spec)({"x": x}, graph.output) == expected
        assert least_loop(graph.spec)({"x": x}, graph.output) == expected


def test_the_least_loop_calls_every_function_once() -> None:
    # (the counting wrappers take ``**kwargs``, so the loop treats every spec as a fan: which this one is)
    graph = module_graph("fan", 20)
    calls: list[str] = []

    def counted(name: str, fn: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return fn(*args, **kwargs)

        return call

    spec = [(name, counted(name, fn), deps) for name, fn, deps in graph.spec]
    least_loop(spec)({"x": 2}, graph.output)
    assert sorted(calls) == sorted(name for name, _, _ in graph.spec)
