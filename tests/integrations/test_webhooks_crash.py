"""The intake SIGKILLed between accepting a signed request and saving its signal (a real uvicorn on 127.0.0.1, a
real SQLite store): nothing is written, the sender sees no answer and retries, and the retry applies the signal
exactly once — a repeat after that is answered ``replayed``."""

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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from igniter_nb.integrations.webhooks import sign
from igniter_nb.stores import from_url
from tests import services
from tests.integrations.conftest import ROOT, store_url
from tests.integrations.int_contracts import GatedWorkflow
from tests.integrations.processes import environment

pytestmark = pytest.mark.services

SECRET = "whsec_crash"


@contextlib.contextmanager
def _uvicorn(env: dict[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``uvicorn tests.integrations.webhook_gate_app:app`` in a session of its own; killed with its group at the end."""
    port = services.free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "tests.integrations.webhook_gate_app:app", "--host",
                                 "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        services.wait_listening(port, proc, "uvicorn", log)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def _post(base: str, body: bytes) -> httpx.Response:
    headers = {"Content-Type": "application/json", "Idempotency-Key": "evt-1", **sign(body, SECRET)}
    with httpx.Client(base_url=base, timeout=20) as http:
        return http.post("/answered", content=body, headers=headers)


def _signals(store: Any, execution_id: str) -> list[dict[str, Any]]:
    return list(store.record(execution_id).snapshot["workflow"]["signals"])


def test_an_intake_killed_mid_delivery_writes_nothing_and_the_retry_applies_the_signal_once(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = store_url("sqlite", tmp_path, request)
    store = from_url(url)
    gate = tmp_path / "gate"
    gate.touch()
    env = environment(IGNITER_STORE_URL=url, IGNITER_TEST_GATE=str(gate), WEBHOOK_SECRET=SECRET)
    body = json.dumps({"ticket": "t-1", "answer": "yes"}).encode()
    try:
        wf = GatedWorkflow.start(ticket="t-1", store=store)
        outcome: dict[str, Any] = {}

        def send(base: str) -> None:
            try:
                outcome["response"] = _post(base, body)
            except httpx.TransportError as exc:  # the server died with the request: no answer at all
                outcome["error"] = exc

        with _uvicorn(env, tmp_path / "first.log") as (base, proc):
            sender = threading.Thread(target=send, args=(base,), daemon=True)
            sender.start()
            entered = Path(f"{gate}.entered")
            for _ in range(400):  # at most 20 s to reach the gate, inside the delivery
                if entered.exists() or proc.poll() is not None:
                    break
                time.sleep(0.05)
            assert entered.exists(), (tmp_path / "first.log").read_text()[-2000:]
            proc.send_signal(signal.SIGKILL)  # accepted, verified, parsed; its signal not yet saved
            proc.wait(10)
            sender.join(20)
        assert "error" in outcome and "response" not in outcome, outcome  # a sender retries what got no 2xx
        assert _signals(store, wf.execution_id) == []
        assert store.record(wf.execution_id).status == "waiting"

        gate.unlink()
        with _uvicorn(env, tmp_path / "second.log") as (base, _):
            retried = _post(base, body)  # a fresh signature (a sender re-signs each attempt), the same key
            again = _post(base, body)
        assert retried.status_code == 200, retried.text
        assert (retried.json()["replayed"], again.json()["replayed"]) == (False, True)
        assert [s["idempotency_key"] for s in _signals(store, wf.execution_id)] == ["evt-1"]
        assert store.record(wf.execution_id).status == "succeeded"
    finally:
        store.close()


def test_the_same_unkeyed_delivery_from_six_threads_at_once_is_applied_once(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """No idempotency key: nothing says the six are one event, so one is applied (200) and five are answered 409
    as duplicates — never two signals, never a 500 from the compare-and-set race."""
    url = store_url("sqlite", tmp_path, request)
    store = from_url(url)
    env = environment(IGNITER_STORE_URL=url, WEBHOOK_SECRET=SECRET)
    env.pop("IGNITER_TEST_GATE", None)
    body = json.dumps({"ticket": "t-2", "answer": "yes"}).encode()
    racers = 6
    try:
        wf = GatedWorkflow.start(ticket="t-2", store=store)
        with _uvicorn(env, tmp_path / "race.log") as (base, _):
            barrier = threading.Barrier(racers)
            headers = {"Content-Type": "application/json", **sign(body, SECRET)}  # one request, sent six times

            def race(_: int) -> httpx.Response:
                with httpx.Client(base_url=base, timeout=20) as http:
                    barrier.wait(10)
                    return http.post("/answered", content=body, headers=headers)

            with ThreadPoolExecutor(racers) as pool:
                responses = list(pool.map(race, range(racers)))
        assert sorted(r.status_code for r in responses) == [200] + [409] * (racers - 1), [r.text for r in responses]
        assert {r.json()["type"] for r in responses if r.status_code == 409} == {"DuplicateSignalError"}
        assert len(_signals(store, wf.execution_id)) == 1
    finally:
        store.close()
