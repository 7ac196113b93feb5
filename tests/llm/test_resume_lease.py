"""Two workers resuming one tool-call wait at the same moment: until 2026-12-04 both sent the follow-up request
and the store's compare-and-set kept one result, so the provider was paid twice. The resuming executor now claims
the wait in the store before it sends anything (``igniter_nb.llm.lease``): the second worker is refused with
``ig.llm.ResumeInProgressError`` (nothing sent, the node left pending as stored), a holder that died mid-call is
taken over once its lease expires, and a reply a dead holder already got is used, not asked for again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.llm.lease import LEASE_GRAPH, lease_id
from igniter_nb.llm.testing import StubReply
from igniter_nb.stores import MemoryStore, SQLStore
from tests.llm.llm_contracts import DurableAnthropic, ShortLease, contract_class, executor_class, search

ROOT = Path(__file__).resolve().parents[2]
RESULTS = [{"id": "toolu_01", "name": "search", "content": "DUNE RESULTS"}]

RESUME = """
import json, os, sys
from igniter_nb.stores import SQLStore
from tests.llm import llm_contracts

class DiesBeforeSaving(SQLStore):  # the execution's own save never happens: the process is gone
    def save(self, snapshot, **kw):
        if sys.argv[5] == "die-before-saving" and kw.get("graph") != "igniter_nb.llm_resume":
            os._exit(17)
        return super().save(snapshot, **kw)

cls = getattr(llm_contracts, sys.argv[1])
contract = cls.resume_from_store(sys.argv[3], token=sys.argv[4], value=json.loads(sys.argv[6]), store=DiesBeforeSaving(sys.argv[2]))
print(json.dumps({"status": str(contract.status), "answer": contract.result.answer}))
"""


class Gate:
    """A stub responder that holds the first follow-up request until ``open()`` (bounded), then answers."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.arrived = threading.Event()
        self.opened = threading.Event()

    def __call__(self, request: Any) -> StubReply:
        if not self.arrived.is_set():
            self.arrived.set()
            self.opened.wait(30)
        return StubReply(self.text)

    def open(self) -> None:
        self.opened.set()


def _pending(stubs: Any, contract_cls: type[ig.Contract], url: str, gate: Gate) -> tuple[Any, str, str]:
    stub = stubs("anthropic", [StubReply("", tool_calls=(("toolu_01", "search", {"query": "dune"}),))],
                 responder=gate)
    contract = contract_cls(question="Which Dune books exist?", store=SQLStore(url))
    assert contract.status == "pending"
    return stub, contract.execution_id, contract.result.answer.token


def _resume_in_process(contract_cls: type[ig.Contract], url: str, execution_id: str, token: str,
                       mode: str = "") -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", RESUME, contract_cls.__name__, url, execution_id, token, mode or "-",
                             json.dumps(RESULTS)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_second_worker_resuming_the_same_wait_does_not_call_the_provider(stubs, tmp_path):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    gate = Gate("Dune and Dune Messiah.")
    stub, execution_id, token = _pending(stubs, DurableAnthropic, url, gate)
    holder = _resume_in_process(DurableAnthropic, url, execution_id, token)
    try:
        assert gate.arrived.wait(60), "the first worker never sent its follow-up request"
        outcome: dict[str, Any] = {}

        def second() -> None:  # another worker, its own store object on the same SQLite file
            try:
                DurableAnthropic.resume_from_store(execution_id, token=token, value=RESULTS, store=SQLStore(url))
                outcome["error"] = None
            except Exception as exc:
                outcome["error"] = exc

        worker = threading.Thread(target=second)
        worker.start()
        worker.join(20)
    finally:
        gate.open()
        out, err = holder.communicate(timeout=120)
    worker.join(60)
    assert holder.returncode == 0, err[-3000:]
    assert json.loads(out.strip().splitlines()[-1]) == {"status": "succeeded", "answer": "Dune and Dune Messiah."}
    error = outcome["error"]
    assert isinstance(error, ig.llm.ResumeInProgressError), error
    assert isinstance(error, ig.DuplicateSignalError) and not isinstance(error, ig.ConcurrencyError)
    assert "being resumed by another worker" in str(error)
    assert "nothing was sent to the provider" in str(error) and error.context.get("node") == "answer"
    assert len(stub.requests) == 2  # the first request, and ONE follow-up
    store = SQLStore(url)
    record = store.record(execution_id)
    assert record.status == "succeeded" and record.snapshot["states"]["answer"]["value"] == "Dune and Dune Messiah."
    calls = [e for e in record.snapshot["events"] if e["type"] == "llm_call"]
    assert len(calls) == 2 and [c["payload"]["cached"] for c in calls] == [False, False]
    lease = store.fetch(lease_id(token))
    assert lease["running"] is False and lease["token"] == token and len(lease["replies"]) == 1


