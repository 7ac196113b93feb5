"""Reaction declarations are checked where they are written: the callback, its keywords, its target, its event."""

from __future__ import annotations

import pytest

import igniter_nb as ig


def _line(offset: int) -> str:
    """``file:line`` of the caller's line ``offset`` lines below the call."""
    import sys

    frame = sys._getframe(1)
    return f"{frame.f_code.co_filename}:{frame.f_lineno + offset}"


def test_an_unknown_effect_path_names_the_declaration_not_the_first_node():
    here = _line(7)
    with pytest.raises(ig.ValidationError, match="effect path 'totl' is not a node path") as info:
        @ig.contract
        def Shop(c):
            c.input("total")
            c.output("total")

            @c.effect("totl")
            def log(value):
                pass
    assert info.value.context["source_location"] == here
    assert info.value.context.get("node") is None  # it named the first node, 'total', which is fine
    assert "node=total" not in str(info.value)
    assert "did you mean 'total'" in str(info.value)


def test_an_unknown_on_success_target_names_the_declaration():
    here = _line(6)
    with pytest.raises(ig.ValidationError, match="on_success target 'nope'") as info:
        @ig.contract
        def Shop(c):
            c.input("total")
            c.output("total")
            c.on_success("nope")(lambda: None)
    assert info.value.context["source_location"] == here
    assert info.value.context.get("node") is None


def test_present_for_an_unknown_output_names_its_own_line():
    here = _line(6)
    with pytest.raises(ig.ValidationError, match="present\\('totl'\\)") as info:
        @ig.contract
        def Shop(c):
            c.input("total")
            c.output("total")
            c.present("totl", call=str)
    assert info.value.context["source_location"] == here


@pytest.mark.parametrize("declare", [
    lambda c: c.react_to("node_succeeded")(5),
    lambda c: c.effect("total")("not a function"),
    lambda c: c.on_success("total")(None),
    lambda c: c.on_exit(42),
    lambda c: c.on_failure(object()),
])
def test_a_callback_that_is_not_callable_is_a_compile_error(declare):
    with pytest.raises(ig.CompileError, match="must be callable") as info:
        @ig.contract
        def Shop(c):
            c.input("total")
            c.output("total")
            declare(c)
    assert info.value.context["graph"] == "Shop"
    assert info.value.context["source_location"].startswith(__file__)


def test_a_callback_requiring_a_keyword_that_is_never_passed_is_a_compile_error():
    # It was called at run time and failed there with a TypeError kept quietly in reaction_errors.
    here = _line(7)
    with pytest.raises(ig.ValidationError, match="'order'") as info:
        @ig.contract
        def Shop(c):
            c.input("total")
            c.output("total")

            @c.on_exit
            def bye(status, order):
                pass
    assert info.value.context["source_location"] == here
    assert "status" in str(info.value)  # says what it can declare


def test_callbacks_with_defaults_or_kwargs_or_builtins_are_fine():
    seen = []

    @ig.contract
    def Shop(c):
        c.input("total")
        c.output("total")
        c.effect("total", event_type="input_updated")(print)

        @c.on_exit
        def bye(status, order=None, **rest):
            seen.append((str(status), order, sorted(rest)))

        @c.effect("total")
        def eff(value, errors=None):
            seen.append(("effect", value, errors))

    Shop(total=3).resolve_all()
    assert seen[-1] == ("succeeded", None, ["contract", "error", "errors", "event", "execution"])


@pytest.mark.parametrize(("event_type", "suggestion"), [
    ("node_sucess", "node_succeeded"),
    ("execution_finised", "execution_finished"),
    ("node_failed ", "node_failed"),
])
def test_a_misspelt_event_type_is_a_compile_error(event_type, suggestion):
    # It compiled and the reaction silently never fired.
    with pytest.raises(ig.ValidationError, match=f"did you mean '{suggestion}'"):
        @ig.contract
        def Shop(c):
            c.input("total")
            c.output("total")
            c.react_to(event_type)(lambda: None)


def test_an_event_type_must_be_text():
    with pytest.raises(ig.CompileError, match="event type"):
        @ig.contract
        def Shop(c):
            c.input("total")
            c.output("total")
            c.react_to(None)(lambda: None)


def test_an_event_type_of_ones_own_is_accepted():
    got = []

    @ig.contract
    def Shop(c):
        c.input("total")
        c.output("total")

        @c.react_to("audit_exported")
        def exported(event):
            got.append(event.payload["to"])

    shop = Shop(total=1)
    shop.execution.bus.emit("audit_exported", payload={"to": "s3"})
    assert got == ["s3"]


@pytest.mark.parametrize("declare", [
    lambda c: c.effect(5)(lambda: None),
    lambda c: c.react_to("node_succeeded", path=["total"])(lambda: None),
])
def test_a_reaction_path_that_is_not_text_is_a_compile_error(declare):
    # It raised a bare TypeError from the "did you mean" lookup.
    with pytest.raises(ig.CompileError, match="path") as info:
        @ig.contract
        def Shop(c):
            c.input("total")
            c.output("total")
            declare(c)
    assert info.value.context["graph"] == "Shop"
