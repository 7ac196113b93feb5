"""What resolving one node costs does not grow with the graph (issue 13, target 1), pinned by counting.

At 100,000 nodes every lookup in a table of that size misses the CPU caches, and every object the collector
tracks brings the next young collection closer: so these tests count, per node, the lookups the resolver makes
in the plan and in the states, and the tracked objects a run leaves, at 1,000 and 10,000 nodes. (Timings are
in docs/performance.md; unit tests assert no timing.)
"""

from __future__ import annotations

import gc
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.compiler.graph import LATER
from igniter_nb.runtime.states import NodeState, States


def chain(n: int) -> type[ig.Contract]:
    """``x`` then ``n - 1`` computes, each a distinct function adding 1 to the one before."""
    lines = ["def n1(x):", "    return x + 1"]
    for i in range(2, n):
        lines += [f"def n{i}(n{i - 1}):", f"    return n{i - 1} + 1"]
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines) + "\n", f"<chain {n}>", "exec"), namespace)  # distinct functions, as users write

    def define(c: Any) -> None:
        c.input("x")
        for i in range(1, n):
            c.compute(namespace[f"n{i}"])
        c.output(f"n{n - 1}")

    return ig.contract(define, name=f"Chain{n}")  # type: ignore[no-any-return]


def fan(n: int) -> type[ig.Contract]:
    """``x``, ``n - 2`` computes reading it, and a sink reading them all."""
    lines: list[str] = []
    for i in range(1, n - 1):
        lines += [f"def f{i}(x):", f"    return x + {i}"]
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines) + "\n", f"<fan {n}>", "exec"), namespace)

    def sink(**kw: int) -> int:
        return sum(kw.values())

    def define(c: Any) -> None:
        c.input("x")
        for i in range(1, n - 1):
            c.compute(namespace[f"f{i}"])
        c.compute("sink", depends_on=[f"f{i}" for i in range(1, n - 1)], call=sink)
        c.output("sink")

    return ig.contract(define, name=f"Fan{n}")  # type: ignore[no-any-return]


class Counting:
    """Counts the lookups and stores made in the dictionary it is mixed into (``ops``)."""

    ops = 0

    def get(self, key: Any, default: Any = None) -> Any:
        self.ops += 1
        return super().get(key, default)  # type: ignore[misc]

    def __getitem__(self, key: Any) -> Any:
        self.ops += 1
        return super().__getitem__(key)  # type: ignore[misc]

    def __setitem__(self, key: Any, value: Any) -> None:
        self.ops += 1
        super().__setitem__(key, value)  # type: ignore[misc]

    def __contains__(self, key: Any) -> bool:
        self.ops += 1
        return super().__contains__(key)  # type: ignore[misc]


class CountingDict(Counting, dict):  # type: ignore[type-arg]
    """A dict that counts the lookups and stores made in it."""


class CountingStates(Counting, States):
    """``execution.states`` counting the lookups and stores made in it, the resolver's raw reads (``stored``) too."""

    def stored(self, key: Any, default: Any = None) -> Any:  # type: ignore[override]
        self.ops += 1
        return dict.get(self, key, default)


def lookups_per_node(cls: type[ig.Contract], n: int) -> tuple[float, float]:
    """(plan lookups, state lookups and stores) per node resolving a fresh contract of ``n`` nodes."""
    contract = cls(x=1)
    ex = contract.execution
    plan = ex.resolver.fast = CountingDict(ex.resolver.fast)
    states = ex.states = CountingStates()
    output = ex.graph.outputs[0].name
    contract.result[output]
    assert len(states) == n
    return plan.ops / n, states.ops / n


