"""``ReactionError.to_dict()`` names the callback that raised — also a callable object, not the whole reaction."""

from __future__ import annotations

import igniter_nb as ig


class Flaky:
    def __repr__(self) -> str:
        return "<Flaky>"

    def __call__(self, value):
        raise RuntimeError("flaky")


def test_a_callable_object_is_named_by_its_repr():
    @ig.contract
    def Shop(c):
        c.input("a")
        c.compute("b", call=lambda a: a)
        c.output("b")
        c.effect("b")(Flaky())

    shop = Shop(a=1)
    assert shop.result.b == 1
    [error] = shop.reaction_errors
    assert error.to_dict()["reaction"] == "<Flaky>"  # it was "Reaction(event_type='node_succeeded', ...)"
    assert error.to_dict()["error"] == "RuntimeError: flaky"


def test_a_function_and_a_subscriber_are_named_by_their_names():
    @ig.contract
    def Shop(c):
        c.input("a")
        c.compute("b", call=lambda a: a)
        c.output("b")

        @c.effect("b")
        def broken(value):
            raise ValueError("x")

    def listener(event):
        if event.type == "execution_finished":
            raise KeyError("y")

    shop = Shop(a=1).subscribe(listener)
    shop.resolve_all()
    assert [e.to_dict()["reaction"] for e in shop.reaction_errors] == ["broken", "listener"]
