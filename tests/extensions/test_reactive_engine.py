"""Reactive declarations: effect, react_to, on_success, on_failure, on_exit, present."""

from __future__ import annotations

import pytest

import igniter_nb as ig


class Later(ig.Executor):
    def call(self, x):
        return self.defer(token="later")


def test_callbacks_get_only_the_keywords_they_declare_L14():
    got = []

    @ig.contract
    def Picky(c):
        c.input("x")
        c.compute("y", call=lambda x: x * 2)
        c.output("y")

        @c.on_success("y")
        def only_value(value):
            got.append(("value", value))

        @c.on_success("y")
        def nothing():
            got.append(("nothing",))

        @c.on_success("y")
        def everything(**kw):
            got.append(("kw", sorted(kw)))

        @c.effect("y")
        def eff(event, value):
            got.append(("effect", event.type, value))

        @c.on_exit
        def bye(status):
            got.append(("exit", str(status)))

    contract = Picky(x=2)
    assert contract.result.y == 4
    assert contract.reaction_errors == []
    assert ("value", 4) in got
    assert ("nothing",) in got
    assert ("effect", "node_succeeded", 4) in got
    assert ("exit", "succeeded") in got
    [kw] = [g for g in got if g[0] == "kw"]
    assert {"event", "contract", "execution", "value"} <= set(kw[1])


def test_on_success_fires_once():
    got = []

    @ig.contract
    def Once(c):
        c.input("x")
        c.compute("y", call=lambda x: x + 1)
        c.output("y")

        @c.on_success("y")
        def done(value, contract):
            got.append((value, type(contract).__name__))

    contract = Once(x=1)
    _ = contract.result.y
    _ = contract.result.y
    contract.resolve_all()
    assert got == [(2, "Once")]


def test_on_success_fires_after_resume_not_while_pending_L13():
    got = []

    @ig.contract
    def Async(c):
        c.input("x")
        c.compute("later", call=Later)

        @c.compute
        def total(later, x):
            return later + x

        c.output("total")

        @c.on_success("total")
        def done(value):
            got.append(value)

    contract = Async(x=1)
    assert contract.status == "pending"
    assert got == []
    contract.resume_by_token("later", value=41)
    assert contract.result.total == 42
    assert got == [42]


def test_on_exit_reports_pending_honestly_L13():
    statuses = []

    @ig.contract
    def Async(c):
        c.input("x")
        c.compute("later", call=Later)
        c.compute("after", call=lambda later: later)
        c.output("after")

        @c.on_exit
        def bye(status):
            statuses.append(str(status))

    contract = Async(x=1)
    contract.resolve_all()
    assert statuses == ["pending"]
    contract.resume("later", value=1)
    contract.resolve_all()
    assert statuses == ["pending", "succeeded"]


def test_on_success_and_on_exit_after_resuming_the_output_node_itself_L13():
    got = []

    @ig.contract
    def Async(c):
        c.input("x")
        c.compute("later", call=Later)
        c.output("later")

        @c.on_success("later")
        def done(value):
            got.append(value)

        @c.on_exit
        def bye(status):
            got.append(str(status))

    contract = Async(x=1)
    assert contract.status == "pending"
    contract.resume("later", value=5)
    assert contract.status == "succeeded"
    assert contract.result.later == 5
    assert got == ["pending", 5, "succeeded"]


def test_on_failure_and_on_exit_fire_on_failure():
    got = []

    @ig.contract
    def Failing(c):
        c.input("x")

        @c.compute
        def y(x):
            raise ValueError("bad")

        c.output("y")

        @c.on_failure
        def failed(error, errors, status):
            got.append(("failure", type(error.__cause__).__name__, sorted(errors), str(status)))

        @c.on_exit
        def bye(status):
            got.append(("exit", str(status)))

    contract = Failing(x=1)
    assert contract.status == "failed"
    assert ("failure", "ValueError", ["y"], "failed") in got
    assert ("exit", "failed") in got
    assert contract.reaction_errors == []


def test_react_to_with_path_and_event_type():
    got = []

    @ig.contract
    def Reacts(c):
        c.input("x")
        with c.scope("pricing"):
            c.compute("trade", call=lambda x: x)
        c.output("trade")

        @c.react_to("node_succeeded", path="pricing.trade")
        def on_trade(event):
            got.append(event.path)

        @c.react_to("node_started")
        def any_start(event):
            got.append(("started", event.node))

    _ = Reacts(x=1).result.trade
    assert "pricing.trade" in got
    assert ("started", "trade") in got
    assert ("started", "x") in got


def test_react_to_once_per_execution():
    got = []

    @ig.contract
    def OncePer(c):
        c.input("x")
        c.compute("y", call=lambda x: x)
        c.output("y")

        @c.react_to("node_succeeded", once_per_execution=True)
        def first(event):
            got.append(event.node)

    _ = OncePer(x=1).result.y
    assert got == ["x"]


def test_reaction_path_must_exist():
    with pytest.raises(ig.ValidationError, match="not a node path"):

        @ig.contract
        def BadPath(c):
            c.input("x")
            c.output("x")

            @c.effect("nope")
            def eff():
                pass


def test_on_success_target_must_exist():
    with pytest.raises(ig.ValidationError, match="on_success target 'nope'"):

        @ig.contract
        def BadTarget(c):
            c.input("x")
            c.output("x")

            @c.on_success("nope")
            def done():
                pass


def test_raising_reaction_is_recorded_not_raised():
    @ig.contract
    def Raises(c):
        c.input("x")
        c.compute("y", call=lambda x: x)
        c.output("y")

        @c.effect("y")
        def eff():
            raise RuntimeError("reaction bug")

    contract = Raises(x=1)
    assert contract.result.y == 1
    assert contract.status == "succeeded"
    [err] = contract.reaction_errors
    assert isinstance(err.error, RuntimeError)
    assert err.event.type == "node_succeeded"


def test_present_registers_a_presenter():
    @ig.contract
    def Presented(c):
        c.input("x")
        c.output("x")

        @c.present("x")
        def money(value):
            return f"${value}"

    assert Presented.graph.presenters["x"](value=3) == "$3"
    with pytest.raises(ig.ValidationError, match="no such output"):

        @ig.contract
        def BadPresent(c):
            c.input("x")
            c.output("x")
            c.present("nope", call=lambda value: value)
