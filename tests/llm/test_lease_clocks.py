"""Resume leases and clocks that disagree. Until 2026-12-05 a lease expired at ``expires_at`` — the holder's wall
clock plus the lease — judged by the claimer's wall clock: a worker whose clock ran ahead of the holder's by more
than the lease (skew between machines, an NTP step, a VM resumed) took over a live lease and paid for the same
follow-up call again; one whose clock ran behind saw a dead holder's lease held for far too long. A held lease is
now judged by the observer's own monotonic clock: taken over once it stayed unchanged (same holder, same store
version) for longer than its length, whatever any wall clock says. Every clock here is a real clock function
stepped by the test (``LeaseClock``): no sleeps, no races."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import igniter_nb as ig
from igniter_nb.llm import lease as lease_module
from igniter_nb.llm.lease import LEASE_FORMAT, LEASE_GRAPH, LeaseClock, ResumeLease, lease_id, sweep
from igniter_nb.stores import MemoryStore, SQLStore

pytestmark = pytest.mark.timeout(60)

SECONDS = 10.0
DAY = 86400.0


class Clocks:
    """One machine's clocks, stepped by hand: ``wall`` (epoch seconds) and ``mono`` (monotonic seconds)."""

    def __init__(self, wall: float, source: str, seen_dir: Path, mono: float = 1000.0) -> None:
        self.wall, self.mono = wall, mono
        self.clock = LeaseClock(wall=lambda: self.wall, monotonic=lambda: self.mono, source=source,
                                seen_dir=str(seen_dir))

    def step(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


def _holder(store: MemoryStore) -> str:
    return str(store.fetch(lease_id("wait")).get("holder"))


@pytest.mark.parametrize("ahead", [SECONDS + 1, DAY])
def test_a_claimer_whose_clock_is_ahead_does_not_take_over_a_live_lease(tmp_path, ahead):
    store = MemoryStore()
    a = Clocks(1_800_000_000.0, "host-a", tmp_path)
    b = Clocks(1_800_000_000.0 + ahead, "host-b", tmp_path)  # by its wall clock, A's lease expired long ago
    held = ResumeLease.claim(store, "wait", SECONDS, clock=a.clock)
    holder = _holder(store)
    for _ in range(9):  # three lease lengths, the holder alive and renewing every third of it
        with pytest.raises(ig.llm.ResumeInProgressError, match="is being resumed by another worker"):
            ResumeLease.claim(store, "wait", SECONDS, clock=b.clock)
        a.step(SECONDS / 3)
        b.step(SECONDS / 3)
        assert held.renew()
    assert _holder(store) == holder
    held.finish()
    ResumeLease.claim(store, "wait", SECONDS, clock=b.clock)  # released: claimed at once
    assert _holder(store) != holder


@pytest.mark.parametrize("skew", [DAY, -DAY, 0.0])
def test_a_holder_that_stopped_renewing_is_taken_over_within_twice_its_lease(tmp_path, skew):
    """The holder died (stopped renewing): another machine takes its lease over once it saw it unchanged for more
    than its length by its own monotonic clock — within two lease lengths of its first look, whatever the wall
    clocks (behind by a day: on main the lease looked held for a day more)."""
    store = MemoryStore()
    a = Clocks(1_800_000_000.0, "host-a", tmp_path)
    b = Clocks(1_800_000_000.0 + skew, "host-b", tmp_path, mono=5.0)
    held = ResumeLease.claim(store, "wait", SECONDS, clock=a.clock)
    a.step(SECONDS / 3)
    assert held.renew()  # alive for a while, then gone: no renewal, no finish
    started = b.mono
    taken = None
    while taken is None and b.mono - started <= 2 * SECONDS:
        try:
            taken = ResumeLease.claim(store, "wait", SECONDS, clock=b.clock)
        except ig.llm.ResumeInProgressError as exc:
            assert "another worker" in str(exc)
            b.step(SECONDS / 4)
    assert taken is not None, "a dead holder's lease was not taken over within twice its length"
    assert b.mono - started > SECONDS  # ... and not before it was seen unchanged for its whole length
    assert not held.renew()  # the dead holder, were it to come back, finds it taken over
    assert store.fetch(lease_id("wait"))["holder"] == taken._entry["holder"]


def test_a_claimer_reading_the_holders_own_monotonic_clock_judges_its_last_renewal(tmp_path):
    """Two processes of one machine (the same monotonic clock: memory, file and SQLite stores, workers of one
    host): the holder's last renewal is judged directly, no wait for an observation — and a wall clock stepped
    forward on that machine changes nothing."""
    store = MemoryStore()
    a = Clocks(1_800_000_000.0, "host-a", tmp_path)
    held = ResumeLease.claim(store, "wait", SECONDS, clock=a.clock)
    a.wall += DAY  # an NTP step: the wall clock jumps, the monotonic one does not
    a.mono += SECONDS / 2
    with pytest.raises(ig.llm.ResumeInProgressError):
        ResumeLease.claim(store, "wait", SECONDS, clock=a.clock)
    a.mono += SECONDS / 2 + 0.01  # no renewal for longer than the lease: dead
    ResumeLease.claim(store, "wait", SECONDS, clock=a.clock)
    assert not held.renew()


def test_an_observation_outlives_the_process_that_made_it(tmp_path):
    """A forking queue worker resumes each attempt in a fresh child process: what one child saw is kept (in
    ``seen_dir``, by the machine's monotonic clock) for the next, or a dead holder's lease would never be taken
    over by such workers."""
    store = MemoryStore()
    a = Clocks(1_800_000_000.0, "host-a", tmp_path)
    b = Clocks(1_800_000_000.0, "host-b", tmp_path)
    ResumeLease.claim(store, "wait", SECONDS, clock=a.clock)
    with pytest.raises(ig.llm.ResumeInProgressError):
        ResumeLease.claim(store, "wait", SECONDS, clock=b.clock)
    lease_module._SEEN.clear()  # a new process: nothing in memory
    b.step(SECONDS + 1)
    ResumeLease.claim(store, "wait", SECONDS, clock=b.clock)


def test_a_lease_stored_by_the_previous_release_is_judged_by_observation(tmp_path):
    """A record of the previous release (no ``seconds``, no clock source): its length is read as ``expires_at -
    claimed_at`` (at least the claimer's own), and it is taken over once seen unchanged that long — even when its
    ``expires_at`` has long passed by this machine's wall clock (the previous release took it over at once)."""
    store = MemoryStore()
    b = Clocks(1_800_000_000.0, "host-b", tmp_path)
    store.save({"format": LEASE_FORMAT, "execution_id": lease_id("wait"), "graph": LEASE_GRAPH, "token": "wait",
                "holder": "old-release", "pid": 1, "host": "old", "claimed_at": b.wall - DAY - 30,
                "expires_at": b.wall - DAY, "running": True, "replies": {"k": {"text": "paid"}}},
               graph=LEASE_GRAPH, status="succeeded")
    with pytest.raises(ig.llm.ResumeInProgressError):
        ResumeLease.claim(store, "wait", SECONDS, clock=b.clock)
    b.step(SECONDS + 1)  # its own span is 30 s: still held
    with pytest.raises(ig.llm.ResumeInProgressError):
        ResumeLease.claim(store, "wait", SECONDS, clock=b.clock)
    b.step(20)
    taken = ResumeLease.claim(store, "wait", SECONDS, clock=b.clock)
    assert taken.reply_for("k") == {"text": "paid"}


def test_a_lease_stays_readable_by_the_previous_release(tmp_path):
    """Workers of the previous release, during a rolling upgrade, judge ``expires_at`` by their wall clock as
    before: it is still written, and renewals still move it."""
    store = SQLStore(f"sqlite:///{tmp_path / 'runs.db'}")
    a = Clocks(1_800_000_000.0, "host-a", tmp_path)
    held = ResumeLease.claim(store, "wait", SECONDS, clock=a.clock)
    entry = store.fetch(lease_id("wait"))
    assert entry["format"] == LEASE_FORMAT and entry["running"] is True
    assert entry["claimed_at"] == a.wall and entry["expires_at"] == a.wall + SECONDS
    a.step(5)
    assert held.renew()
    assert store.fetch(lease_id("wait"))["expires_at"] == a.wall + SECONDS


def test_sweep_on_a_machine_whose_clock_is_ahead_keeps_a_live_lease(tmp_path):
    store = MemoryStore()
    a = Clocks(1_800_000_000.0, "host-a", tmp_path)
    b = Clocks(1_800_000_000.0 + 2 * DAY, "host-b", tmp_path)
    held = ResumeLease.claim(store, "wait", SECONDS, clock=a.clock)
    ResumeLease.claim(store, "done", SECONDS, clock=a.clock).finish()
    assert sweep(store, older_than=DAY, clock=b.clock) == 1  # the released one, old by b's clock; the held one stays
    for _ in range(6):
        a.step(SECONDS / 3)
        b.step(SECONDS / 3)
        assert held.renew()
        assert sweep(store, older_than=0, clock=b.clock) == 0
    assert store.fetch(lease_id("wait"))["running"] is True
    b.step(SECONDS + 1)  # the holder died: seen unchanged for longer than its lease
    assert sweep(store, older_than=0, clock=b.clock) == 1


CLAIM = """
import sys
from igniter_nb.llm.lease import LeaseClock, ResumeLease
from igniter_nb.llm.errors import ResumeInProgressError
from igniter_nb.stores import SQLStore

url, seen_dir, mono = sys.argv[1], sys.argv[2], float(sys.argv[3])
clock = LeaseClock(wall=lambda: 1_800_000_000.0, monotonic=lambda: mono, source="host-b", seen_dir=seen_dir)
try:
    ResumeLease.claim(SQLStore(url), "wait", 10.0, clock=clock)
    print("taken")
except ResumeInProgressError:
    print("refused")
"""


def _claim_in_a_new_process(url: str, seen_dir: Path, mono: float) -> str:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", CLAIM, url, str(seen_dir), str(mono)], cwd=root, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_each_attempt_in_a_new_process_still_takes_a_dead_holders_lease_over(tmp_path):
    """The same, with real processes (a forking RQ worker's children) sharing one SQLite store."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    a = Clocks(1_800_000_000.0, "host-a", tmp_path)
    ResumeLease.claim(SQLStore(url), "wait", SECONDS, clock=a.clock)  # then dies: never renewed
    assert _claim_in_a_new_process(url, tmp_path, 100.0) == "refused"
    assert _claim_in_a_new_process(url, tmp_path, 100.0 + SECONDS) == "refused"
    assert _claim_in_a_new_process(url, tmp_path, 100.0 + SECONDS + 0.5) == "taken"
