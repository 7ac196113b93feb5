"""A queued-mode webhook server (the request is checked, its delivery enqueued on RQ, a worker applies it) SIGKILLed
in the middle of a request — before its job is written to Redis, or after and before the 202 — by a real uvicorn
on 127.0.0.1: the sender got no answer and retries against the restarted server, and the worker applies the
delivery exactly once, never zero times and never twice."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rq.job import Job

import igniter_nb as ig
from igniter_nb.integrations.rq import job_error
from igniter_nb.integrations.webhooks import sign
from igniter_nb.stores import from_url
from tests import services
from tests.integrations.conftest import ROOT, run_jobs, store_url
from tests.integrations.int_contracts import OrderWorkflow
from tests.integrations.processes import environment

pytestmark = pytest.mark.services

SECRET = "whsec_queued_crash"


@contextlib.contextmanager
def _uvicorn(env: dict[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``uvicorn tests.integrations.webhook_queue_gate_app:app`` in a session of its own; killed with its group at
    the end."""
    port = services.free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "tests.integrations.webhook_queue_gate_app:app",
                                 "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        services.wait_listening(port, proc, "uvicorn", log)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def _post(base: str, body: bytes, key: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json", **sign(body, SECRET)}  # a sender signs each attempt afresh
    if key is not None:
        headers["Idempotency-Key"] = key
    with httpx.Client(base_url=base, timeout=20) as http:
        return http.post("/shipped", content=body, headers=headers)


def _jobs(queue: Any) -> list[Job]:
    ids = [*queue.get_job_ids(), *queue.finished_job_registry.get_job_ids(), *queue.failed_job_registry.get_job_ids()]
    return [job for job in Job.fetch_many(ids, connection=queue.connection, serializer=queue.serializer) if job]


@pytest.mark.parametrize(("at", "key"), [("before", "evt-1"), ("after", "evt-1"), ("after", None)],
                         ids=["killed-before-the-enqueue", "killed-after-the-enqueue", "killed-after-unkeyed"])
def test_a_queued_delivery_killed_mid_request_is_applied_exactly_once_after_the_restart(
        at: str, key: str | None, queue: Any, rq_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    store = from_url(store_url("sqlite", tmp_path, request))
    gate = tmp_path / "gate"
    gate.touch()
    env = environment(WEBHOOK_SECRET=SECRET, WEBHOOK_QUEUE=queue.name, WEBHOOK_RQ_URL=rq_url,
                      IGNITER_TEST_GATE=str(gate), IGNITER_TEST_GATE_AT=at)
    body = json.dumps({"order_id": "q-1", "shipment": {"carrier": "DHL"}}).encode()
    ig.configure(store=store)  # the in-process worker's default store, as IGNITER_STORE_URL is a worker's
    try:
        wf = OrderWorkflow.start(order_id="q-1", store=store)
        outcome: dict[str, Any] = {}

        def send(base: str) -> None:
            try:
                outcome["response"] = _post(base, body, key)
            except httpx.TransportError as exc:  # the server died with the request: no answer at all
                outcome["error"] = exc

        with _uvicorn(env, tmp_path / "first.log") as (base, proc):
            sender = threading.Thread(target=send, args=(base,), daemon=True)
            sender.start()
            entered = Path(f"{gate}.entered")
            for _ in range(400):  # at most 20 s to reach the gate, inside the enqueue
                if entered.exists() or proc.poll() is not None:
                    break
                time.sleep(0.05)
            assert entered.exists(), (tmp_path / "first.log").read_text()[-2000:]
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
            sender.join(20)
        assert "error" in outcome and "response" not in outcome, outcome  # no 2xx: the sender retries
        assert len(_jobs(queue)) == (0 if at == "before" else 1)  # the enqueue is one MULTI/EXEC: all or nothing

        gate.unlink()
        with _uvicorn(env, tmp_path / "second.log") as (base, _):
            retried = _post(base, body, key)
        assert retried.status_code == 202, retried.text
        run_jobs(queue)

        signals = store.record(wf.execution_id).snapshot["workflow"]["signals"]
        assert len(signals) == 1, signals  # applied: never lost, never twice
        jobs = _jobs(queue)
        assert len(jobs) == (1 if at == "before" else 2)
        if key is not None:  # every job finished; the duplicate one is answered as the repeat it is
            assert all(job.get_status() == "finished" for job in jobs), [job_error(job) for job in jobs]
            expected = [False] if at == "before" else [False, True]
            assert sorted(job.return_value()["replayed"] for job in jobs) == expected
            assert signals[0]["idempotency_key"] == key
        else:  # nothing says the two requests are one event: the second job is refused as a duplicate
            statuses = sorted(job.get_status() for job in jobs)
            assert statuses == ["failed", "finished"], statuses
            (failed,) = [job for job in jobs if job.get_status() == "failed"]
            assert (job_error(failed) or {}).get("type") == "DuplicateSignalError"
        assert store.record(wf.execution_id).status == "waiting"  # payment_received still awaited
    finally:
        ig.configure(None)
        store.close()
