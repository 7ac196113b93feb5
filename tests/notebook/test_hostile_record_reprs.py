"""Hostile-user trial of the records a notebook cell shows by their ``repr`` (``contract.execution.states``, an
audit event): a node value whose ``repr`` raises or recurses past the limit made the node state's ``repr`` raise
(IPython printed an error instead), and a 10 MB value put 10 MB in the output."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.events.event import Event
from tests.notebook.test_hostile_values import RaisingRepr, _deep

SHORT = 3_000  # characters: three fields of MAX_REPR (1,000) at most
VALUES: dict[str, Any] = {
    "repr raises": RaisingRepr,
    "10,000 levels deep": lambda: _deep(10_000),
    "10 MB string": lambda: "A" * 10_000_000,
}


class Holder(ig.Contract):
    def define(c):
        c.input("x")

        @c.compute
        def echo(x):
            return x

        c.output("echo")


@pytest.mark.parametrize("make", VALUES.values(), ids=list(VALUES))
def test_a_node_state_and_an_event_holding_any_value_have_a_short_repr(make: Any) -> None:
    value = make()
    contract = Holder(x=value)
    with contextlib.suppress(Exception):
        contract.resolve_all()
    state = contract.execution.states["echo"]
    shown = repr(state)
    assert shown.startswith("NodeState(name='echo', status=") and len(shown) < SHORT
    assert "(repr failed)" in shown or "more characters" in shown
    event = Event(1, "node_succeeded", "e-1", "echo", "echo", "succeeded", {"value": value}, 0.0)
    assert len(repr(event)) < SHORT


def test_an_ordinary_node_state_reads_as_the_named_tuple_did() -> None:
    """Regression guard: the repr of ordinary states (in docs and logs) is unchanged."""
    contract = Holder(x=[1, "a"])
    contract.resolve_all()
    state = contract.execution.states["echo"]
    assert repr(state).startswith("NodeState(name='echo', status=<Status.SUCCEEDED: 'succeeded'>, value=[1, 'a'], ")
