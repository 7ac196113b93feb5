"""A resume whose holder is alive but slower than its lease (a provider answering slowly, the SDK's retries, auto
tools): the lease expired while the holder was still waiting for its answer, a second worker took the wait over
and sent the same follow-up request again — the provider was paid twice, and the holder's reply could no longer be
kept in the lease. The holder now renews its lease while it lives (every third of ``resume_lease``), so only a
holder that died is taken over."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.llm.lease import ResumeLease, lease_id
from igniter_nb.stores import MemoryStore, SQLStore
from tests.llm.llm_contracts import ShortLease
from tests.llm.test_resume_lease import RESULTS, Gate, _pending, _resume_in_process

pytestmark = pytest.mark.timeout(120)


def test_a_holder_alive_past_its_lease_keeps_the_wait_and_is_paid_once(stubs, tmp_path):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    gate = Gate("Dune and Dune Messiah.")
    stub, execution_id, token = _pending(stubs, ShortLease, url, gate)
    holder = _resume_in_process(ShortLease, url, execution_id, token)
    outcome: dict[str, Any] = {}
    try:
        assert gate.arrived.wait(60), "the first worker never sent its follow-up request"
        claimed = SQLStore(url).fetch(lease_id(token))
        while time.time() < claimed["expires_at"] + 0.5:  # past the first claim's 1 s: expired unless renewed
            time.sleep(0.1)
        try:
            ShortLease.resume_from_store(execution_id, token=token, value=RESULTS, store=SQLStore(url))
            outcome["error"] = None
        except Exception as exc:
            outcome["error"] = exc
    finally:
        gate.open()
        out, err = holder.communicate(timeout=60)
    assert holder.returncode == 0, err[-3000:]
    assert json.loads(out.strip().splitlines()[-1]) == {"status": "succeeded", "answer": "Dune and Dune Messiah."}
    assert isinstance(outcome["error"], ig.llm.ResumeInProgressError), outcome["error"]
    assert len(stub.requests) == 2  # the first request and ONE follow-up: not paid twice
    lease = SQLStore(url).fetch(lease_id(token))
    assert lease["running"] is False and len(lease["replies"]) == 1  # the holder's reply was kept


def test_a_renewing_lease_stops_renewing_once_finished_or_taken_over():
    store = MemoryStore()
    lease = ResumeLease.claim(store, "wait-1", 0.3)
    lease.keep_alive()
    first = store.fetch(lease_id("wait-1"))["expires_at"]
    deadline = time.monotonic() + 10
    while store.fetch(lease_id("wait-1"))["expires_at"] == first and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.fetch(lease_id("wait-1"))["expires_at"] > first  # renewed
    lease.finish()
    assert not lease.renewing
    assert store.fetch(lease_id("wait-1"))["running"] is False
    other = ResumeLease.claim(store, "wait-1", 0.3)  # released: claimed again at once
    other.keep_alive()
    record = store.record(lease_id("wait-1"))
    store.save({**record.snapshot, "holder": "someone else"}, graph=record.graph, status="succeeded",
               expected_version=record.version)  # taken over behind its back
    deadline = time.monotonic() + 10
    while other.renewing and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not other.renewing  # it noticed, and left the lease to its new holder
    assert store.fetch(lease_id("wait-1"))["holder"] == "someone else"
    other.finish()
    assert store.fetch(lease_id("wait-1"))["holder"] == "someone else"
