"""Child contracts for bench/fanout.py, in their own module so executor workers can import them
(``_fanout_children:Sleepy``; a contract defined in the script itself lives in ``__main__`` and cannot be shipped)."""

from __future__ import annotations

import time

import igniter_nb as ig


def burn(n: int, rounds: int) -> int:
    """Pure-Python CPU work (holds the GIL, so threads cannot speed it up)."""
    acc = 0
    for i in range(rounds):
        acc = (acc + i * i * n) % 1_000_003
    return acc


class Sleepy(ig.Contract):
    """I/O-bound: waits 5 ms (a network call, say)."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        c.input("id", type=int)

        @c.compute
        def answer(id):
            time.sleep(0.005)
            return id * 2

        c.output("answer")


class Busy(ig.Contract):
    """CPU-bound: a few milliseconds of pure-Python arithmetic."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        c.input("id", type=int)
        c.input("rounds", type=int, default=60_000)

        @c.compute
        def answer(id, rounds):
            return burn(id, rounds)

        c.output("answer")


def fan_of(child: type[ig.Contract]) -> type[ig.Contract]:
    @ig.contract(name=f"FanOf{child.__name__}")
    def Fan(c: ig.ContractBuilder) -> None:
        c.input("items", type=list)
        c.collection("items_run", source="items", each=child, key="id", progress=False)
        c.output("items_run")

    return Fan