def _resume_until_taken_over(contract_cls: type[ig.Contract], url: str, execution_id: str, token: str) -> Any:
    deadline = time.monotonic() + 30  # the lease (1 s) expires well before; bounded so a bug cannot hang the run
    while True:
        try:
            return contract_cls.resume_from_store(execution_id, token=token, value=RESULTS, store=SQLStore(url))
        except ig.llm.ResumeInProgressError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_a_holder_killed_mid_call_is_taken_over_once_its_lease_expires(stubs, tmp_path):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    gate = Gate("Dune and Dune Messiah.")
    stub, execution_id, token = _pending(stubs, ShortLease, url, gate)
    holder = _resume_in_process(ShortLease, url, execution_id, token)
    try:
        assert gate.arrived.wait(60), "the first worker never sent its follow-up request"
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
    finally:
        gate.open()  # (its answer goes to a dead socket)
        if holder.poll() is None:
            holder.kill()
    assert holder.returncode == -signal.SIGKILL
    lease = SQLStore(url).fetch(lease_id(token))
    assert lease["running"] is True and lease["replies"] == {}  # left held by the dead holder
    done = _resume_until_taken_over(ShortLease, url, execution_id, token)
    assert done.status == "succeeded" and done.result.answer == "Dune and Dune Messiah."
    assert len(stub.requests) == 3  # the holder's request got no reply it could keep: asked again, once
    assert SQLStore(url).record(execution_id).status == "succeeded"


def test_a_reply_a_dead_holder_got_is_used_not_asked_again(stubs, tmp_path):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    gate = Gate("Dune and Dune Messiah.")
    gate.arrived.set()  # (no holding: the holder gets its reply, then dies before saving the execution)
    stub, execution_id, token = _pending(stubs, ShortLease, url, gate)
    holder = _resume_in_process(ShortLease, url, execution_id, token, "die-before-saving")
    _, err = holder.communicate(timeout=120)
    assert holder.returncode == 17, err[-3000:]
    assert SQLStore(url).record(execution_id).status == "pending" and len(stub.requests) == 2
    done = _resume_until_taken_over(ShortLease, url, execution_id, token)
    assert done.status == "succeeded" and done.result.answer == "Dune and Dune Messiah."
    assert len(stub.requests) == 2  # answered from the lease: paid once
    calls = [e.payload for e in done.events if e.type == "llm_call"]
    assert calls[-1]["cached"] is True and calls[-1]["input_tokens"] == 0


def test_a_finished_resume_releases_the_wait_and_another_process_may_resume_it_again(stubs):
    """A finished lease does not block: the same process resuming again (its save lost to another writer, the server
    re-applies the resume on a fresh read) is answered from the lease's replies, without a new request."""
    stub = stubs("anthropic", [StubReply("", tool_calls=(("toolu_01", "search", {"query": "dune"}),)),
                               StubReply("Dune and Dune Messiah.")])
    store = MemoryStore()
    contract = DurableAnthropic(question="Which Dune books exist?", store=store)
    token = contract.result.answer.token
    snapshot = store.fetch(contract.execution_id)
    contract.resume_by_token(token, value=RESULTS)
    assert contract.status == "succeeded" and len(stub.requests) == 2
    store.save({**snapshot}, graph="DurableAnthropic", status="pending")  # as if that save had not happened
    again = DurableAnthropic.resume_from_store(contract.execution_id, token=token, value=RESULTS, store=store)
    assert again.result.answer == "Dune and Dune Messiah." and len(stub.requests) == 2
    assert [r.graph for r in store.list(graph=LEASE_GRAPH)] == [LEASE_GRAPH]


def test_without_a_store_or_with_resume_lease_none_nothing_is_claimed(stubs):
    stubs("anthropic", [StubReply("", tool_calls=(("toolu_01", "search", {"query": "dune"}),)), StubReply("A."),
                        StubReply("", tool_calls=(("toolu_01", "search", {"query": "dune"}),)), StubReply("B.")])
    store = MemoryStore()
    off = contract_class(executor_class("anthropic", "NoLease", tools=[search], resume_lease=None),
                         "NoLeaseContract", store_runner=True)(question="q", store=store)
    off.resume_by_token(off.result.answer.token, value=RESULTS)
    plain = contract_class(executor_class("anthropic", tools=[search]))(question="q")
    plain.resume_by_token(plain.result.answer.token, value=RESULTS)
    assert (off.result.answer, plain.result.answer) == ("A.", "B.")
    assert store.list(graph=LEASE_GRAPH) == []


@pytest.mark.parametrize("bad", [0, -1, True, "600", float("nan"), float("inf"), [600]])
def test_resume_lease_must_be_a_number_of_seconds(bad):
    with pytest.raises(ig.llm.ConfigurationError, match=r"\.resume_lease must be a number of seconds > 0 or None"):
        executor_class("anthropic", "Leasing", resume_lease=bad)


