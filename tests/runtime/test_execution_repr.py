"""``repr(contract.execution)`` was the default ``<...Execution object at 0x7f…>``: a memory address, different on
every run, so a notebook cell showing it never compared equal under nbval. It is now short and deterministic: the
graph name, the execution id, the status and how many resolved nodes are in each status, bounded like the other
reprs (a megabyte name or id is cut)."""

from __future__ import annotations

import igniter_nb as ig


def _explodes(c):
    c.input("x")
    c.compute("double", depends_on=["x"], call=lambda x: 2 * x)
    c.compute("explode", depends_on=["x"], call=lambda x: 1 / 0)
    c.compute("after", depends_on=["double", "explode"], call=lambda double, explode: double + explode)
    c.output("double")
    c.output("after")


def test_an_execution_repr_names_graph_id_status_and_counts_not_an_address():
    contract = ig.contract(_explodes, name="Explodes")(x=2, execution_id="run-1")
    assert repr(contract.execution) == "<Execution Explodes run-1 unresolved (no node resolved)>"
    contract.resolve_all()
    shown = repr(contract.execution)
    assert " at 0x" not in shown
    assert shown == "<Execution Explodes run-1 failed (2 succeeded, 2 failed)>"
    assert repr(contract.execution) == shown  # (reading it resolves nothing and changes nothing)


def test_an_execution_repr_is_bounded_by_a_huge_name_and_id():
    contract = ig.contract(_explodes, name="E" * 200)(x=2, execution_id="i" * 1_000_000)
    shown = repr(contract.execution)
    assert len(shown) < 1_000 and shown.startswith("<Execution EEE") and "more characters" in shown
