"""Collection items on runners: concurrently on threads (L-34), shipped to any concurrent.futures.Executor
(a real process pool, a real dask LocalCluster), and the errors for what cannot be shipped."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import fanout_contracts as fc
import pytest

import igniter_nb as ig
from igniter_nb.runtime.runners import ExecutorRunner, ThreadsRunner
from igniter_nb.runtime.shipping import ShippedResult, ShippingError, import_path


def fan(each, mode="collect", key="id"):
    @ig.contract
    def Fan(c):
        c.input("items")
        c.collection("fan", source="items", each=each, key=key, mode=mode, progress=False)
        c.output("fan")

    return Fan


def barrier_child(parties, timeout=60.0):
    barrier = threading.Barrier(parties, timeout=timeout)

    @ig.contract
    def Meet(c):
        c.input("id")

        @c.compute
        def met(id):
            barrier.wait()  # passes only when `parties` items run at the same time
            return id

        c.output("met")

    return Meet


# ---------------------------------------------------------------------------------------------- threads
def test_threads_run_collection_items_concurrently_L34():
    Fan = fan(barrier_child(4))
    p = Fan(items=[{"id": i} for i in range(4)], runner="threads", max_workers=4)
    r = p.result.fan
    assert r.summary["succeeded"] == 4, r.failed_items
    assert r.keys == [0, 1, 2, 3]


def test_inline_runs_items_one_at_a_time():
    Fan = fan(barrier_child(2, timeout=0.2))
    r = Fan(items=[{"id": 0}, {"id": 1}]).result.fan
    assert r.summary["failed"] == 2
    assert "BrokenBarrierError" in r.failed_items[0]["context"]["cause_type"]


def test_max_workers_bounds_item_concurrency():
    lock = threading.Lock()
    now = [0]
    peak = [0]

    @ig.contract
    def Busy(c):
        c.input("id")

        @c.compute
        def done(id):
            with lock:
                now[0] += 1
                peak[0] = max(peak[0], now[0])
                if now[0] == 3:
                    three_in.set()
            # every item waits until three have run at once (a loaded machine may start a worker's thread later
            # than the 20 ms the others take: the peak was 2), then stays a moment for a fourth to show up
            three_in.wait(60)
            time.sleep(0.02)
            with lock:
                now[0] -= 1
            return id

        c.output("done")

    three_in = threading.Event()
    r = fan(Busy)(items=[{"id": i} for i in range(12)], runner="threads", max_workers=3).result.fan
    assert r.summary["succeeded"] == 12
    assert peak[0] == 3


def test_items_keep_source_order_whatever_order_they_finish_in():
    returned = [threading.Event() for _ in range(5)]

    @ig.contract
    def Chained(c):
        c.input("id")

        @c.compute
        def done(id):
            if id < 4:  # each item returns after the next one did: 4, 3, 2, 1, 0 (sleeps of 10 to 50 ms made that
                assert returned[id + 1].wait(60)  # order, unless a loaded machine started the threads late)
            returned[id].set()
            return id

        c.output("done")

    p = fan(Chained)(items=[{"id": i} for i in range(5)], runner="threads", max_workers=5)
    assert p.result.fan.keys == [0, 1, 2, 3, 4]
    finished = [e.payload["item_key"] for e in p.events if e.type == "collection_item_succeeded"]
    assert finished != [0, 1, 2, 3, 4]  # they did finish in another order
    assert sorted(finished) == [0, 1, 2, 3, 4]


def test_fail_fast_on_threads_cancels_items_not_started():
    ran: list[int] = []

    @ig.contract
    def Picky(c):
        c.input("id")

        @c.compute
        def done(id):
            ran.append(id)
            if id == 0:
                raise ValueError("bad first item")
            time.sleep(0.05)
            return id

        c.output("done")

    p = fan(Picky, mode="fail_fast")(items=[{"id": i} for i in range(20)], runner="threads", max_workers=2)
    assert p.status == "failed"
    assert "item 0 failed" in str(p.first_error())
    assert len(ran) < 20


def test_threads_runner_validates_max_workers():
    with pytest.raises(ig.CompileError, match="max_workers must be a positive integer"):
        ThreadsRunner(0)


# ---------------------------------------------------------------------------------------------- executor: process pool
@pytest.fixture(scope="module")
def process_pool():
    with ProcessPoolExecutor(max_workers=2) as pool:
        yield pool


def test_collection_on_a_process_pool(process_pool):
    s = fc.Squares(numbers=[1, 2, 3, -4], runner="executor", executor=process_pool)
    r = s.result.squares
    assert s.result.total == 14
    assert r.summary == {"mode": "collect", "total": 4, "succeeded": 3, "failed": 1, "pending": 0,
                         "status": "partial_failure"}
    pids = {r[n].result.pid for n in (1, 2, 3)}
    assert os.getpid() not in pids  # the children really ran in worker processes
    item = r[2]
    assert isinstance(item.result, ShippedResult) and item.result.square == 4 and item.contract is None
    assert item.child_execution_id == item.result.execution_id
    failed = r.failed_items[-4]
    assert failed["type"] == "ResolutionError" and failed["message"] == "ValueError: negative: -4"
    assert failed["context"]["node"] == "square" and failed["context"]["cause_type"] == "ValueError"
    frame = r.to_frame()
    assert frame["status"].tolist() == ["succeeded", "succeeded", "succeeded", "failed"]
    assert frame["square"].tolist()[:3] == [1, 4, 9]


def test_executor_from_run_with(process_pool):
    @ig.contract
    def Configured(c):
        c.run_with("executor", executor=process_pool)
        c.input("numbers")
        c.collection("squares", source="numbers", each=fc.Square, key="n", map_inputs=lambda item: {"n": item})
        c.output("squares")

    p = Configured(numbers=[5])
    assert isinstance(p.execution.runner, ExecutorRunner)
    assert p.result.squares[5].result.square == 25
    assert p.execution.runner.to_dict()["executor"] == "ProcessPoolExecutor"


def test_a_restored_execution_ships_again_to_the_executor_its_class_names():
    """A workflow restored from its snapshot (as a server or an RQ worker does for deliver_event) fans out on the
    executor its class names with run_with; an executor the caller passed is not stored, so without one it runs
    inline."""
    with ThreadPoolExecutor(2) as pool:
        @ig.contract
        def Declared(c):
            c.run_with("executor", executor=pool)
            c.input("numbers")
            c.collection("squares", source="numbers", each=fc.Square, key="n", map_inputs=lambda item: {"n": item})
            c.output("squares")

        restored = Declared.restore(Declared(numbers=[3]).snapshot())
        assert isinstance(restored.execution.runner, ExecutorRunner) and restored.execution.runner.executor is pool
        restored.update_inputs(numbers=[4])
        assert isinstance(restored.result.squares[4].result, ShippedResult)

        passed = fc.Squares(numbers=[2], runner="executor", executor=pool)
        assert type(fc.Squares.restore(passed.snapshot()).execution.runner).__name__ == "InlineRunner"


def test_pending_item_on_an_executor_runs_again_here_and_resumes(process_pool):
    p = fan(fc.Deferring, key="n")(items=[{"n": 2}, {"n": 3}], runner="executor", executor=process_pool)
    assert p.status == "pending"
    pending = p.result.fan.collection
    assert pending[2].succeeded and isinstance(pending[2].result, ShippedResult)
    assert pending[3].pending and pending[3].contract is not None  # a live child, kept in this process
    p.resume_by_token("ask-3", 33)
    assert p.status == "succeeded"
    r = p.result.fan
    assert r[3].result.answer == 33
    assert r[2].child_execution_id == pending[2].child_execution_id  # not shipped again


def test_inputs_that_cannot_be_shipped_fail_only_their_item(process_pool):
    p = fan(fc.Square, key="n")(items=[{"n": 1}, {"n": 2, "extra": threading.Lock()}], runner="executor",
                                 executor=process_pool)
    r = p.result.fan
    assert r[1].succeeded
    assert r[2].failed and r.failed_items[2]["type"] == "SnapshotEncodingError"


def test_a_contract_defined_in_a_function_cannot_be_shipped(process_pool):
    @ig.contract
    def Local(c):
        c.input("id")
        c.const("one", 1)
        c.output("one")

    p = fan(Local)(items=[{"id": 1}], runner="executor", executor=process_pool)
    assert p.status == "failed"
    err = p.first_error()
    assert isinstance(err, ShippingError)
    assert "Cannot ship contract Local to executor workers: `test_runners` has no top-level `Local`" in str(err)
    assert "Move the contract class to a module" in str(err) and "runner='threads'" in str(err)
    assert err.context["node"] == "fan"


def test_a_contract_defined_in_main_cannot_be_shipped():
    def Cell(c):
        c.input("id")
        c.const("one", 1)
        c.output("one")

    Cell.__module__ = "__main__"
    Cell.__qualname__ = "Cell"
    with pytest.raises(ShippingError, match=r"defined in `__main__` \(a script run directly, a notebook cell"):
        import_path(ig.contract(Cell))
    assert import_path(fc.Square) == "fanout_contracts:Square"


def test_executor_runner_needs_an_executor():
    with pytest.raises(ig.CompileError, match="runner='executor' needs `executor=`"):
        fc.Squares(numbers=[], runner="executor")


def test_any_executor_works_a_thread_pool_too():
    with ThreadPoolExecutor(2) as pool:
        s = fc.Squares(numbers=[3, 4], runner="executor", executor=pool)
        assert s.result.total == 25


# ---------------------------------------------------------------------------------------------- executor: dask
def test_collection_on_a_dask_local_cluster():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        worker_pids = set(client.run(os.getpid).values())
        s = fc.Squares(numbers=list(range(-1, 30)), runner="executor", executor=client.get_executor())
        r = s.result.squares
        assert r.summary["succeeded"] == 30 and r.summary["failed"] == 1
        assert r.keys == list(range(-1, 30))
        assert s.result.total == sum(n * n for n in range(30))
        assert {r[n].result.pid for n in range(30)} <= worker_pids
        assert r.failed_items[-1]["message"] == "ValueError: negative: -1"


def test_a_class_statement_inside_a_function_cannot_be_shipped():
    class Nested(ig.Contract):
        def define(c):
            c.input("id")
            c.const("one", 1)
            c.output("one")

    with pytest.raises(ShippingError, match="it is defined inside a function, so it has no import path"):
        import_path(Nested)


def test_items_travel_in_batches_and_a_failure_stays_in_its_item(process_pool):
    runner = ExecutorRunner(executor=process_pool, chunksize=3)
    s = fc.Squares(numbers=[1, -2, 3, 4, 5], runner=runner)
    r = s.result.squares
    assert [i.status for i in r] == ["succeeded", "failed", "succeeded", "succeeded", "succeeded"]
    assert s.result.total == 1 + 9 + 16 + 25
    assert runner.to_dict() == {"runner": "executor", "max_workers": None, "executor": "ProcessPoolExecutor",
                                "chunksize": 3}
    assert runner._chunksize(1000) == 3
    assert ExecutorRunner(executor=process_pool)._chunksize(1000) == 50  # 2 workers: capped at 50 per task
    assert ExecutorRunner(executor=process_pool)._chunksize(10) == 1
    with pytest.raises(ig.CompileError, match="chunksize must be a positive integer"):
        ExecutorRunner(executor=process_pool, chunksize=0)


def test_snapshot_of_an_executor_run_restores_with_item_outputs():
    with ThreadPoolExecutor(2) as pool:
        s = fc.Squares(numbers=[1, 2], runner="executor", executor=pool)
        assert s.result.total == 5
        restored = fc.Squares.restore(s.snapshot())
    assert restored.result.squares[2].result.square == 4


def test_threads_runner_keeps_event_log_in_seq_order_L34():
    """Events emitted from worker threads are numbered and appended atomically: log order == seq order."""
    import igniter_nb as ig

    def define(c):
        c.input("x", type="integer")
        for i in range(40):
            c.compute(f"n{i}", depends_on=["x"], call=lambda x: x + 1)
        c.compute("total", depends_on=[f"n{i}" for i in range(40)], call=lambda **kw: sum(kw.values()))
        c.output("total")

    cls = ig.contract(define, name="ThreadedSeq")
    seen = []
    c = cls(x=1, runner="threads", max_workers=8)
    c.subscribe(lambda e: seen.append(e.seq))
    assert c.result.total == 80
    seqs = [e.seq for e in c.events]
    assert seqs == sorted(seqs) == list(range(1, len(seqs) + 1))
    assert seen == sorted(seen)
