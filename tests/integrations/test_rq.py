"""RQ jobs: enqueue by contract import path with JSON arguments, run by RQ's SimpleWorker (burst mode) against
the default store (SQLite file and PostgreSQL); failures carry the igniter error; only transient ones retry."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import zlib
from typing import Any

import pytest
from rq import Queue, Retry
from rq.job import Job, JobStatus

import igniter_nb as ig
from igniter_nb.errors import AwaitedEventMismatchError, PayloadValidationError, SnapshotEncodingError
from igniter_nb.integrations import rq as ig_rq
from tests.integrations.conftest import run_jobs
from tests.integrations.int_contracts import AsyncQuote, OrderWorkflow

pytestmark = pytest.mark.services

CONTRACT = "tests.integrations.int_contracts:OrderWorkflow"


def _signals(store: Any, execution_id: str) -> list[dict[str, Any]]:
    return list(store.record(execution_id).snapshot["workflow"]["signals"])


def test_start_job_is_json_names_its_contract_by_path_and_runs_against_the_default_store(
        queue: Queue, default_store: Any) -> None:
    job = ig_rq.enqueue_start(OrderWorkflow, {"order_id": "o-1", "placed_on": dt.date(2030, 5, 17)}, queue=queue)

    raw = zlib.decompress(queue.connection.hget(job.key, "data"))  # RQ compresses the job's data
    func_name, instance, args, kwargs = json.loads(raw)  # JSON in Redis, not a pickle
    assert func_name == "igniter_nb.integrations.rq.run_start" and instance is None and args == []
    assert kwargs["contract"] == CONTRACT
    assert kwargs["inputs"]["placed_on"] == {"__ig__": "date", "value": "2030-05-17"}

    run_jobs(queue)
    job = Job.fetch(job.id, connection=queue.connection, serializer=queue.serializer)
    assert job.get_status() == JobStatus.FINISHED
    result = job.return_value()
    assert result["graph"] == "OrderWorkflow" and result["workflow_status"] == "waiting"
    record = default_store.record(result["execution_id"])
    assert record.status == "waiting" and record.correlation == {"order_id": "o-1"}
    restored = OrderWorkflow.restore_from_store(result["execution_id"], store=default_store)
    assert restored.inputs["placed_on"] == dt.date(2030, 5, 17)


def test_deliver_jobs_apply_each_signal_once_and_a_duplicate_job_is_answered_idempotently(
        queue: Queue, default_store: Any) -> None:
    wf = OrderWorkflow.start(order_id="o-2", store=default_store)
    first = ig_rq.enqueue_deliver_event(OrderWorkflow, "payment_received", correlation={"order_id": "o-2"},
                                        payload={"amount": 40, "currency": "EUR"}, idempotency_key="pay-1", queue=queue)
    again = ig_rq.enqueue_deliver_event(OrderWorkflow, "payment_received", correlation={"order_id": "o-2"},
                                        payload={"amount": 40, "currency": "EUR"}, idempotency_key="pay-1", queue=queue)
    ship = ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"order_id": "o-2"},
                                       payload={"carrier": "DHL"}, idempotency_key="ship-1", queue=queue)
    run_jobs(queue)

    results = {}
    for job in (first, again, ship):
        fetched = Job.fetch(job.id, connection=queue.connection, serializer=queue.serializer)
        assert fetched.get_status() == JobStatus.FINISHED, ig_rq.job_error(fetched)
        results[job.id] = fetched.return_value()
    assert results[first.id]["replayed"] is False and results[again.id]["replayed"] is True
    assert results[first.id]["signal"] == results[again.id]["signal"] == 1
    signals = _signals(default_store, wf.execution_id)
    assert [(s["event"], s["idempotency_key"]) for s in signals] == [("payment_received", "pay-1"),
                                                                    ("goods_shipped", "ship-1")]
    done = OrderWorkflow.restore_from_store(wf.execution_id, store=default_store)
    assert done.workflow_status == "succeeded"
    assert done.result.summary == {"order": "o-2", "placed_on": None, "paid": 40, "carrier": "DHL"}


def test_a_deliver_job_without_a_key_uses_its_job_id_so_running_it_again_applies_the_signal_once(
        queue: Queue, default_store: Any) -> None:
    wf = OrderWorkflow.start(order_id="o-3", store=default_store)
    job = ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"order_id": "o-3"},
                                      payload={"carrier": "UPS"}, queue=queue)
    assert job.kwargs["idempotency_key"] == f"rq:{job.id}"
    run_jobs(queue)
    queue.enqueue_job(Job.fetch(job.id, connection=queue.connection, serializer=queue.serializer))  # e.g. a requeue
    run_jobs(queue)

    fetched = Job.fetch(job.id, connection=queue.connection, serializer=queue.serializer)
    assert fetched.get_status() == JobStatus.FINISHED
    assert fetched.return_value()["replayed"] is True
    assert [s["idempotency_key"] for s in _signals(default_store, wf.execution_id)] == [f"rq:{job.id}"]


def test_a_job_for_an_unknown_workflow_fails_with_the_error_context_and_is_not_retried(
        queue: Queue, default_store: Any) -> None:
    OrderWorkflow.start(order_id="o-4", store=default_store)
    job = ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"order_id": "o-404"},
                                      payload={"carrier": "DHL"}, queue=queue, retry=Retry(max=3))
    run_jobs(queue)

    fetched = Job.fetch(job.id, connection=queue.connection, serializer=queue.serializer)
    assert fetched.get_status() == JobStatus.FAILED
    assert job.id in queue.failed_job_registry.get_job_ids()
    error = ig_rq.job_error(fetched)
    assert error is not None
    assert error["type"] == "WorkflowNotFoundError" and error["transient"] is False
    assert error["context"]["graph"] == "OrderWorkflow"
    assert error["context"]["correlation"] == {"order_id": "o-404"}
    assert error["context"]["nearest"][0]["correlation"] == {"order_id": "o-4"}
    assert len(fetched.results()) == 1  # ran once: RQ's retries are kept for transient errors
    assert "WorkflowNotFoundError" in fetched.latest_result().exc_string


def test_a_duplicate_signal_with_another_key_fails_with_the_execution_it_hit(queue: Queue, default_store: Any) -> None:
    wf = OrderWorkflow.start(order_id="o-5", store=default_store)
    OrderWorkflow.deliver_event("goods_shipped", correlation={"order_id": "o-5"}, payload={"carrier": "DHL"},
                                store=default_store, idempotency_key="a")
    job = ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"order_id": "o-5"},
                                      payload={"carrier": "DHL"}, idempotency_key="b", queue=queue)
    run_jobs(queue)

    error = ig_rq.job_error(job)
    assert error is not None and error["type"] == "DuplicateSignalError"
    assert error["context"]["execution_id"] == wf.execution_id and error["context"]["node"] == "shipment"
    assert len(_signals(default_store, wf.execution_id)) == 1


def test_a_resume_job_restores_resumes_and_saves(queue: Queue, default_store: Any) -> None:
    pending = AsyncQuote(order_total=10, store=default_store)
    assert str(pending.status) == "pending"
    job = ig_rq.enqueue_resume(AsyncQuote, pending.execution_id, token="quote-10", value=21, queue=queue)
    run_jobs(queue)

    fetched = Job.fetch(job.id, connection=queue.connection, serializer=queue.serializer)
    assert fetched.get_status() == JobStatus.FINISHED, ig_rq.job_error(fetched)
    assert fetched.return_value()["status"] == "succeeded"
    record = default_store.record(pending.execution_id)
    assert record.status == "succeeded"
    assert AsyncQuote.restore_from_store(pending.execution_id, store=default_store).result.gross_total == 42


def test_a_worker_whose_default_store_is_memory_refuses_jobs_naming_the_variable(queue: Queue) -> None:
    from igniter_nb.stores import MemoryStore

    ig.configure(store=MemoryStore())
    try:
        job = ig_rq.enqueue_start(OrderWorkflow, {"order_id": "o-6"}, queue=queue)
        run_jobs(queue)
    finally:
        ig.configure(None)
    error = ig_rq.job_error(job)
    assert error is not None and error["type"] == "StoreError" and "IGNITER_STORE_URL" in error["message"]
    assert error["transient"] is False


# ------------------------------------------------------------------------------------------ transient errors
def _dead_redis_store(port: int) -> Any:
    from igniter_nb.stores import RedisStore

    return RedisStore(f"redis://127.0.0.1:{port}/0", namespace="jobs")


def test_a_store_that_cannot_be_reached_is_retried_by_rq_then_fails_as_transient(queue: Queue) -> None:
    from tests.services import dead_port

    with dead_port() as port:
        ig.configure(store=_dead_redis_store(port))
        try:
            job = ig_rq.enqueue_start(OrderWorkflow, {"order_id": "o-7"}, queue=queue, retry=Retry(max=2))
            run_jobs(queue)
        finally:
            ig.configure(None)
    fetched = Job.fetch(job.id, connection=queue.connection, serializer=queue.serializer)
    assert fetched.get_status() == JobStatus.FAILED
    assert fetched.retries_left == 0  # both retries were used
    error = ig_rq.job_error(fetched)
    assert error is not None and error["transient"] is True and error["type"] == "StoreError"
    assert "ConnectionError" in error["message"]  # the driver's cause, named by the store's error


def test_a_retried_job_succeeds_once_the_store_is_back_and_its_error_is_cleared(queue: Queue) -> None:
    from tests.services import RedisServer, dead_port

    held = contextlib.ExitStack()
    port = held.enter_context(dead_port())  # nothing listens there, nor can until the server starts
    store = _dead_redis_store(port)
    ig.configure(store=store)
    server = RedisServer(port=port)  # this port, where the store points: a clear error if taken meanwhile
    try:
        with held:
            job = ig_rq.enqueue_start(OrderWorkflow, {"order_id": "o-8"}, queue=queue, retry=Retry(max=3))
            run_jobs(queue, max_jobs=1)  # first attempt: connection refused, requeued by RQ
            assert ig_rq.job_error(job)["transient"] is True
        server.start()
        run_jobs(queue)
        fetched = Job.fetch(job.id, connection=queue.connection, serializer=queue.serializer)
        assert fetched.get_status() == JobStatus.FINISHED
        assert ig_rq.job_error(fetched) is None
        assert store.record(fetched.return_value()["execution_id"]).status == "waiting"
    finally:
        held.close()
        ig.configure(None)
        server.stop()


# ------------------------------------------------------------------------------------------ refused at enqueue
def test_values_that_cannot_be_encoded_fail_at_enqueue_naming_the_place_and_nothing_is_enqueued(queue: Queue) -> None:
    with pytest.raises(SnapshotEncodingError, match=r"inputs\.extra"):
        ig_rq.enqueue_start(OrderWorkflow, {"order_id": "o-9", "extra": object()}, queue=queue)
    with pytest.raises(SnapshotEncodingError, match="payload"):
        ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"order_id": "o-9"},
                                    payload={"carrier": lambda: 1}, queue=queue)
    assert queue.count == 0


def test_bad_deliver_calls_are_refused_at_enqueue(queue: Queue) -> None:
    with pytest.raises(AwaitedEventMismatchError, match="does not await event 'refunded'"):
        ig_rq.enqueue_deliver_event(OrderWorkflow, "refunded", correlation={"order_id": "o"}, queue=queue)
    with pytest.raises(PayloadValidationError, match="amount"):
        ig_rq.enqueue_deliver_event(OrderWorkflow, "payment_received", correlation={"order_id": "o"},
                                    payload={"amount": "lots", "currency": "EUR"}, queue=queue)
    with pytest.raises(ig.WorkflowNotFoundError, match="missing order_id"):
        ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"id": "o"}, queue=queue)
    with pytest.raises(ValueError, match="idempotency_key"):
        ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"order_id": "o"},
                                    idempotency_key="  ", queue=queue)
    with pytest.raises(ValueError, match="token"):
        ig_rq.enqueue_resume(AsyncQuote, "some-id", token="", queue=queue)
    with pytest.raises(TypeError, match=r"unknown job option.*timeout"):
        ig_rq.enqueue_start(OrderWorkflow, {"order_id": "o"}, queue=queue, timeout=5)
    assert queue.count == 0


def test_contracts_a_worker_could_not_import_are_refused_at_enqueue(queue: Queue) -> None:
    def define(c: Any) -> None:
        c.input("x")
        c.output("x")

    local = type("Local", (ig.Contract,), {"define": define, "__qualname__": "f.<locals>.Local"})
    main = type("Script", (ig.Contract,), {"define": define, "__module__": "__main__"})
    with pytest.raises(ValueError, match="inside a function"):
        ig_rq.enqueue_start(local, {"x": 1}, queue=queue)
    with pytest.raises(ValueError, match="__main__"):
        ig_rq.enqueue_start(main, {"x": 1}, queue=queue)
    with pytest.raises(TypeError, match="expected a contract class"):
        ig_rq.enqueue_start(dict, {"x": 1}, queue=queue)
    assert queue.count == 0


def test_a_queue_that_pickles_is_refused(rq_connection: Any) -> None:
    pickling = Queue("igniter-pickle", connection=rq_connection)
    with pytest.raises(ValueError, match="JSON only"):
        ig_rq.enqueue_start(OrderWorkflow, {"order_id": "o"}, queue=pickling)
    with pytest.raises(TypeError, match=r"rq\.Queue"):
        ig_rq.enqueue_start(OrderWorkflow, {"order_id": "o"}, queue="igniter")
    assert pickling.count == 0


def test_a_job_naming_something_that_is_not_a_contract_is_refused_by_the_worker(
        queue: Queue, default_store: Any) -> None:
    # A job written by hand (or tampered with in Redis) that points at a function and at a plain value.
    calls = queue.enqueue(ig_rq.run_start, kwargs={"contract": "json:dumps", "inputs": {}})
    value = queue.enqueue(ig_rq.run_start, kwargs={"contract": "tests.integrations.int_contracts:NOT_A_CONTRACT",
                                                   "inputs": {}})
    garbage = queue.enqueue(ig_rq.run_start, kwargs={"contract": "os; rm -rf /", "inputs": {}})
    run_jobs(queue)
    assert "function, not a contract class; refusing" in ig_rq.job_error(calls)["message"]
    assert "str, not a contract class" in ig_rq.job_error(value)["message"]
    assert "looks like 'package.module:ClassName'" in ig_rq.job_error(garbage)["message"]


def test_the_integrations_namespace_is_lazy() -> None:
    import subprocess
    import sys

    code = ("import sys, igniter_nb as ig, igniter_nb.integrations\n"
            "assert not {'rq', 'redis', 'starlette'} & set(sys.modules), sorted(sys.modules)\n"
            "assert ig.integrations is igniter_nb.integrations\n"
            "ig.integrations.webhooks\n"
            "assert 'rq' not in sys.modules and 'starlette' not in sys.modules\n"
            "ig.integrations.rq\n"
            "assert 'rq' in sys.modules\n"
            "print('ok')\n")
    from tests.integrations.conftest import ROOT

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_a_start_whose_correlation_no_workflow_could_have_is_refused_at_enqueue(queue: Queue) -> None:
    # it was enqueued and failed in the worker with the same InputError, every time
    with pytest.raises(ig.InputError, match="Correlation key 'order_id' of OrderWorkflow is missing"):
        ig_rq.enqueue_start(OrderWorkflow, {"placed_on": None}, queue=queue)
    with pytest.raises(ig.InputError, match="Correlation key 'order_id' of OrderWorkflow is blank"):
        ig_rq.enqueue_start(OrderWorkflow, {"order_id": "  "}, queue=queue)
    with pytest.raises(ig.InputError, match="must be a string or number"):
        ig_rq.enqueue_start(OrderWorkflow, {"order_id": ["o-1"]}, queue=queue)
    assert queue.count == 0


def test_a_value_of_a_class_defined_in_main_is_refused_at_enqueue_naming_the_place(
        queue: Queue, monkeypatch: pytest.MonkeyPatch) -> None:
    # the worker's __main__ is RQ's own: the job failed there with "__main__:Parcel does not exist"
    import dataclasses
    import sys

    parcel = dataclasses.make_dataclass("Parcel", [("carrier", str)], namespace={"__module__": "__main__"})
    monkeypatch.setattr(sys.modules["__main__"], "Parcel", parcel, raising=False)  # as a script or notebook has it
    with pytest.raises(SnapshotEncodingError, match=r"payload\.parcel: .*__main__:Parcel.*a worker cannot import"):
        ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"order_id": "o-9"},
                                    payload={"parcel": parcel("ups")}, queue=queue)
    with pytest.raises(SnapshotEncodingError, match=r"inputs\.placed_on: "):
        ig_rq.enqueue_start(OrderWorkflow, {"order_id": "o-9", "placed_on": parcel("dhl")}, queue=queue)
    ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"order_id": "o-9"},
                                payload={"note": '{"__ig__": "dataclass", "class": "__main__:Parcel"}'}, queue=queue)
    assert queue.count == 1  # text that merely looks like it is a value like any other


def test_running_jobs_in_this_process_leaves_the_signal_handlers_as_it_found_them(queue: Queue) -> None:
    """RQ's worker installs SIGINT/SIGTERM handlers for its warm shutdown and leaves them installed; the test
    helper puts back what it found, so a later test's Ctrl-C raises KeyboardInterrupt as Python's handler does."""
    import signal

    found = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    run_jobs(queue)
    assert {sig: signal.getsignal(sig) for sig in found} == found


def test_an_idempotency_key_longer_than_the_webhook_takes_is_refused_at_enqueue(queue: Queue) -> None:
    """The webhook refused a key over 255 characters while enqueue_deliver_event took any length: one limit now."""
    from igniter_nb.integrations.idempotency_keys import MAX_IDEMPOTENCY_KEY

    assert MAX_IDEMPOTENCY_KEY == 255
    with pytest.raises(ValueError, match=r"^idempotency_key must be a non-blank string of at most 255 characters, "
                                         r"got a str of 256 characters$"):
        ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"order_id": "o"},
                                    idempotency_key="k" * 256, queue=queue)
    assert queue.count == 0
    job = ig_rq.enqueue_deliver_event(OrderWorkflow, "goods_shipped", correlation={"order_id": "o"},
                                      idempotency_key="k" * 255, queue=queue)
    assert job.kwargs["idempotency_key"] == "k" * 255
