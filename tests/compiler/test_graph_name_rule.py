"""A graph name every store would refuse (``model/graph_names.py``: 1-200 characters, no control character) is
refused when the contract is compiled, naming the name (cut), its length, the limit and where it came from; it
used to compile, run in memory and fail only when saved. Names every store takes compile exactly as before."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.errors import StoreArgumentError, ValidationError
from igniter_nb.stores.rules import check_graph
from igniter_nb.stores.sql import SQLStore


def _define(c):
    c.input("x")
    c.output("x")


def test_a_name_argument_over_the_store_limit_is_refused_at_compile_time():
    with pytest.raises(ValidationError) as caught:
        ig.compile(_define, name="G" * 201)
    text = str(caught.value)
    assert "201 characters" in text and "200" in text and "name=" in text
    assert caught.value.context["graph"].startswith("GGG")


def test_a_class_name_over_the_store_limit_is_refused_naming_the_class_name():
    with pytest.raises(ValidationError, match="class name") as caught:
        type("Order" * 60, (ig.Contract,), {"define": staticmethod(_define)})
    assert "300 characters" in str(caught.value)
    with pytest.raises(ValidationError, match="class name"):
        ig.contract(_define, name="N" * 250)


def test_a_megabyte_name_is_quoted_cut_in_a_bounded_message():
    with pytest.raises(ValidationError) as caught:
        ig.compile(_define, name="G" * 1_000_000)
    text = str(caught.value)
    assert "1,000,000 characters" in text
    assert len(text) < 2_000


@pytest.mark.parametrize("name", ["a\nb", "tab\there", "nul\x00", "\x1b[31mred"])
def test_a_control_character_is_refused_at_compile_time(name):
    with pytest.raises(ValidationError, match="control character"):
        ig.compile(_define, name=name)
    if "\x00" not in name:  # (Python itself refuses a class name holding NUL)
        with pytest.raises(ValidationError, match="control character"):
            type(name, (ig.Contract,), {"define": staticmethod(_define)})


def test_an_empty_class_name_is_refused():
    with pytest.raises(ValidationError, match="empty"):
        type("", (ig.Contract,), {"define": staticmethod(_define)})


@pytest.mark.parametrize("name", ["G" * 200, "Order", "Bestellung Ä ✓", "a b.c:d-e/f", "名前", "x" * 199 + "✓"])
def test_names_every_store_takes_compile_and_save_as_before(name, tmp_path):
    graph = ig.compile(_define, name=name)
    assert graph.name == name
    cls = ig.contract(_define, name=name)
    assert cls(x=1).result.x == 1
    with SQLStore(f"sqlite:///{tmp_path / 'names.db'}") as store:
        execution_id = cls.start({"x": 1}, store=store).execution_id
        assert store.record(execution_id).graph == name


@pytest.mark.parametrize("name", ["", "G" * 200, "G" * 201, "a\nb", "\x7f", "ok name", "\x1f", "é" * 200])
def test_the_compiler_and_the_stores_refuse_the_same_names(name):
    try:
        check_graph(name)
        store_takes = True
    except StoreArgumentError:
        store_takes = False
    try:
        ig.compile(_define, name=name or None)
        compiles = True
    except ValidationError:
        compiles = False
    if name == "":  # ig.compile falls back to the function's name; a class may still be named ""
        try:
            type(name, (ig.Contract,), {"define": staticmethod(_define)})
            compiles = True
        except ValidationError:
            compiles = False
    assert compiles == store_takes
