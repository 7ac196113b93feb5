"""Reactions that re-enter the contract: read its outputs or change its inputs while an event is dispatched."""

from __future__ import annotations

import pytest

import igniter_nb as ig


def test_a_reaction_that_changes_inputs_never_leaves_a_read_with_a_stale_value():
    # The effect on `d` changes `a` while `d` is being read: the read must answer for the inputs as they are
    # when it returns (1642 for a=820), not the value computed for the inputs before the change (82).
    got = []

    @ig.contract
    def Grow(c):
        c.input("a", type="integer")
        c.compute("b", call=lambda a: a + 1)
        c.compute("d", call=lambda b: b * 2)
        c.output("d")

        @c.effect("d")
        def grow(contract, value):
            if value < 100:
                contract.update_inputs(a=value * 10)

        @c.on_success("d")
        def done(value):
            got.append(value)

    g = Grow(a=1)
    assert g.result.d == 1642 == (g.inputs["a"] + 1) * 2
    assert got == [1642]
    assert g.states["d"]["status"] == "succeeded"


def test_a_reaction_that_changes_inputs_on_every_read_gets_an_error_not_a_hang():
    @ig.contract
    def Forever(c):
        c.input("a", type="integer")
        c.compute("b", call=lambda a: a + 1)
        c.output("b")

        @c.effect("b")
        def bump(contract, value):
            contract.update_inputs(a=value)

    f = Forever(a=1)
    with pytest.raises(ig.ResolutionError, match="changed while it was being resolved") as info:
        _ = f.result.b
    assert info.value.context["node"] == "b"
    assert info.value.context["graph"] == "Forever"


def test_a_failed_read_inside_a_reaction_is_no_failure_of_the_run():
    # The effect reads `d` while `d` waits for `b` (a ResolutionError, kept in reaction_errors): that nested read
    # failed, the run did not. on_failure must not fire (it fired with error=None and errors={}), on_exit must
    # report the run's status once.
    calls = []

    @ig.contract
    def Nosy(c):
        c.input("a", type="integer")
        c.compute("b", call=lambda a: a + 1)
        c.compute("d", call=lambda b: b * 2)
        c.output("d")

        @c.effect("b")
        def peek(contract):
            _ = contract.result.d

        @c.on_failure
        def failed(error, errors):
            calls.append(("failure", error, errors))

        @c.on_exit
        def bye(status):
            calls.append(("exit", str(status)))

    n = Nosy(a=1)
    assert n.result.d == 4
    assert n.status is ig.Status.SUCCEEDED
    assert calls == [("exit", "succeeded")]
    assert [type(e.error).__name__ for e in n.reaction_errors] == ["ResolutionError"]
