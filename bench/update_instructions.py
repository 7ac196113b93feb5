"""Instruction-count probe for the lock taken per update and per lifecycle (docs/performance.md, What the
per-execution lock costs): ``rounds`` × (update_inputs + re-read), on a 1,000-chain or on one node of two.

    PYTHONHASHSEED=0 valgrind --tool=cachegrind --cache-sim=no .venv/bin/python bench/update_instructions.py 300 small

Run it at two round counts and divide the difference by the difference in rounds: setup and import cancel out.
Without arguments (``make bench``) it runs 100 rounds of each kind and prints nothing else: its figures are the
counts valgrind prints.
"""

from __future__ import annotations

import itertools
import sys
from typing import Any

from _core_graphs import module_graph

import igniter_nb as ig


def chain(rounds: int) -> None:
    graph = module_graph("chain", 1000)
    c = ig.contract(graph.define, name="ChainUpdate")(x=1)
    c.result[graph.output]
    values = itertools.count(2)
    for _ in range(rounds):
        c.update_inputs(x=next(values))
        c.result[graph.output]


def small(rounds: int) -> None:
    def define(cb: Any) -> None:
        cb.input("x")
        cb.input("y")
        cb.compute("only", call=lambda y: y + 1)
        cb.output("only")

    contract = ig.contract(define, name="Small")(x=1, y=1)
    contract.resolve_all()
    ys = itertools.count(2)
    for _ in range(rounds):
        contract.update_inputs(y=next(ys))
        _ = contract.result.only


if __name__ == "__main__":
    kinds = {"chain": chain, "small": small}
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    for kind in sys.argv[2:3] or kinds:
        kinds[kind](count)
    print(f"update_instructions: {count} rounds of {', '.join(sys.argv[2:3] or kinds)} (count them under valgrind)")