def test_a_chain_node_is_not_looked_up_in_the_plan_and_twice_in_the_states_at_any_size():
    small, big = lookups_per_node(chain(1_000), 1_000), lookups_per_node(chain(10_000), 10_000)
    # not in the plan: each entry holds its dependency's (it was once per node, and twice before that; only the
    # target is looked up by name); the states: its dependency on the way down and its new state. (It was 5:
    # itself on the way down and back up and its dependency on each way, which the loop now carries from the
    # turn that looked it up or wrote it.)
    assert small[0] * 1_000 <= 1 and big[0] * 10_000 <= 1
    assert 1.99 <= small[1] <= 2.01 and 1.99 <= big[1] <= 2.01  # (counted: the raw reads too)
    assert abs(big[0] - small[0]) < 0.01 and abs(big[1] - small[1]) < 0.01


def test_a_chain_resolved_again_after_an_update_reads_each_previous_state_for_its_version():
    cls = chain(50)
    contract = cls(x=1)
    assert contract.result.n49 == 50
    contract.update_inputs(x=10)
    ex = contract.execution
    states = ex.states = CountingStates(ex.states)
    assert contract.result.n49 == 59
    # every stale node: looked up on the way down, its dependency, read again on the way back, its new state
    assert states.ops <= 4 * 50 + 2
    assert [states[f"n{i}"].version for i in range(1, 50)] == [3] * 49  # computed, stale, computed again
    assert all(states[f"n{i}"].value == 10 + i and states[f"n{i}"].succeeded for i in range(1, 50))


def test_a_chain_with_a_subscriber_or_a_failure_reads_the_states_written_meanwhile():
    cls = chain(20)
    contract = cls(x=1)
    seen: list[str] = []
    contract.subscribe(lambda event: seen.append(event.type))
    assert contract.result.n19 == 20
    assert seen.count("node_succeeded") == 20

    def broken(n4: int) -> int:
        raise ValueError("no")

    def define(c: Any) -> None:
        c.input("x")
        c.compute("n4", depends_on=["x"], call=lambda x: x)
        c.compute("n5", depends_on=["n4"], call=broken)
        c.compute("n6", depends_on=["n5"], call=lambda n5: n5)
        c.output("n6")

    failing = ig.contract(define, name="Broken")(x=1)
    assert failing.execution.states.get("n6") is None
    with pytest.raises(ig.ResolutionError):
        _ = failing.result.n6
    assert failing.execution.states["n5"].failed and failing.execution.states["n6"].failed


def test_a_fan_node_is_not_looked_up_in_the_plan_and_three_times_in_the_states_at_any_size():
    small, big = lookups_per_node(fan(1_000), 1_000), lookups_per_node(fan(10_000), 10_000)
    # not in the plan: the sink's entry holds its dependencies' entries by position (the sink itself and the first
    # leaf are looked up by name, as its input has no state yet when the sink reads it: 2 in all, at any size)
    assert small[0] * 1_000 <= 2 and big[0] * 10_000 <= 2
    # the states: the sink looks for it, it reads its input, its new state. (It was 5: itself again in its own
    # turn, and the sink read it back; the sink now takes the value it has just computed.)
    assert 2.99 <= small[1] <= 3.01 and 2.99 <= big[1] <= 3.01
    assert abs(big[0] - small[0]) < 0.01 and abs(big[1] - small[1]) < 0.01


