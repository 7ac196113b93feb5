"""Over real HTTP: uvicorn on 127.0.0.1 serving webhook routes, and 4 ``rq worker`` processes delivering queued
events — posted in random order with duplicates — so that every workflow gets each signal exactly once."""

from __future__ import annotations

import json
import random
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from rq.job import Job, JobStatus

from igniter_nb.integrations import rq as ig_rq
from igniter_nb.integrations.webhooks import sign
from igniter_nb.stores import from_url
from tests.integrations.conftest import store_url
from tests.integrations.int_contracts import OrderWorkflow
from tests.integrations.processes import environment, rq_workers, serve

pytestmark = pytest.mark.services

SECRET = "whsec_processes"
WORKFLOWS = 12
WORKERS = 4
DUPLICATE_SHARE = 0.25


def _signed(body: bytes, key: str | None = None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", **sign(body, SECRET)}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


def _settle(jobs: list[Job], queue: Any, timeout: float) -> None:
    """Wait until every job has finished or failed."""
    deadline = time.monotonic() + timeout
    pending = {job.id for job in jobs}
    while pending and time.monotonic() < deadline:
        statuses = Job.fetch_many(list(pending), connection=queue.connection, serializer=queue.serializer)
        pending = {job.id for job in statuses if job is None or job.get_status() not in (JobStatus.FINISHED,
                                                                                          JobStatus.FAILED)}
        time.sleep(0.1)
    assert not pending, f"{len(pending)} job(s) still not done after {timeout}s"


@pytest.fixture
def app_env(queue: Any, rq_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    yield environment(WEBHOOK_SECRET=SECRET, WEBHOOK_QUEUE=queue.name, WEBHOOK_RQ_URL=rq_url,
                      IGNITER_STORE_URL=store_url("sqlite", tmp_path, request))


def test_inline_delivery_and_refusals_over_real_http(app_env: dict[str, str], tmp_path: Path) -> None:
    store = from_url(app_env["IGNITER_STORE_URL"])
    wf = OrderWorkflow.start(order_id="h-1", store=store)
    body = json.dumps({"order_id": "h-1", "payment": {"amount": 9, "currency": "EUR"}}).encode()
    with serve(app_env, tmp_path / "uvicorn.log") as base, httpx.Client(base_url=base, timeout=10) as http:
        delivered = http.post("/inline/payment", content=body, headers=_signed(body, "k-1"))
        replayed = http.post("/inline/payment", content=body, headers=_signed(body, "k-1"))
        unsigned = http.post("/inline/payment", content=body)
        bad_json = http.post("/inline/payment", content=b"{", headers=_signed(b"{"))

        def chunks() -> Iterator[bytes]:
            for _ in range(40):
                yield b" " * 100  # no Content-Length: sent chunked, counted by the endpoint as it arrives

        chunked = http.post("/small", content=chunks(), headers=_signed(b"ignored"))
        declared = http.post("/small", content=b" " * 5000, headers=_signed(b"ignored"))
    assert delivered.status_code == 200 and delivered.json()["execution_id"] == wf.execution_id
    assert replayed.status_code == 200 and replayed.json()["replayed"] is True
    assert unsigned.status_code == 401 and bad_json.status_code == 400
    assert chunked.status_code == 413 and chunked.json()["limit"] == 1000
    assert declared.status_code == 413
    assert len(store.record(wf.execution_id).snapshot["workflow"]["signals"]) == 1
    store.close()


def test_rqs_default_forking_worker_runs_jobs_too(queue: Any, rq_url: str, tmp_path: Path,
                                                 request: pytest.FixtureRequest) -> None:
    url = store_url("sqlite", tmp_path, request)
    job = ig_rq.enqueue_start(OrderWorkflow, {"order_id": "f-1"}, queue=queue)
    log = tmp_path / "worker.log"
    with rq_workers(1, queue.name, rq_url, environment(IGNITER_STORE_URL=url), log, simple=False, burst=True) \
            as (proc,):
        try:  # the burst worker exits once the queue is empty (RQ 3.0's own order could take 60 s: test_rq_stop.py)
            proc.wait(30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the burst worker did not exit in 30 s; worker log:\n{log.read_text()[-3000:]}")
    assert proc.returncode == 0, log.read_text()[-3000:]
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED, ig_rq.job_error(job)
    store = from_url(url)
    try:
        assert store.record(job.return_value()["execution_id"]).status == "waiting"
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_four_rq_workers_and_webhook_posts_in_random_order_apply_each_signal_exactly_once(
        kind: str, queue: Any, rq_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = store_url(kind, tmp_path, request)
    env = environment(WEBHOOK_SECRET=SECRET, WEBHOOK_QUEUE=queue.name, WEBHOOK_RQ_URL=rq_url, IGNITER_STORE_URL=url)
    orders = [f"m-{kind}-{i:02d}" for i in range(WORKFLOWS)]
    rng = random.Random(f"webhooks-{kind}")
    posts = []
    for order in orders:
        posts.append(("/queued/payment", order, "payment", {"amount": rng.randint(1, 99), "currency": "EUR"}))
        posts.append(("/queued/shipped", order, "shipment", {"carrier": rng.choice(["DHL", "UPS"])}))
    duplicates = rng.sample(posts, int(len(posts) * DUPLICATE_SHARE))
    everything = posts + duplicates
    rng.shuffle(everything)

    with rq_workers(WORKERS, queue.name, rq_url, env, tmp_path / "workers.log"), \
            serve(env, tmp_path / "uvicorn.log") as base:
        started = [ig_rq.enqueue_start(OrderWorkflow, {"order_id": order}, queue=queue) for order in orders]
        _settle(started, queue, timeout=30)

        def send(post: tuple[str, str, str, dict[str, Any]]) -> httpx.Response:
            path, order, field, payload = post
            body = json.dumps({"order_id": order, field: payload, "note": "<b>" + uuid.uuid4().hex + "</b>"}).encode()
            with httpx.Client(base_url=base, timeout=15) as http:
                return http.post(path, content=body, headers=_signed(body, f"{order}:{field}"))

        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(send, everything))
        assert [r.status_code for r in responses] == [202] * len(everything), [r.text for r in responses][:3]
        queued = [Job.fetch(r.json()["job_id"], connection=queue.connection, serializer=queue.serializer)
                  for r in responses]
        _settle(queued, queue, timeout=40)

    for job in started + queued:
        job.refresh()
        assert job.get_status() == JobStatus.FINISHED, ig_rq.job_error(job)
    assert queue.failed_job_registry.count == 0
    replays = sum(bool(job.return_value()["replayed"]) for job in queued)
    assert replays == len(duplicates)

    store = from_url(url)
    try:
        for job in started:
            record = store.record(job.return_value()["execution_id"])
            order = record.correlation["order_id"]
            signals = record.snapshot["workflow"]["signals"]
            assert sorted(s["idempotency_key"] for s in signals) == [f"{order}:payment", f"{order}:shipment"]
            assert record.status == "succeeded"
            expected = {p[2]: p[3] for p in posts if p[1] == order}
            summary = OrderWorkflow.restore_from_store(record.execution_id, store=store).result.summary
            assert summary["paid"] == expected["payment"]["amount"]
            assert summary["carrier"] == expected["shipment"]["carrier"]
    finally:
        store.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_same_event_racing_into_two_servers_is_applied_once_and_answered_idempotently(
        kind: str, queue: Any, rq_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = store_url(kind, tmp_path, request)
    env = environment(WEBHOOK_SECRET=SECRET, WEBHOOK_QUEUE=queue.name, WEBHOOK_RQ_URL=rq_url, IGNITER_STORE_URL=url)
    store = from_url(url)
    orders = [f"race-{kind}-{i}" for i in range(3)]
    racers = 6
    try:
        started = {order: OrderWorkflow.start(order_id=order, store=store).execution_id for order in orders}
        with serve(env, tmp_path / "a.log") as first, serve(env, tmp_path / "b.log") as second:
            barrier = threading.Barrier(racers)

            def race(n: int, order: str) -> httpx.Response:
                body = json.dumps({"order_id": order, "payment": {"amount": 5, "currency": "EUR"}}).encode()
                with httpx.Client(base_url=(first, second)[n % 2], timeout=15) as http:
                    barrier.wait(10)
                    return http.post("/inline/payment", content=body, headers=_signed(body, f"{order}:pay"))

            answers: dict[str, list[httpx.Response]] = {}
            for order in orders:
                with ThreadPoolExecutor(racers) as pool:
                    answers[order] = list(pool.map(race, range(racers), [order] * racers))
        for order, responses in answers.items():
            assert [r.status_code for r in responses] == [200] * racers, [r.text for r in responses]
            assert sorted(r.json()["replayed"] for r in responses) == [False] + [True] * (racers - 1)
            assert {r.json()["signal"] for r in responses} == {1}
            signals = store.record(started[order]).snapshot["workflow"]["signals"]
            assert [s["idempotency_key"] for s in signals] == [f"{order}:pay"]
    finally:
        store.close()
