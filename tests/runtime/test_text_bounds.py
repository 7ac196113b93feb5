"""Plain-text forms stay bounded for huge graphs and names: ``Plan.to_text`` lists ``TABLE_LIMIT`` nodes (it was
169 KB for 3,000 nodes) and says how many more, and a name of a megabyte (a node name is an identifier of any
length) is cut as the notebook headings cut a title. Ordinary plans read exactly as before."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.runtime.planner import Plan

BIG = 3_000
HUGE = "n" * 1_000_000


def _wide(c):
    for i in range(BIG):
        c.input(f"x{i}", default=i)
        c.output(f"x{i}")


def _huge_names(c):
    c.input(HUGE, default=1)
    c.compute("double", depends_on=[HUGE], call=lambda **kw: 2 * kw[HUGE])
    c.output("double")
    c.output(HUGE)


def test_a_plan_of_3000_nodes_lists_a_bounded_number_and_counts_the_rest():
    contract = ig.contract(_wide, name="Wide")()
    text = contract.plan().to_text()
    assert len(text) < 40_000  # (169 KB before)
    nodes = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(nodes) == 200
    assert text.splitlines()[-1] == f"… {len(contract.plan().entries) - 200} more nodes"
    targets = next(line for line in text.splitlines() if line.startswith("Targets: "))
    assert targets.endswith(f",… {BIG - 200} more") and targets.count(",") == 200


def test_a_megabyte_node_name_makes_no_megabyte_line():
    contract = ig.contract(_huge_names, name="HugeNames")()
    text = contract.plan().to_text()
    assert max(len(line) for line in text.splitlines()) < 3_000
    assert "(999,801 more characters)" in text
    assert contract.result.double == 2
    shown = repr(contract.result)
    assert len(shown) < 3_000 and shown.startswith("<Result HugeNames ")


def test_a_plan_of_a_megabyte_graph_name_cuts_its_heading():
    plan = Plan(graph="G" * 1_000_000, execution_id="e1", targets=(), ready=(), blocked=(), entries=())
    assert plan.to_text().splitlines()[0] == f"Plan {'G' * 199} … (999,801 more characters)"


def test_an_ordinary_plan_and_result_read_as_before():
    def define(c):
        c.input("a", default=1)
        c.compute("b", depends_on=["a"], call=lambda a: a + 1)
        c.output("b")

    contract = ig.contract(define, name="Small")()
    assert contract.plan().to_text() == (
        "Plan Small\nTargets: b\nReady: a,b\nBlocked: none\nNodes:\n"
        "- input a status=unresolved ready=true\n"
        "- compute b status=unresolved ready=true deps=a(ready)")
    assert repr(contract.result) == "<Result Small succeeded outputs=['b']>"


def test_a_long_error_in_a_plan_says_how_much_was_left_out():
    """A plan entry's error line is cut at 200 characters saying how much more there was: a 5,000-character error
    ended in a bare '…', so a view cutting it again (the notebook's plan table) counted only the 200 it kept."""

    def define(c):
        c.input("x")
        c.compute("boom", depends_on=["x"], call=lambda x: (_ for _ in ()).throw(ValueError("e" * 5_000)))
        c.output("boom")

    contract = ig.contract(define, name="LongError")(x=1)
    with pytest.raises(ig.ResolutionError):
        _ = contract.result.boom
    error = next(e.error for e in contract.plan().entries if e.name == "boom")
    head, _, tail = error.partition(" … (")
    assert head.startswith("ResolutionError: ValueError: eee") and len(head) <= 200, error
    assert tail == f"{len('ResolutionError: ValueError: ') + 5_000 - len(head):,} more characters)", error
