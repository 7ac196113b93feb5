"""A node with several dependencies reads them in order and computes a missing one on the spot when it is a plain
function of one dependency that has succeeded (a fan's leaves), instead of giving it a turn of its own. What
users see must not change: the same events in the same order, the same states, versions, failures and values as
the general path takes (a subscriber sends every node through it), and the same ``running`` nodes meanwhile."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import igniter_nb as ig


def log(contract: ig.Contract) -> list[tuple[Any, ...]]:
    own = contract.execution_id
    return [(e.type, e.node, e.status, repr(dict(e.payload)).replace(own, "EX")) for e in contract.events]


def states(contract: ig.Contract) -> dict[str, tuple[Any, ...]]:
    own = contract.execution_id
    return {name: (s.status, s.value if s.succeeded else None, str(s.error).replace(own, "EX") if s.error else None,
                   s.version)
            for name, s in contract.execution.states.items()}


def both(cls: type[ig.Contract], steps: list[Any], **inputs: Any) -> tuple[ig.Contract, ig.Contract]:
    """``cls`` run twice through ``steps`` (output names to read, or input dicts to update): plainly (the fast
    paths) and with a subscriber (every node through the general path)."""
    plain, heard = cls(**inputs), cls(**inputs)
    heard.subscribe(lambda event: None)
    for contract in (plain, heard):
        for step in steps:
            if isinstance(step, dict):
                contract.update_inputs(**step)
            else:
                try:
                    if contract.execution.graph.has_output(step):
                        contract.result[step]
                    else:  # a node that is not an output: resolved alone (no lifecycle events)
                        contract.execution.resolve(step)
                except ig.IgniterError:
                    pass
    return plain, heard


def function(params: str, body: str, **names: Any) -> Any:
    """``lambda params: body``: parameters named after the dependencies, as the fast path calls them by position."""
    return eval(f"lambda {params}: {body}", names)  # test-only: functions with the dependencies' names


def leaf(i: int) -> Any:
    def fn(x: int) -> Any:
        if i == 3 and x < 0:
            raise ValueError(f"leaf {i} refuses {x}")
        return [x, i] if i == 4 else x + i

    fn.__name__ = f"f{i}"
    return fn


class Fan(ig.Contract):
    def define(c):
        c.input("x", type=int)
        for i in range(1, 7):
            c.compute(f"f{i}", depends_on=["x"], call=leaf(i))
        c.compute("sink", depends_on=[f"f{i}" for i in range(1, 7)], call=lambda **kw: list(kw.items()))
        c.compute("pair", depends_on=["f1", "f2"], call=lambda f1, f2: (f1, f2))  # by position
        c.output("sink")
        c.output("pair")


def test_a_fan_computes_its_leaves_in_order_with_the_events_the_general_path_emits():
    plain, heard = both(Fan, ["sink"], x=1)
    assert plain.result.sink == [("f1", 2), ("f2", 3), ("f3", 4), ("f4", [1, 4]), ("f5", 6), ("f6", 7)]
    assert plain.execution.bus.pinned  # f4's list is held by a record until the log is built
    assert log(plain) == log(heard)
    assert [(t, n) for t, n, _, _ in log(plain)][:8] == [
        ("execution_started", None), ("node_started", "sink"), ("node_started", "f1"), ("node_started", "x"),
        ("node_succeeded", "x"), ("node_succeeded", "f1"), ("node_started", "f2"), ("node_succeeded", "f2"),
    ]
    assert states(plain) == states(heard)


def test_a_leaf_that_fails_fails_the_fan_as_the_general_path_does():
    plain, heard = both(Fan, ["sink", "pair"], x=-1)
    assert states(plain) == states(heard)
    assert plain.execution.states["f3"].failed and plain.execution.states["sink"].failed
    assert "leaf 3 refuses -1" in str(plain.execution.states["sink"].error)
    assert plain.execution.states["f4"].succeeded and plain.execution.states["f6"].succeeded  # all resolved
    assert plain.result.pair == (0, 1)
    assert log(plain) == log(heard)


def test_a_fan_resolved_again_after_an_update_has_the_same_versions_and_events():
    plain, heard = both(Fan, ["sink", "pair", {"x": 5}, "sink", {"x": -2}, "pair", "sink", {"x": 2}, "sink"], x=1)
    assert states(plain) == states(heard)
    assert plain.execution.states["f1"].version == heard.execution.states["f1"].version == 7
    assert log(plain) == log(heard)
    assert plain.result.sink[0] == ("f1", 3)


def test_a_fan_resolved_partly_before_reads_what_is_there():
    plain, heard = both(Fan, ["f2", "f5", "pair", "sink"], x=1)
    assert states(plain) == states(heard)
    assert log(plain) == log(heard)


def test_a_leaf_computed_on_the_spot_is_running_and_so_is_the_fan():
    seen: list[set[str]] = []
    holder: list[ig.Contract] = []

    def watch(x: int) -> int:
        seen.append(set(holder[0].execution.resolver.running))
        return x

    def define(c: Any) -> None:
        c.input("x")
        c.compute("a", depends_on=["x"], call=lambda x: x)
        c.compute("b", depends_on=["x"], call=watch)
        c.compute("sink", depends_on=["a", "b"], call=lambda a, b: a + b)
        c.output("sink")

    contract = ig.contract(define, name="Watch")(x=2)
    holder.append(contract)
    assert contract.result.sink == 4
    assert seen == [{"sink", "b"}]
    assert contract.execution.resolver.running == set()


def test_a_leaf_returning_a_generator_or_a_deferred_value_settles_as_usual():
    def define(c: Any) -> None:
        c.input("x")
        c.compute("a", depends_on=["x"], call=lambda x: x)
        c.compute("gen", depends_on=["x"], call=lambda x: (i for i in range(x)))
        c.compute("later", depends_on=["x"], call=lambda x: ig.DeferredResult(token=f"t{x}"))
        c.compute("s1", depends_on=["a", "gen"], call=lambda a, gen: a)
        c.compute("s2", depends_on=["a", "later"], call=lambda a, later: a)
        c.output("s1")
        c.output("s2")

    cls = ig.contract(define, name="Settle")
    plain, heard = both(cls, ["s1", "s2"], x=2)
    assert states(plain) == states(heard)
    assert log(plain) == log(heard)
    assert "generator" in str(plain.execution.states["s1"].error)
    assert plain.execution.states["s2"].status == "pending"


def test_a_leaf_reading_its_own_contract_resolves_the_other_node_once():
    holder: list[ig.Contract] = []

    def define(c: Any) -> None:
        c.input("x")
        c.compute("a", depends_on=["x"], call=lambda x: x)
        c.compute("b", depends_on=["x"], call=lambda x: holder[0].result.c + x)  # resolves c, nested
        c.compute("c", depends_on=["x"], call=lambda x: x * 10)
        c.compute("sink", depends_on=["a", "b", "c"], call=lambda a, b, c: a + b + c)
        c.output("sink")
        c.output("c")

    contract = ig.contract(define, name="Nested")(x=1)
    holder.append(contract)
    assert contract.result.sink == 1 + 11 + 10
    assert contract.execution.states["c"].version == 1
    assert [e.node for e in contract.events if e.type == "node_started"] == ["sink", "a", "x", "b", "c"]


class FanOfChains(ig.Contract):
    def define(c):
        c.input("x", type=int)
        for i in range(1, 5):
            c.compute(f"g{i}", depends_on=["x"], call=function("x", f"x * {i}"))
            c.compute(f"h{i}", depends_on=[f"g{i}"], call=function(f"g{i}", f"g{i} + {i}"))
        c.compute("sink", depends_on=[f"h{i}" for i in range(1, 5)], call=lambda **kw: sorted(kw.values()))
        c.output("sink")


def test_a_fan_of_chains_pushes_the_rest_at_once_with_the_same_events():
    plain, heard = both(FanOfChains, ["sink", {"x": 3}, "sink"], x=1)
    assert plain.result.sink == [4, 8, 12, 16]
    assert states(plain) == states(heard)
    assert log(plain) == log(heard)


@st.composite
def fans(draw: Any) -> tuple[list[tuple[str, tuple[str, ...], int]], list[Any]]:
    """Random nodes over inputs i0, i1: one-dependency leaves (the fast path's candidates) and nodes with several
    dependencies, some failing for some inputs; then reads and updates."""
    names = ["i0", "i1"]
    nodes = []
    for k in range(draw(st.integers(min_value=1, max_value=10))):
        many = draw(st.booleans())
        deps = draw(st.lists(st.sampled_from(names), min_size=2 if many else 1, max_size=4 if many else 1,
                             unique=True))
        nodes.append((f"n{k}", tuple(deps), draw(st.integers(min_value=-3, max_value=3))))
        names.append(f"n{k}")
    computes = [name for name, _, _ in nodes]
    steps = draw(st.lists(st.one_of(st.sampled_from(computes),
                                    st.fixed_dictionaries({"i0": st.integers(min_value=-3, max_value=3)})),
                          min_size=1, max_size=6))
    return nodes, steps


def fn_of(deps: tuple[str, ...], weight: int) -> Any:
    if len(deps) == 1:
        def one(v: int) -> int:
            if v == weight:
                raise ValueError(f"{v} is the weight")
            return v + weight
        return function(deps[0], f"one({deps[0]})", one=one)
    return function(", ".join(deps), f"sum(({', '.join(deps)},)) * {weight} % 101")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fans())
def test_random_fans_behave_as_the_general_path(case: Any) -> None:
    nodes, steps = case

    def define(c: Any) -> None:
        c.input("i0", type="integer")
        c.input("i1", type="integer")
        for name, deps, weight in nodes:
            c.compute(name, depends_on=list(deps), call=fn_of(deps, weight))
        for name, _, _ in nodes:
            c.output(name)

    cls = ig.contract(define, name="RandomFan")
    plain, heard = both(cls, steps, i0=1, i1=2)
    assert states(plain) == states(heard)
    assert log(plain) == log(heard)


@pytest.mark.parametrize("n", [3, 50])
def test_a_fan_starts_its_leaves_in_order(n: int) -> None:
    lines: list[str] = []
    for i in range(1, n):
        lines += [f"def f{i}(x):", f"    return x + {i}"]
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines) + "\n", "<fan>", "exec"), namespace)

    def define(c: Any) -> None:
        c.input("x")
        for i in range(1, n):
            c.compute(namespace[f"f{i}"])
        c.compute("sink", depends_on=[f"f{i}" for i in range(1, n)], call=lambda **kw: sum(kw.values()))
        c.output("sink")

    contract = ig.contract(define, name="SmallFan")(x=0)
    assert contract.result.sink == sum(range(1, n))
    assert [e.node for e in contract.events if e.type == "node_started"] == ["sink", "f1", "x",
                                                                               *[f"f{i}" for i in range(2, n)]]
