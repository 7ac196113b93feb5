"""A node value is read by every dependent, so one-shot iterators (generators, ``map``, ``itertools.count``...)
are refused with an error naming the node instead of being drained by the first reader (issue 11, point 12)."""

from __future__ import annotations

import io
import itertools

import pytest

import igniter_nb as ig


def _numbers(n):
    yield from range(n)


@ig.contract
def Shared(c):
    c.input("n", type=int)
    c.compute("numbers", depends_on=["n"], call=_numbers)
    c.compute("total", depends_on=["numbers"], call=lambda numbers: sum(numbers))
    c.compute("count", depends_on=["numbers"], call=lambda numbers: len(list(numbers)))
    c.output("total")
    c.output("count")


@pytest.mark.parametrize("runner", ["inline", "threads"])
def test_generator_value_fails_its_node_for_every_dependent(runner):
    k = Shared(n=4, runner=runner)
    assert k.status == "failed"
    errors = k.result.errors
    assert set(errors) == {"numbers", "total", "count"}
    err = errors["numbers"]
    assert isinstance(err, ig.ResolutionError)
    assert err.context["node"] == "numbers" and err.context["graph"] == "Shared"
    assert "returned a generator" in err.message and "list(...)" in err.message
    assert errors["total"] is err and errors["count"] is err  # no dependent got an empty sequence
    with pytest.raises(ig.ResolutionError, match="returned a generator"):
        _ = k.result.total


class Lazy(ig.Executor):
    def call(self, n):  # type: ignore[no-untyped-def]
        return map(str, range(n))


def test_endless_iterators_and_executor_iterators_fail_without_hanging():
    @ig.contract
    def Endless(c):
        c.input("n", type=int)
        c.compute("forever", depends_on=["n"], call=lambda n: itertools.count(n))
        c.compute("mapped", depends_on=["n"], call=Lazy)
        c.compute("head", depends_on=["forever"], call=lambda forever: next(forever))
        c.output("head")
        c.output("mapped")

    k = Endless(n=1)
    assert k.status == "failed"
    assert "returned an iterator (count)" in str(k.result.errors["forever"])
    assert "returned an iterator (map)" in str(k.result.errors["mapped"])
    assert k.states["head"]["status"] == "failed"


class Bag:
    """Iterable many times (has ``__iter__`` but no ``__next__``): a normal value."""

    def __iter__(self):
        return iter([1, 2, 3])


def test_reiterable_values_are_normal_values():
    @ig.contract
    def Fine(c):
        c.input("n", type=int)
        c.compute("r", depends_on=["n"], call=lambda n: range(n))
        c.compute("bag", depends_on=["n"], call=lambda n: Bag())
        c.compute("buffer", depends_on=["n"], call=lambda n: io.StringIO("x" * n))  # a handle, not a sequence
        c.compute("a", depends_on=["r", "bag", "buffer"], call=lambda r, bag, buffer: sum(r) + sum(bag))
        c.compute("b", depends_on=["r", "bag", "buffer"], call=lambda r, bag, buffer: buffer.getvalue())
        c.output("a")
        c.output("b")

    k = Fine(n=4)
    assert (k.result.a, k.result.b) == (12, "xxxx")


def test_generator_inputs_and_resume_values_are_refused_before_anything_changes():
    @ig.contract
    def Takes(c):
        c.input("items")
        c.compute("total", depends_on=["items"], call=lambda items: sum(items))
        c.output("total")

    with pytest.raises(ig.InputError, match="Input 'items' is a generator") as info:
        Takes(items=(i for i in range(3)))
    assert info.value.context["node"] == "items"
    k = Takes(items=[1, 2])
    assert k.result.total == 3
    with pytest.raises(ig.InputError, match="is an iterator"):
        k.update_inputs(items=iter([5]))
    assert k.result.total == 3 and k.inputs == {"items": [1, 2]}

    class Asks(ig.Executor):
        def call(self, items):  # type: ignore[no-untyped-def]
            return self.defer(token="t-1")

    @ig.contract
    def Waits(c):
        c.input("items")
        c.compute("answer", depends_on=["items"], call=Asks)
        c.output("answer")

    w = Waits(items=[1])
    assert w.status == "pending"
    with pytest.raises(ig.ResolutionError, match="resuming 'answer' is a generator"):
        w.resume_by_token("t-1", value=(i for i in range(2)))
    assert w.status == "pending"
    w.resume_by_token("t-1", value=[0, 1])
    assert w.result.answer == [0, 1]