def test_a_plan_entry_holds_what_the_resolver_reads_of_its_dependencies_without_a_lookup():
    graph = fan(10).compiled_graph()
    plan = graph.fast_plan
    leaf, sink = plan["f1"], plan["sink"]
    assert leaf[3] == 1 and leaf[4] == "x"  # one dependency by position: its name, no tuple to read
    assert leaf[5] is None  # and its entry: an input has none
    steps = chain(5).compiled_graph().fast_plan
    assert steps["n4"][5] is steps["n3"] and steps["n2"][5] is steps["n1"]  # declared before: held
    assert sink[3] == 0 and len(sink[4]) == 8  # by keyword: its dependencies' entries, by position
    assert all(entry is plan[f"f{i + 1}"] for i, entry in enumerate(sink[4]))

    def define(c: Any) -> None:  # a ladder: each node reads the two before it, declared after its readers
        c.input("x")
        c.compute("l3", depends_on=["l2", "l1"], call=lambda l2, l1: l2 + l1)
        c.compute("l2", depends_on=["l1", "x"], call=lambda l1, x: l1 + x)
        c.compute("l1", depends_on=["x"], call=lambda x: x)
        c.output("l3")

    ladder = ig.contract(define, name="Ladder")
    plan = ladder.compiled_graph().fast_plan
    assert plan["l3"][4][0] is plan["l2"] and plan["l3"][4][1] is plan["l1"]  # the plan's own entries
    assert plan["l2"][4] == [plan["l1"], None]  # an input has no entry

    def backwards(c: Any) -> None:  # a chain declared from its end: each entry's dependency comes later
        c.input("x")
        c.compute("b3", depends_on=["b2"], call=lambda b2: b2 * 10)
        c.compute("b2", depends_on=["b1"], call=lambda b1: b1 + 1)
        c.compute("b1", depends_on=["x"], call=lambda x: x + 1)
        c.output("b3")

    late = ig.contract(backwards, name="Backwards")
    plan = late.compiled_graph().fast_plan
    assert plan["b3"][5] is LATER and plan["b2"][5] is LATER  # looked up by name when the resolver needs it
    assert late(x=1).result.b3 == 30
    assert ladder(x=2).result.l3 == 6


def tracked_per_node(cls: type[ig.Contract], n: int) -> tuple[float, float]:
    """(objects the collector tracks that a fresh run of ``n`` nodes leaves alive, per node, before and after a
    young collection): its states, and what the event log holds until it is read."""
    contract = cls(x=1)
    ex = contract.execution
    output = ex.graph.outputs[0].name
    gc.collect()
    gc.disable()
    try:
        before = gc.get_count()[0]
        contract.result[output]
        made = (gc.get_count()[0] - before) / n
        gc.collect(0)
        kept = [*dict.values(ex.states), *ex.bus.recorded]
        return made, sum(gc.is_tracked(entry) for entry in kept) / n
    finally:
        gc.enable()


def test_a_run_leaves_no_tracked_object_per_node_once_collected_at_any_size():
    for make in (chain, fan):
        for n in (1_000, 10_000):
            made, kept = tracked_per_node(make(n), n)
            # one new tracked object per node (its state, held compactly) and a few per run; the first young
            # collection stops tracking the compact states (exact tuples of untracked items): none is left for
            # the middle and full collections to walk (at 100,000 nodes that walk was most of what a node cost
            # more than at 1,000: docs/performance.md)
            assert made <= 1.02
            assert kept <= 0.01, (make.__name__, n, kept)


def test_a_compact_state_reads_as_its_node_state_through_every_reading_method():
    contract = chain(5)(x=1)
    assert contract.result.n4 == 5
    states = contract.execution.states
    raw = dict.__getitem__(states, "n2")
    assert type(raw) is tuple and raw[0] == "n2" and raw[1] == 3  # held compactly
    st = states["n2"]
    assert type(st) is NodeState and st.succeeded and st.value == 3 and st.version == 1 and st.resolved_at == raw[3]
    # the same object each time, whichever way it is read
    assert states.get("n2") is st and dict(states)["n2"] is st and {**states}["n2"] is st
    assert states.copy()["n2"] is st and dict(states.items())["n2"] is st and st in states.values()
    assert all(type(v) is NodeState for v in states.values())
    assert states == states.copy() and "n2" in repr(states) and "NodeState(" in repr(states)
    contract.update_inputs(x=10)  # written over: a stale NodeState, then a new compact entry
    assert states["n2"].stale and states["n2"].version == 2
    assert contract.result.n4 == 14 and states["n2"].value == 12 and states["n2"].version == 3
    assert states["n2"] is not st and states.get("n2") is states["n2"]
    audit = [(e.type, e.node) for e in contract.audit if e.node == "n2"]
    assert audit == [("node_started", "n2"), ("node_succeeded", "n2"), ("node_invalidated", "n2"),
                     ("node_started", "n2"), ("node_succeeded", "n2")]


