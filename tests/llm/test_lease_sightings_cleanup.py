"""Sighting files of resume leases are pruned. A machine that observes a lease held from another keeps a small file
per lease under ``igniter_nb-leases-<uid>`` so the next process (a forking RQ worker's next child) continues the
observation. Until 2026-12-05 nothing removed them: one file per lease ever observed, kept for ever. Now a process
writing a sighting removes, at most once an hour, those whose mtime is older than a day (or ten times the longest
lease it read), a bounded number at a time. A removed sighting only starts an observation again: the lease is not
taken over earlier. Real files, real mtimes (set with ``os.utime``); clocks stepped by hand, no sleeps."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

import igniter_nb as ig
from igniter_nb.llm import lease as lease_module
from igniter_nb.llm.lease import LeaseClock, ResumeLease
from igniter_nb.stores import MemoryStore

pytestmark = pytest.mark.timeout(60)

SECONDS = 10.0
WEEK = 7 * 86400.0


@pytest.fixture(autouse=True)
def _new_process(monkeypatch):
    """Each test runs as a process that has not pruned yet, with nothing in memory."""
    monkeypatch.setattr(lease_module, "_SEEN_PRUNED", {}, raising=False)
    lease_module._SEEN.clear()
    yield
    lease_module._SEEN.clear()


def _clock(seen_dir: Path, source: str = "host-b", mono: list[float] | None = None) -> LeaseClock:
    mono = mono if mono is not None else [1000.0]
    return LeaseClock(wall=lambda: 1_800_000_000.0, monotonic=lambda: mono[0], source=source, seen_dir=str(seen_dir))


def _sightings(seen_dir: Path) -> set[str]:
    return {p.name for p in seen_dir.iterdir() if ".llm-resume." in p.name}


def _observe(seen_dir: Path, token: str, mono: list[float]) -> None:
    """Another machine's claim on ``token``, observed (and refused) from host-b."""
    store = MemoryStore()
    ResumeLease.claim(store, token, SECONDS, clock=LeaseClock(source="host-a", seen_dir=str(seen_dir)))
    with pytest.raises(ig.llm.ResumeInProgressError):
        ResumeLease.claim(store, token, SECONDS, clock=_clock(seen_dir, mono=mono))


def test_old_sightings_are_removed_and_fresh_ones_kept(tmp_path):
    mono = [1000.0]
    for n in range(5):
        _observe(tmp_path, f"old-{n}", mono)
    old = _sightings(tmp_path)
    assert len(old) == 5
    long_ago = time.time() - WEEK
    for name in old:
        os.utime(tmp_path / name, (long_ago, long_ago))
    (tmp_path / "notes.txt").write_text("not a sighting")  # (someone else's file: left alone however old)
    os.utime(tmp_path / "notes.txt", (long_ago, long_ago))
    lease_module._SEEN_PRUNED.clear()
    lease_module._SEEN.clear()

    _observe(tmp_path, "fresh", mono)  # writing a sighting prunes the directory

    left = _sightings(tmp_path)
    assert len(left) == 1 and not left & old
    assert (tmp_path / "notes.txt").exists()
    recent = time.time() - 3600
    os.utime(tmp_path / next(iter(left)), (recent, recent))  # an hour old: kept
    assert lease_module._prune_seen(_clock(tmp_path), force=True) == 0
    assert _sightings(tmp_path) == left


def test_pruning_runs_at_most_once_an_hour_per_process_and_is_bounded(tmp_path, monkeypatch):
    mono = [1000.0]
    _observe(tmp_path, "first", mono)  # this process prunes now...
    long_ago = time.time() - WEEK
    for n in range(30):
        (tmp_path / f"0123456789abcdef.llm-resume.{n:064x}.json").write_text("{}")
        os.utime(tmp_path / f"0123456789abcdef.llm-resume.{n:064x}.json", (long_ago, long_ago))
    _observe(tmp_path, "second", mono)  # ...and not again within the hour
    assert len(_sightings(tmp_path)) == 32
    monkeypatch.setattr(lease_module, "SEEN_PRUNE_REMOVE", 10)
    assert lease_module._prune_seen(_clock(tmp_path), force=True) == 10  # a bounded number per pruning
    assert len(_sightings(tmp_path)) == 22


def test_a_removed_sighting_starts_the_observation_again_never_takes_over_early(tmp_path):
    """host-b saw a dead holder's claim; its sighting is removed (pruned, or by another process) before the lease
    length has passed on host-b's monotonic clock: the next look starts the count again, so the claim is still held
    a whole lease length later — never taken over on the strength of a sighting that is gone."""
    store = MemoryStore()
    mono = [1000.0]
    ResumeLease.claim(store, "wait", SECONDS, clock=LeaseClock(source="host-a", seen_dir=str(tmp_path)))
    with pytest.raises(ig.llm.ResumeInProgressError):
        ResumeLease.claim(store, "wait", SECONDS, clock=_clock(tmp_path, mono=mono))
    (sighting,) = _sightings(tmp_path)
    long_ago = time.time() - WEEK
    os.utime(tmp_path / sighting, (long_ago, long_ago))
    assert lease_module._prune_seen(_clock(tmp_path), force=True) == 1
    lease_module._SEEN.clear()  # the next process: nothing in memory
    mono[0] += SECONDS - 1
    with pytest.raises(ig.llm.ResumeInProgressError, match=r"10\.0 s more"):  # counted again from now
        ResumeLease.claim(store, "wait", SECONDS, clock=_clock(tmp_path, mono=mono))
    mono[0] += SECONDS + 1
    taken = ResumeLease.claim(store, "wait", SECONDS, clock=_clock(tmp_path, mono=mono))  # a lease length later
    taken.finish()


def test_a_removal_racing_readers_is_harmless(tmp_path):
    """Readers of a sighting while it is removed and written again: each read is the whole sighting or none (a
    new observation), never an error or a half-written one; a reader that opened the file first reads it whole."""
    clock = _clock(tmp_path)
    record_id = "llm-resume." + "ab" * 32
    lease_module._write_seen(clock, record_id, {"holder": "h", "version": 3, "at": 5.0})
    path = lease_module._seen_path(clock, record_id)
    assert path is not None
    with open(path, encoding="utf-8") as opened:
        long_ago = time.time() - WEEK
        os.utime(path, (long_ago, long_ago))
        assert lease_module._prune_seen(clock, force=True) == 1
        assert '"holder": "h"' in opened.read()  # (already open: read whole)
    assert lease_module._read_seen(clock, record_id) is None

    reads: list[object] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set() and len(reads) < 20000:
                reads.append(lease_module._read_seen(clock, record_id))
        except BaseException as exc:  # pragma: no cover - what the test is for
            errors.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        for _ in range(300):
            lease_module._write_seen(clock, record_id, {"holder": "h", "version": 3, "at": 5.0})
            os.utime(path, (long_ago, long_ago))
            lease_module._prune_seen(clock, force=True)
    finally:
        stop.set()
        reader.join(10)
    assert not errors
    assert set(reads) <= {None, ("h", 3, 5.0)}
