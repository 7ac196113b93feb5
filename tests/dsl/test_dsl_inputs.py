"""`c.input`: every type form (reference names, Python types, typing hints, pydantic), strictness, defaults."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from fractions import Fraction
from typing import Literal, Optional

import pydantic
import pytest

import igniter_nb as ig


def next_line() -> str:
    """``file:line`` of the line after the caller's line (where the declaration under test is)."""
    frame = sys._getframe(1)
    return f"{__file__}:{frame.f_lineno + 1}"


class Money(pydantic.BaseModel):
    amount: int
    currency: str


def typed(spec):
    @ig.contract
    def Typed(c):
        c.input("value", type=spec)
        c.output("value")

    return Typed


ACCEPTS = [
    ("integer", 3),
    ("integer", -10**30),
    ("float", 1.5),
    ("numeric", 1),
    ("numeric", 2.5),
    ("numeric", Decimal("1.1")),
    ("numeric", Fraction(1, 3)),
    ("string", "x"),
    ("boolean", True),
    ("boolean", False),
    ("array", [1, "a"]),
    ("hash", {"a": 1}),
    ("symbol", "sym"),
    (int, 3),
    (float, 3.0),
    (str, ""),
    (dict, {}),
    (list, []),
    (bool, False),
    (dt.datetime, dt.datetime(2024, 1, 1)),
    (list[int], [1, 2, 3]),
    (list[int], []),
    (dict[str, int], {"a": 1}),
    (Optional[int], 4),  # noqa: UP045 - Optional is one of the forms users write
    (int | None, 4),
    (Literal["a", "b"], "a"),
    (Money, Money(amount=1, currency="EUR")),
]

REJECTS = [
    ("integer", True, "bool"),  # bool is not an integer
    ("integer", False, "bool"),
    ("integer", 1.0, "float"),
    ("integer", "1", "str"),
    ("float", 1, "int"),  # no coercion int -> float
    ("numeric", True, "bool"),  # bool is not numeric either
    ("numeric", "1.5", "str"),
    ("string", 1, "int"),
    ("boolean", 1, "int"),
    ("boolean", "true", "str"),
    ("array", "abc", "str"),
    ("hash", [("a", 1)], "list"),
    (int, True, "bool"),
    (float, 1, "int"),
    (str, b"x", "bytes"),
    (list[int], [1, "2"], "list"),
    (list[int], [1, True], "list"),
    (dict[str, int], {"a": "1"}, "dict"),
    (dict[str, int], {1: 1}, "dict"),
    (Optional[int], "x", "str"),  # noqa: UP045
    (Literal["a", "b"], "c", "str"),
    (Money, {"amount": 1, "currency": "EUR"}, "dict"),  # a dict is not coerced into the model
]


@pytest.mark.parametrize(("spec", "value"), ACCEPTS, ids=[f"{s!r}-{v!r}" for s, v in ACCEPTS])
def test_input_type_accepts(spec, value):
    contract = typed(spec)(value=value)
    got = contract.result.value
    assert got is value or got == value
    assert type(got) is type(value)  # never converted


@pytest.mark.parametrize(("spec", "value", "got"), REJECTS, ids=[f"{s!r}-{v!r}" for s, v, _ in REJECTS])
def test_input_type_rejects_without_coercion(spec, value, got):
    cls = typed(spec)
    with pytest.raises(ig.InputError) as info:
        cls(value=value)
    err = info.value
    assert "Input 'value' must be of type" in str(err)
    assert f"got {got}" in str(err)
    assert err.context["graph"] == "Typed"
    assert err.context["node"] == "value"
    assert err.context["path"] == "value"


def test_type_names_are_case_insensitive_reference_names():
    assert typed("Integer")(value=1).result.value == 1


@pytest.mark.parametrize("bad", ["intger", "decimal", "list[int]", "str "])
def test_unknown_type_name_is_a_compile_error_at_the_input_line(bad):
    where = {}
    with pytest.raises(ig.CompileError) as info:

        @ig.contract
        def Bad(c):
            where["loc"] = next_line()
            c.input("x", type=bad)
            c.output("x")

    loc = where["loc"]
    err = info.value
    assert repr(bad) in str(err)
    assert err.context["graph"] == "Bad"
    assert err.context["node"] == "x"
    assert err.context["path"] == "x"
    assert err.context["source_location"] == loc
    assert f"location={loc}" in str(err)


def test_unsupported_type_object_is_a_compile_error():
    with pytest.raises(ig.CompileError, match="unusable type"):

        @ig.contract
        def Bad(c):
            c.input("x", type=42)
            c.output("x")


def test_default_makes_input_optional_and_is_type_checked_at_compile_time():
    @ig.contract
    def WithDefault(c):
        c.input("rate", type=float, default=0.2)
        c.output("rate")

    assert WithDefault().result.rate == 0.2
    assert WithDefault(rate=0.5).result.rate == 0.5

    with pytest.raises(ig.CompileError, match="default"):

        @ig.contract
        def BadDefault(c):
            c.input("rate", type=float, default="0.2")
            c.output("rate")


def test_default_none_makes_input_optional():
    @ig.contract
    def NoneDefault(c):
        c.input("x", default=None)
        c.output("x")

    assert NoneDefault().result.x is None


def test_required_false_without_default_resolves_to_none():
    @ig.contract
    def Opt(c):
        c.input("x", type="integer", required=False)
        c.output("x")

    assert Opt().result.x is None
    assert Opt(x=None).result.x is None


def test_optional_hint_with_default_none_accepts_none():
    @ig.contract
    def Opt(c):
        c.input("x", type=Optional[int], default=None)  # noqa: UP045
        c.output("x")

    assert Opt().result.x is None
    assert Opt(x=None).result.x is None
    assert Opt(x=3).result.x == 3


def test_required_input_rejects_explicit_none():
    @ig.contract
    def Req(c):
        c.input("x", type="integer")
        c.output("x")

    with pytest.raises(ig.InputError, match="required"):
        Req(x=None)


def test_required_true_with_default_uses_default_but_rejects_none():
    @ig.contract
    def ReqDefault(c):
        c.input("x", required=True, default=7)
        c.output("x")

    assert ReqDefault().result.x == 7
    with pytest.raises(ig.InputError):
        ReqDefault(x=None)


def test_mutable_default_is_copied_per_execution_L17():
    @ig.contract
    def Bag(c):
        c.input("items", default=[])
        c.input("meta", default={"seen": []})

        @c.compute
        def grow(items, meta):
            items.append(1)
            meta["seen"].append(1)
            return (len(items), len(meta["seen"]))

        c.output("grow")

    assert Bag().result.grow == (1, 1)
    assert Bag().result.grow == (1, 1)
    node = Bag.graph.node("items")
    assert node.default == []


def test_input_metadata_is_kept():
    @ig.contract
    def Meta(c):
        c.input("x", type="integer", label="The X", desc="doc")
        c.output("x")

    node = Meta.graph.node("x")
    assert node.metadata["label"] == "The X"
    assert node.metadata["desc"] == "doc"


def test_inputs_given_as_dict_and_keywords_merge_keywords_win():
    @ig.contract
    def Two(c):
        c.input("a")
        c.input("b")

        @c.compute
        def pair(a, b):
            return (a, b)

        c.output("pair")

    assert Two({"a": 1, "b": 2}, b=3).result.pair == (1, 3)
