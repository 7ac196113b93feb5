"""A value the codec cannot encode fails its node instead of the save (issue 11 point 3, PRODUCT §8): the failure
is stored and names the node and the value's type, the workflow is ``failed`` (never stuck ``waiting``), and
``status`` never raises."""

from __future__ import annotations

import threading

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.workflow.wf_contracts import LeadWorkflow

CORR = {"request_id": "req-1", "company_id": "co-42"}


@ig.contract
def Locking(c):
    c.run_with("store")
    c.input("n", type="integer")
    c.compute("lock", depends_on=["n"], call=lambda n: threading.Lock())

    @c.compute
    def label(lock, n):
        return f"{n}"

    c.compute("other", depends_on=["n"], call=lambda n: n + 1)
    c.output("label")
    c.output("other")


def test_store_runner_stores_the_failure_on_its_first_save_and_status_never_raises():
    store = MemoryStore()
    contract = Locking(n=1, store=store)
    assert contract.status == "failed"  # no SnapshotEncodingError out of status
    error = contract.result.errors["lock"]
    assert isinstance(error, ig.SnapshotEncodingError)
    assert "node 'lock' holds a value of type _thread.lock that cannot be stored" in error.message
    assert error.context["node"] == "lock" and error.context["value_type"] == "_thread.lock"
    assert contract.result.errors["label"] is error  # the dependent failed with it
    assert contract.result.other == 2  # what does not depend on it is untouched
    history = store.history(contract.execution_id)
    assert len(history) == 1  # the first save is the one that stores the failure
    states = history[0]["states"]
    assert states["lock"]["status"] == "failed" and states["lock"]["value"] is None
    assert states["lock"]["error"]["type"] == "SnapshotEncodingError"
    assert states["label"]["status"] == "failed"
    restored = Locking.restore_from_store(contract.execution_id, store=store)
    assert restored.status == "failed" and restored.result.errors["lock"].context["node"] == "lock"


def test_unstorable_payload_fails_the_await_and_the_workflow_instead_of_leaving_it_waiting():
    store = MemoryStore()
    wf = LeadWorkflow.start(CORR, store=store)
    done = LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload={"file": threading.Lock()},
                                      store=store, idempotency_key="evt-1")
    assert done.workflow_status == "failed" and done.status == "failed"
    record = store.record(wf.execution_id)
    assert record.status == "failed"  # stored, visible, and the correlation is free again
    assert record.snapshot["workflow"]["error"]["node"] == "crm_data"
    assert "value of type _thread.lock" in record.snapshot["workflow"]["error"]["message"]
    assert record.snapshot["states"]["crm_data"]["status"] == "failed"
    assert store.find_by_correlation("LeadWorkflow", CORR) is None
    # the webhook's retry with the same key is answered, not failed again
    again = LeadWorkflow.deliver_event("crm_webhook_received", correlation=CORR, payload={"file": threading.Lock()},
                                       store=store, idempotency_key="evt-1")
    assert again.execution_id == wf.execution_id and store.record(wf.execution_id).version == record.version


def test_unstorable_payload_for_an_await_not_reached_yet_fails_it():
    from tests.workflow.wf_contracts import ChainedWorkflow

    store = MemoryStore()
    ChainedWorkflow.start(order_id="o-1", store=store)
    done = ChainedWorkflow.deliver_event("goods_shipped", correlation={"order_id": "o-1"}, payload=threading.Lock(),
                                         store=store)
    assert done.workflow_status == "failed"
    stored = store.fetch(done.execution_id)
    assert stored["states"]["second"]["status"] == "failed" and "second" not in stored["bound_events"]


def test_unstorable_input_fails_its_input_node_at_start():
    store = MemoryStore()

    @ig.contract
    def Holder(c):
        c.correlate_by("key")
        c.input("key", type=str)
        c.input("thing")
        c.await_event("go", event="go")
        c.compute("out", depends_on=["thing", "go"], call=lambda thing, go: go)
        c.output("out")

    wf = Holder.start(key="k", thing=threading.Lock(), store=store)
    assert wf.workflow_status == "failed"
    stored = store.fetch(wf.execution_id)
    assert stored["states"]["thing"]["status"] == "failed" and "thing" not in stored["inputs"]
    assert Holder.restore_from_store(wf.execution_id, store=store).workflow_status == "failed"


def test_unstorable_value_inside_a_composed_child_fails_the_composition_node():
    store = MemoryStore()

    @ig.contract
    def Inner(c):
        c.input("n", type="integer")
        c.compute("lock", depends_on=["n"], call=lambda n: threading.Lock())
        c.output("lock")

    @ig.contract
    def Outer(c):
        c.run_with("store")
        c.input("n", type="integer")
        c.compose("inner", contract=Inner, inputs={"n": "n"})
        c.output("inner")

    outer = Outer(n=1, store=store)
    assert outer.status == "failed"
    error = outer.result.errors["inner"]
    assert error.context["node"] == "inner" and "_thread.lock" in error.message
    assert store.fetch(outer.execution_id)["children"] == {}


@pytest.mark.parametrize("depth", [201, 400, 2000])
def test_deeply_nested_value_fails_its_node_not_the_interpreter(depth):
    store = MemoryStore()

    @ig.contract
    def Deep(c):
        c.run_with("store")
        c.input("n", type="integer")

        @c.compute
        def nested(n):
            value: object = n
            for _ in range(depth):
                value = {"v": value}
            return value

        c.output("nested")

    contract = Deep(n=1, store=store)
    assert contract.status == "failed"
    assert "nested deeper than 200 levels" in contract.result.errors["nested"].message