def test_a_waiting_node_takes_one_entry_on_the_resolver_stack():
    """A started node's mark replaces its name on the stack (it was a name and a mark above it: at 100,000 nodes a
    chain's stack grew to 200,000 entries, copied as it grew): checked while the chain's first node computes, when
    every other node waits — fast nodes, a guard (computed by ``finish``), and stale nodes resolved again."""
    n = 1_000
    seen: list[tuple[int, set[str]]] = []
    lines = ["def n1(x):", "    peek()", "    return x + 1"]
    for i in range(2, n):
        before = "g" if i == n // 2 else f"n{i - 1}"
        lines += [f"def n{i}({before}):", f"    return {before} + 1"]
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines) + "\n", "<peeking chain>", "exec"), namespace)

    def define(c: Any) -> None:
        c.input("x")
        for i in range(1, n):
            c.compute(namespace[f"n{i}"])
            if i == n // 2 - 1:
                c.guard("g", depends_on=f"n{i}", call=lambda **kw: True)  # then n{n // 2} reads True
        c.output(f"n{n - 1}")

    cls = ig.contract(define, name="Peeking")
    contract = cls(x=1)
    resolver = contract.execution.resolver
    namespace["peek"] = lambda: seen.append((len(resolver._stacks[0]), resolver.running))
    waiting = {f"n{i}" for i in range(1, n)} | {"g"}
    assert contract.result[f"n{n - 1}"] == n // 2 + 1
    contract.update_inputs(x=2)  # every node stale: started again with the state it had
    assert contract.result[f"n{n - 1}"] == n // 2 + 1
    assert seen == [(n, waiting), (n, waiting)]  # one entry each (n1 computing, the others waiting on it)
    assert resolver.running == set() and resolver._stacks == []


def test_running_names_the_started_nodes_while_they_resolve():
    seen: dict[str, Any] = {}

    @ig.contract
    def Steps(c: Any) -> None:
        c.input("x")

        @c.compute
        def a(x: int) -> int:
            seen["a"] = set(contract.execution.resolver.running)
            seen["states"] = {k: v["status"] for k, v in contract.states.items()}
            return x + 1

        @c.compute
        def b(a: int) -> int:
            seen["b"] = set(contract.execution.resolver.running)
            return a + 1

        @c.compute
        def c_(b: int) -> int:
            return b + 1

        c.output("c_")

    contract = Steps(x=1)
    assert contract.result.c_ == 4
    assert seen["a"] == {"a", "b", "c_"}  # a computes; b and c_ wait for it
    assert seen["b"] == {"b", "c_"}
    assert seen["states"]["b"] == "running" and seen["states"]["x"] == "succeeded"
    assert contract.execution.resolver.running == set()


def test_a_node_reading_its_own_contract_resolves_other_nodes_and_a_cycle_through_it_is_named():
    @ig.contract
    def Reentrant(c: Any) -> None:
        c.input("x")

        @c.compute
        def side(x: int) -> int:
            return x * 10

        @c.compute
        def main_(x: int) -> int:  # reads a node it does not depend on: a nested resolve, no cycle
            return contract.result.side + x

        @c.compute
        def loop_a(x: int) -> int:  # reads loop_b, which waits for loop_a: a cycle through the results
            return contract.result.loop_b + x

        @c.compute
        def loop_b(loop_a: int) -> int:
            return loop_a + 1

        c.output("side")
        c.output("main_")
        c.output("loop_b")

    contract = Reentrant(x=1)
    assert contract.result.main_ == 11
    with pytest.raises(ig.ResolutionError) as raised:
        _ = contract.result.loop_b
    error = raised.value
    assert "Node 'loop_b' was asked for while it is being resolved" in str(error)
    assert error.context["node"] == "loop_b" or error.__cause__ is not None
    assert contract.execution.resolver.running == set()  # nothing left marked running after the error