@pytest.mark.parametrize("token", ["<b onmouseover=alert(1)>:answer:tool-calls-1", "x" * 5000, "é:\u2028:\x00"])
def test_any_token_gives_a_store_id(token):
    store = MemoryStore()
    first = ig.llm.lease.ResumeLease.claim(store, token, 60)
    with pytest.raises(ig.llm.ResumeInProgressError, match="being resumed by another worker") as caught:
        ig.llm.lease.ResumeLease.claim(store, token, 60)
    assert len(str(caught.value)) < 1000
    first.finish()
    ig.llm.lease.ResumeLease.claim(store, token, 60).finish()  # released: claimed again


def test_sweep_deletes_old_released_leases_only():
    store = MemoryStore()
    ig.llm.lease.ResumeLease.claim(store, "done", 60).finish()
    held = ig.llm.lease.ResumeLease.claim(store, "held", 60)
    assert ig.llm.lease.sweep(store) == 0  # the released one is younger than a day
    assert ig.llm.lease.sweep(store, older_than=0) == 1  # the held one stays
    assert [r.snapshot["token"] for r in store.list(graph=LEASE_GRAPH)] == ["held"]
    held.finish()
    with pytest.raises(ValueError, match="older_than must be a number of seconds >= 0"):
        ig.llm.lease.sweep(store, older_than=-1)


def test_over_http_a_claimed_wait_is_a_409_and_nothing_is_sent(stubs, tmp_path):
    """Another worker holds the wait (its lease in the shared store): ``POST …/resume`` answers 409 naming the
    reason, sends nothing to the provider and leaves the stored execution pending; once released, it resumes."""
    from fastapi.testclient import TestClient

    stub = stubs("anthropic", [StubReply(tool_calls=(("toolu_01", "search", {"query": "dune"}),)), StubReply("Dune.")])
    store = SQLStore(f"sqlite:///{tmp_path / 'served.db'}")
    with TestClient(ig.server.create_app({"research": DurableAnthropic}, store=store),
                    raise_server_exceptions=False) as client:
        view = client.post("/v1/contracts/research/execute", json={"inputs": {"question": "Dune?"}}).json()
        [pending] = view["pending"]
        other = ig.llm.lease.ResumeLease.claim(SQLStore(f"sqlite:///{tmp_path / 'served.db'}"), pending["token"], 60)
        refused = client.post(f"/v1/executions/{view['execution_id']}/resume",
                              json={"token": pending["token"], "value": RESULTS})
        assert refused.status_code == 409, refused.text
        assert "being resumed by another worker" in refused.json()["error"]
        assert len(stub.requests) == 1 and store.record(view["execution_id"]).status == "pending"
        other.finish()
        done = client.post(f"/v1/executions/{view['execution_id']}/resume",
                           json={"token": pending["token"], "value": RESULTS})
        assert done.status_code == 200 and done.json()["outputs"] == {"answer": "Dune."}, done.text
    assert len(stub.requests) == 2
    store.close()


class _Down(MemoryStore):
    """A store whose lease records cannot be written (down for a moment)."""

    def save(self, snapshot, **kw):  # type: ignore[no-untyped-def]
        if kw.get("graph") == LEASE_GRAPH:
            raise OSError("database is locked")
        return super().save(snapshot, **kw)


def test_a_store_failing_at_the_claim_refuses_the_resume_and_leaves_the_node_pending(stubs):
    stub = stubs("anthropic", [StubReply("", tool_calls=(("toolu_01", "search", {"query": "dune"}),)), StubReply("A.")])
    store = _Down()
    contract = DurableAnthropic(question="q", store=store)
    token = contract.result.answer.token
    with pytest.raises(ig.llm.ResumeInProgressError, match=r"could not be claimed: the store failed \(OSError: "
                                                           r"database is locked\).*the node stays pending"):
        contract.resume_by_token(token, value=RESULTS)
    assert contract.status == "pending" and store.record(contract.execution_id).status == "pending"
    assert len(stub.requests) == 1


def test_a_damaged_lease_record_is_taken_over_and_its_holder_text_is_cut():
    store = MemoryStore()
    record = lease_id("t")
    store.save({"format": "igniter_nb.llm_resume/1", "execution_id": record, "graph": LEASE_GRAPH, "running": True,
                "expires_at": "tomorrow", "replies": "none"}, graph=LEASE_GRAPH, status="succeeded")
    ig.llm.lease.ResumeLease.claim(store, "t", 60)  # taken over: an expiry that is not a number holds nothing
    store.save({**store.fetch(record), "pid": "9" * 10_000, "host": "<h>" * 5000}, graph=LEASE_GRAPH)
    with pytest.raises(ig.llm.ResumeInProgressError) as caught:
        ig.llm.lease.ResumeLease.claim(store, "t", 60)
    assert len(str(caught.value)) < 1000
