"""A worker from ``igniter_nb.integrations.rq.worker()`` stops at once: in burst mode on an empty queue, after its one
job, and on a warm shutdown (SIGTERM) — given a URL or a ``redis.Redis``, as ``rq.SimpleWorker``, the default or
``rq.Worker``. With RQ 3.0 and redis-py 8 as they come, one stop in a few took 60 s (the pub/sub thread's sleep_time)
when another thread kept the GIL busy; ``rq_stop_probe`` makes that load, and runs under a hard timeout here so a
stall fails the test instead of hanging it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integrations.processes import environment

pytestmark = pytest.mark.services

ROUNDS = 24  # cycling 4 variants; RQ's own order stalled in each of 12 runs (all modes), within 16 rounds
HANG = 15.0  # seconds: a stop that takes longer is the 60 s stall, not a slow machine (a stop takes ~0.05 s)
TIMEOUT = 40.0  # for the whole probe, start-up included: well below the 60 s a stall takes


def _probe(mode: str, rq_url: str, tmp_path: Path) -> list[dict[str, object]]:
    env = environment(IGNITER_STORE_URL=f"sqlite:///{tmp_path / 'store.db'}")
    log = tmp_path / "probe.log"
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "tests.integrations.rq_stop_probe", rq_url, mode, str(ROUNDS)],
                                env=env, cwd=env["PYTHONPATH"], stdout=subprocess.PIPE, stderr=err,
                                start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the probe and any work horse it forked
            out, _ = proc.communicate()
    rounds = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    assert proc.returncode == 0 and len(rounds) == ROUNDS, (
        f"the probe stopped after {len(rounds)} of {ROUNDS} rounds (exit {proc.returncode}): a worker that did not "
        f"stop within {TIMEOUT:.0f} s?\n{rounds[-2:]}\n{log.read_text()[-3000:]}")
    return rounds


@pytest.mark.parametrize("mode", ["empty", "job", "sigterm"])
def test_a_worker_stops_at_once_with_a_url_or_a_client_and_any_worker_class(
        mode: str, rq_url: str, tmp_path: Path) -> None:
    rounds = _probe(mode, rq_url, tmp_path)
    slow = [r for r in rounds if float(r["seconds"]) >= HANG]  # type: ignore[arg-type]
    assert slow == [], slow
    assert all(r["loaded"] for r in rounds)  # the load came at the moment it matters (RQ still logs that line)
    assert {(r["connection"], r["worker_class"]) for r in rounds} == {
        ("url", "SimpleWorker"), ("client", "SimpleWorker"), ("url", None), ("client", "Worker")}
    if mode == "job":
        assert {r["job"] for r in rounds} == {"finished"}


def test_worker_builds_a_subclass_of_the_class_it_is_given_that_stops_first_and_leaves_a_class_of_its_own_alone(
        rq_url: str) -> None:
    import rq

    from igniter_nb.integrations import rq as ig_rq

    class Mine(rq.SimpleWorker):
        pass

    class OwnOrder(rq.SimpleWorker):
        def unsubscribe(self) -> None:
            super().unsubscribe()

    assert type(ig_rq.worker("q", connection=rq_url)) is ig_rq.Worker  # the default: RQ's forking worker
    assert type(ig_rq.worker("q", connection=rq_url, worker_class=rq.SimpleWorker)) is ig_rq.SimpleWorker
    assert type(ig_rq.worker("q", connection=rq_url, worker_class=rq.Worker)) is ig_rq.Worker
    mine = ig_rq.worker("q", connection=rq_url, worker_class=Mine)
    assert isinstance(mine, Mine) and isinstance(mine, ig_rq.StopsPubSubFirst) and type(mine).__name__ == "Mine"
    assert type(ig_rq.worker("q", connection=rq_url, worker_class=Mine)) is type(mine)  # one class, not one a call
    assert type(ig_rq.worker("q", connection=rq_url, worker_class=OwnOrder)) is OwnOrder
    assert type(ig_rq.worker("q", connection=rq_url, worker_class=ig_rq.SimpleWorker)) is ig_rq.SimpleWorker
    assert issubclass(ig_rq.SimpleWorker, rq.SimpleWorker) and issubclass(ig_rq.Worker, rq.Worker)
