"""Errors: hierarchy, context, `__cause__`, original type name (L-12), retry (L-30), interrupts (L-16)."""

from __future__ import annotations

from collections import Counter

import pytest

import igniter_nb as ig


class PaymentDeclined(Exception):
    pass


def failing(kind=ValueError):
    @ig.contract
    def Failing(c):
        c.input("x")

        @c.compute
        def charge(x):
            raise kind(f"declined {x}")

        @c.compute
        def receipt(charge):
            return charge

        c.output("receipt")

    return Failing


@pytest.mark.parametrize(
    "cls",
    [ig.CompileError, ig.ValidationError, ig.CycleError, ig.InputError, ig.ResolutionError,
     ig.CollectionInputError, ig.CollectionKeyError, ig.BranchSelectionError, ig.WorkflowNotFoundError,
     ig.AwaitedEventMismatchError, ig.DuplicateSignalError, ig.DuplicateWorkflowError,
     ig.PayloadValidationError, ig.ConcurrencyError, ig.SnapshotNotFoundError, ig.SnapshotEncodingError],
)
def test_every_error_is_an_igniter_error(cls):
    assert issubclass(cls, ig.IgniterError)
    err = cls("boom", graph="G", node="n", path="p", execution_id="e", source_location="f.py:1")
    assert str(err) == "boom [graph=G, node=n, path=p, execution=e, location=f.py:1]"
    assert err.context == {"graph": "G", "node": "n", "path": "p", "execution_id": "e", "source_location": "f.py:1"}


def test_hierarchy():
    assert issubclass(ig.CycleError, ig.ValidationError)
    assert issubclass(ig.ValidationError, ig.CompileError)
    assert issubclass(ig.CollectionKeyError, ig.ResolutionError)


def test_message_suffix_only_has_present_items():
    assert str(ig.ResolutionError("x", graph="G")) == "x [graph=G]"
    assert str(ig.ResolutionError("x")) == "x"


def test_user_exception_becomes_resolution_error_with_cause_and_type_name_L12():
    contract = failing(PaymentDeclined)(x=1)
    with pytest.raises(ig.ResolutionError) as info:
        _ = contract.result.receipt
    err = info.value
    assert isinstance(err.__cause__, PaymentDeclined)
    assert str(err.__cause__) == "declined 1"
    assert "PaymentDeclined" in err.context["cause_type"]
    assert "PaymentDeclined: declined 1" in str(err)
    assert err.to_dict()["cause_type"] == err.context["cause_type"]
    assert err.context["node"] == "charge"  # where it happened, not where it was read
    assert err.context["execution_id"] == contract.execution_id
    assert err.context["source_location"].startswith(__file__)


def test_dependent_fails_with_the_same_error_object():
    contract = failing()(x=1).resolve_all()
    errors = contract.result.errors
    assert set(errors) == {"charge", "receipt"}
    assert errors["receipt"] is errors["charge"]


def test_reading_failed_output_raises_every_time_without_rerunning():
    calls = Counter()

    @ig.contract
    def Once(c):
        c.input("x")

        @c.compute
        def bad(x):
            calls["bad"] += 1
            raise RuntimeError("no")

        c.output("bad")

    contract = Once(x=1)
    for _ in range(3):
        with pytest.raises(ig.ResolutionError):
            _ = contract.result.bad
    assert calls["bad"] == 1


def test_library_errors_raised_by_user_code_keep_their_class():
    def raise_input_error(x):
        raise ig.InputError("custom input problem")

    @ig.contract
    def Raises(c):
        c.input("x")
        c.compute("y", call=raise_input_error)
        c.output("y")

    with pytest.raises(ig.InputError, match="custom input problem") as info:
        _ = Raises(x=1).result.y
    assert info.value.context["node"] == "y"


def test_retry_reruns_failed_nodes_L30():
    attempts = Counter()

    @ig.contract
    def Flaky(c):
        c.input("x")

        @c.compute
        def fetch(x):
            attempts["fetch"] += 1
            if attempts["fetch"] == 1:
                raise ConnectionError("temporary")
            return x * 2

        @c.compute
        def report(fetch):
            return f"got {fetch}"

        c.output("report")

    contract = Flaky(x=21)
    assert contract.status == "failed"
    assert contract.retry() is contract
    assert contract.status == "succeeded"
    assert contract.result.report == "got 42"
    assert attempts["fetch"] == 2


