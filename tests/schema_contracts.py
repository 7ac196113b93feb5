"""Importable contracts and functions for the schema round-trip tests (schemas name things by import path)."""

from __future__ import annotations

import datetime as dt

import pydantic

import igniter_nb as ig


def double(n: int) -> int:
    return n * 2


def make_list() -> list[int]:
    return [1, 2]


def is_big(ten: int) -> bool:
    return ten > 5


def to_child(selector: int, ten: int) -> dict[str, int]:
    return {"v": selector + ten}


class Signup(pydantic.BaseModel):
    plan: str
    seats: int


class Quote(ig.Executor):
    def call(self, n):  # type: ignore[no-untyped-def]  # untyped: accepts any numeric
        return n + 1


ig.register_executor("schema_quote", Quote, label="Quote")


class Child(ig.Contract):
    def define(c):
        c.input("v", type="integer")
        c.output("v")


class Every(ig.Contract):
    """One of each keyword the schema form supports."""

    def define(c):
        c.correlate_by("k")
        c.run_with("inline")
        c.input("k", type=str)
        c.input("n", type="numeric", default=3)
        c.input("x", type=list[int] | None, default=None)
        c.input("when", type=dt.date, required=False)
        c.const("ten", 10)
        c.const("items", factory=make_list)
        c.compute("d", depends_on=["n"], call=double, label="Double")
        c.compute("m", depends_on=["n"], call="twice")
        c.compute("q", depends_on=["n"], executor="schema_quote")
        c.lookup("l", depends_on=["n"], call=double)
        with c.scope("shape"):
            c.project("p", source="x", dig=[0], default=0)
            c.guard("g", depends_on=["n"], one_of=[3, 4], message="n must be 3 or 4")
            c.guard("big", depends_on=["ten"], call=is_big)
        c.compose("child", contract=Child, inputs={"v": "ten"})
        c.branch("route", selector="ten", cases=[(10, Child), (20, Child)], default=Child,
                 map_inputs=to_child, depends_on=["ten"])
        c.await_event("signup", event="signup_received", schema=Signup, timeout=60)
        c.output("d")
        c.output("p")
        c.export("v", source="child")

    def twice(self, n: int) -> int:
        return n * 2
