"""A forced lifecycle over many resolved output targets: what ``run_lifecycle`` costs besides resolving.

Run under main and under a branch, interleaved: ``PYTHONPATH=<checkout> python bench/lifecycle_targets.py LABEL``.
"""

from __future__ import annotations

import sys
import timeit

import igniter_nb as ig

N = 20_000


def define(c):
    c.input("x")
    for i in range(N):
        c.compute(f"n{i}", depends_on=["x"], call=lambda x: x)
        c.output(f"n{i}")


def main() -> None:
    fan = ig.contract(define, name="Fan")(x=1)
    fan.resolve_all()
    ex = fan.execution
    targets = ex.targets()
    best = min(timeit.repeat(lambda: ex.run_lifecycle(targets, force=True), number=20, repeat=5)) / 20
    label = sys.argv[1] if len(sys.argv) > 1 else "this checkout"
    print(f"{label}: forced lifecycle over {N} resolved targets: {best * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