def test_retry_single_node_and_downstream_only_L30():
    attempts = Counter()

    @ig.contract
    def TwoFailures(c):
        c.input("x")

        @c.compute
        def one(x):
            attempts["one"] += 1
            raise ValueError("one")

        @c.compute
        def two(x):
            attempts["two"] += 1
            raise ValueError("two")

        c.output("one")
        c.output("two")

    contract = TwoFailures(x=1).resolve_all()
    assert attempts == Counter(one=1, two=1)
    contract.retry("one")
    assert attempts == Counter(one=2, two=1)


def test_retry_without_failures_changes_nothing():
    @ig.contract
    def Fine(c):
        c.input("x")
        c.output("x")

    contract = Fine(x=1).resolve_all()
    before = len(contract.events)
    contract.retry()
    assert len(contract.events) == before


def test_keyboard_interrupt_never_leaves_a_node_running_L16():
    attempts = Counter()

    @ig.contract
    def Interrupted(c):
        c.input("x")

        @c.compute
        def slow(x):
            attempts["slow"] += 1
            if attempts["slow"] == 1:
                raise KeyboardInterrupt
            return x + 1

        c.output("slow")

    contract = Interrupted(x=1)
    with pytest.raises(KeyboardInterrupt):
        _ = contract.result.slow
    assert attempts["slow"] == 1
    assert all(st.status != "running" for st in contract.execution.states.values())
    assert "running" not in {v["status"] for v in contract.states.values()}
    assert contract.execution.resolver.running == set()
    assert contract.result.slow == 2  # re-resolution works after the interrupt
    assert attempts["slow"] == 2


def test_keyboard_interrupt_is_not_reported_as_success_L16():
    attempts = Counter()
    seen = []

    @ig.contract
    def Interrupted(c):
        c.input("x")

        @c.compute
        def slow(x):
            attempts["slow"] += 1
            if attempts["slow"] == 1:
                raise KeyboardInterrupt
            return x + 1

        c.output("slow")

        @c.on_success("slow")
        def ok(value):
            seen.append(value)

    contract = Interrupted(x=1)
    with pytest.raises(KeyboardInterrupt):
        _ = contract.result.slow
    assert attempts["slow"] == 1  # nothing re-ran the node while the interrupt was propagating
    assert seen == []
    finished = [e for e in contract.events if e.type == "execution_finished"]
    assert all(e.payload.get("status") != "succeeded" for e in finished)


def test_to_dict_of_an_error():
    err = ig.InputError("bad", graph="G", node="n")
    assert err.to_dict() == {"type": "InputError", "message": "bad", "context": {"graph": "G", "node": "n"}}


class _UnprintableError(Exception):
    def __str__(self):
        raise RuntimeError("__str__ itself is broken")


class _NotTextError(Exception):
    def __str__(self):
        return 42  # type: ignore[return-value]


@pytest.mark.parametrize("error", [_UnprintableError("x"), _NotTextError("y")], ids=["raising", "non_text"])
@pytest.mark.parametrize("subscribed", [False, True], ids=["fast_path", "finish"])
def test_an_exception_whose_str_breaks_still_fails_its_node(error, subscribed):
    @ig.contract
    def Broken(c):
        c.input("x")

        @c.compute
        def a(x):
            raise error

        c.compute("b", call=lambda a: a)
        c.output("b")

    contract = Broken(x=1)
    if subscribed:
        contract.subscribe(lambda event: None)
    assert contract.status == "failed"  # was: the RuntimeError/TypeError from str() escaped `status`
    err = contract.result.errors["a"]
    assert err.message == f"{type(error).__name__}: <str() of {type(error).__name__} raised " \
                          f"{'RuntimeError' if isinstance(error, _UnprintableError) else 'TypeError'}>"
    assert err.__cause__ is error
    assert "Status: failed" in contract.diagnostics.to_text()
    contract.snapshot()


def test_a_branch_predicate_raising_an_unprintable_error_fails_the_branch():
    class Leaf(ig.Contract):
        def define(c):
            c.input("v")
            c.output("v")

    def picky(value):
        raise _UnprintableError()

    @ig.contract
    def Routed(c):
        c.input("v")
        c.branch("route", selector="v", cases=[(picky, Leaf)], default=Leaf, inputs={"v": "v"})
        c.output("route")

    contract = Routed(v=1)
    assert contract.status == "failed"
    assert "raised _UnprintableError: <str() of _UnprintableError raised RuntimeError>" in str(
        contract.result.errors["route"])
