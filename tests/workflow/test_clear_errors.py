"""Workflow calls given the wrong kind of argument answer with an ``IgniterError`` naming it (issue 11 point 17):
a ``now=`` that is not an aware datetime, a correlation value of another type than the stored one."""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType
from typing import Any

import pytest

import igniter_nb as ig
from tests.workflow.wf_contracts import TimedWorkflow

CORR = {"case_id": "c-1"}


@pytest.mark.parametrize("now", ["2030-01-01T12:00:00Z", 1893499200, dt.date(2030, 1, 1), dt.datetime(2030, 1, 1)])
def test_now_must_be_an_aware_datetime_everywhere(now: Any, memory_store: Any) -> None:
    TimedWorkflow.start(CORR, store=memory_store)
    calls = [
        lambda: TimedWorkflow.start({"case_id": "c-2"}, store=memory_store, now=now),
        lambda: TimedWorkflow.deliver_event("customer_replied", correlation=CORR, payload={}, store=memory_store, now=now),
        lambda: TimedWorkflow.deliver_event("not_awaited", correlation=CORR, payload={}, store=memory_store, now=now),
        lambda: TimedWorkflow.cancel(correlation=CORR, store=memory_store, now=now),
        lambda: TimedWorkflow.expire_due(memory_store, now=now),
        lambda: TimedWorkflow.retry_workflow(correlation=CORR, store=memory_store, now=now),
        lambda: TimedWorkflow.migrate(memory_store, now=now),
    ]
    for call in calls:
        with pytest.raises(ig.WorkflowArgumentError, match=r"now= must be (a )?timezone-aware") as info:
            call()
        assert isinstance(info.value, ig.IgniterError) and info.value.context["argument"] == "now"
    assert len(memory_store.list()) == 1 and memory_store.record(memory_store.list()[0].execution_id).version == 1


def test_a_correlation_value_of_another_type_is_named_in_the_hint(memory_store: Any) -> None:
    @ig.contract
    def Numbered(c):
        c.correlate_by("order", "shop")
        c.input("order")
        c.input("shop", type=str)
        c.await_event("paid", event="paid")
        c.output("paid")

    Numbered.start(order=42, shop="s-1", store=memory_store)
    with pytest.raises(ig.WorkflowNotFoundError, match=r"differs in order: the value type \(float 42\.0 given, int 42 "
                                                      r"stored\)") as info:
        Numbered.deliver_event("paid", correlation={"order": 42.0, "shop": "s-1"}, store=memory_store)
    assert info.value.context["nearest"][0]["differs_in"] == ["order"]
    with pytest.raises(ig.WorkflowNotFoundError, match=r"differs in order\)"):
        Numbered.deliver_event("paid", correlation={"order": 43, "shop": "s-1"}, store=memory_store)


def test_the_correlation_type_checks_live_with_their_graph(memory_store: Any) -> None:
    import gc
    import weakref

    def define() -> Any:  # a notebook cell run again defines a new class, with a new graph, each time
        @ig.contract
        def Redefined(c):
            c.correlate_by("shop")
            c.input("shop", type=str)
            c.await_event("paid", event="paid")
            c.output("paid")

        with pytest.raises(ig.WorkflowNotFoundError, match="must be of type str, got int 5"):
            Redefined.deliver_event("paid", correlation={"shop": 5}, store=memory_store)
        graph = Redefined.compiled_graph()
        assert graph.correlation_checks() is graph.correlation_checks()  # read once, kept with the graph
        return weakref.ref(Redefined)

    gone = [define() for _ in range(3)]
    gc.collect()
    # the classes a newer definition replaced are freed, with their graphs (the newest may still be held by name)
    assert [ref() for ref in gone[:-1]] == [None, None]


class Metered(ig.Contract):
    """Correlated by a reading that may be any number (no declared type)."""

    def define(c):
        c.correlate_by("reading")
        c.input("reading")
        c.await_event("ack", event="acked")
        c.output("ack")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")], ids=["nan", "inf", "-inf"])
def test_a_non_finite_correlation_value_is_refused_as_a_correlation_error(value: float, memory_store: Any) -> None:
    # it reached the store, whose StoreArgumentError named neither the graph nor the key's role
    with pytest.raises(ig.InputError, match="Correlation key 'reading' of Metered must be a finite number") as info:
        Metered.start({"reading": value}, store=memory_store)
    assert info.value.context["node"] == "reading" and memory_store.list() == []
    for call in (
        lambda: Metered.deliver_event("acked", correlation={"reading": value}, payload=1, store=memory_store),
        # (not a dict: the slower check, which also names what is missing or unknown)
        lambda: Metered.deliver_event("acked", correlation=MappingProxyType({"reading": value}), payload=1,
                                      store=memory_store),
        lambda: Metered.cancel(correlation={"reading": value}, store=memory_store),
        lambda: Metered.retry_workflow(correlation={"reading": value}, store=memory_store),
    ):
        with pytest.raises(ig.WorkflowNotFoundError, match=r"correlation key 'reading' of Metered must be a finite "
                                                           r"number, got float .*no workflow can have that value") as found:
            call()
        assert found.value.context["got"] == "float" and found.value.context["expected"] == "finite number"


def test_an_instance_given_for_the_contract_class_is_named_as_such(memory_store: Any) -> None:
    # start_or_restore(instance) said "Correlation key 'case_id' of TimedWorkflow is missing", although the
    # instance held it; the functions of igniter_nb.workflow went on with whatever the instance happened to do
    from igniter_nb import workflow
    from igniter_nb.workflow.migration import migrate

    instance = TimedWorkflow.start(CORR, store=memory_store)
    stored = [(r.execution_id, r.version) for r in memory_store.list()]
    calls = {
        "start_or_restore": lambda: ig.nb.start_or_restore(TimedWorkflow(case_id="c-2"), store=memory_store),
        "start": lambda: workflow.start(instance, {"case_id": "c-3"}, store=memory_store),
        "deliver_event": lambda: workflow.deliver_event(instance, "agent_note", correlation=CORR, store=memory_store),
        "cancel": lambda: workflow.cancel(instance, correlation=CORR, store=memory_store),
        "expire_due": lambda: workflow.expire_due(instance, memory_store),
        "retry_workflow": lambda: workflow.retry_workflow(instance, correlation=CORR, store=memory_store),
        "migrate": lambda: migrate(instance, memory_store),
    }
    for name, call in calls.items():
        with pytest.raises(ig.NotAContractClassError, match=rf"^{name} needs a contract class \(a subclass of "
                                                            r"ig.Contract\), got an instance of TimedWorkflow "
                                                            r"\(<TimedWorkflow .*\); pass the class TimedWorkflow "
                                                            r"itself") as info:
            call()
        assert isinstance(info.value, TypeError) and isinstance(info.value, ig.WorkflowArgumentError)
        assert info.value.context == {"argument": "contract", "given": "TimedWorkflow"}
    with pytest.raises(ig.NotAContractClassError, match=r"got str 'TimedWorkflow'$"):
        ig.nb.start_or_restore("TimedWorkflow", CORR, store=memory_store)
    assert [(r.execution_id, r.version) for r in memory_store.list()] == stored  # nothing written
