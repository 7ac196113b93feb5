"""A subclass with its own ``define`` keeps its parent's reactions, correlation keys and presenters (L-35); when
its graph lacks what they name, the error says they were inherited, from which class, and where they were
written, located at the subclass's ``define``."""

from __future__ import annotations

import sys

import pytest

import igniter_nb as ig


def _here(offset: int) -> str:
    frame = sys._getframe(1)
    return f"{frame.f_code.co_filename}:{frame.f_lineno + offset}"


class Base(ig.Contract):
    def define(c):
        c.correlate_by("order_id")
        c.input("order_id")
        c.output("order_id")
        c.present("order_id", call=str)

        @c.effect("order_id", event_type="input_updated")
        def seen(value):
            pass


def test_an_inherited_correlation_key_the_subclass_lacks_names_the_parent():
    define_line = _here(3)
    with pytest.raises(ig.ValidationError, match="inherited from Base") as info:
        class Other(Base):
            def define(c):
                c.input("sku")
                c.output("sku")
    assert info.value.context["source_location"] == define_line
    assert "order_id" in info.value.message


def test_an_inherited_presenter_or_reaction_the_subclass_lacks_names_the_parent():
    with pytest.raises(ig.ValidationError, match="inherited from Base") as info:
        class Other(Base):
            def define(c):
                c.correlate_by("sku")
                c.input("sku")
                c.output("sku")
    assert "order_id" in info.value.message
    assert __file__ in info.value.message  # where the parent wrote it


def test_a_subclass_that_keeps_the_names_compiles():
    class Same(Base):
        def define(c):
            c.input("order_id")
            c.input("note", default="")
            c.output("order_id")
            c.output("note")

    assert Same.correlation_keys() == ("order_id",)
    assert len(Same.graph.reactions) == 1
