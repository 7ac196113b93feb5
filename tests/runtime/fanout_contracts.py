"""Child contracts for the executor-runner tests: importable by worker processes as ``fanout_contracts:Name``."""

from __future__ import annotations

import os

import igniter_nb as ig


class Square(ig.Contract):
    def define(c):
        c.input("n", type=int)

        @c.compute
        def square(n):
            if n < 0:
                raise ValueError(f"negative: {n}")
            return n * n

        @c.compute
        def pid(n):
            return os.getpid()

        c.output("square")
        c.output("pid")


class Deferring(ig.Contract):
    """Defers odd numbers: on an executor the item comes back pending and runs again in the parent."""

    def define(c):
        c.input("n", type=int)
        c.compute("answer", depends_on=["n"],
                  call=lambda n: n if n % 2 == 0 else ig.DeferredResult(token=f"ask-{n}", payload={"n": n}))
        c.output("answer")


class Squares(ig.Contract):
    def define(c):
        c.input("numbers", type=list)
        c.collection("squares", source="numbers", each=Square, key="n", map_inputs=lambda item: {"n": item})

        @c.compute
        def total(squares):
            return sum(i.result.square for i in squares if i.succeeded)

        c.output("squares")
        c.output("total")
