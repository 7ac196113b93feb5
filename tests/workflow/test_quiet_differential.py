"""Quiet deliveries (``workflow/quiet.py``) against the general path: the same random sequences of starts and
deliveries — orders, duplicates, idempotent replays, conflicting keys, unknown and late events, payload errors,
fixed ``now=`` — run once as they are and once with ``quiet.GENERAL_ONLY`` set, on the memory, file and SQLite
stores; every answer (the contract's events, workflow record, states, audit and diagnostics, or the error raised)
and every stored version must be the same, up to clock readings."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.workflow._fast_paths import CLASSES, Pair, assert_same, both, random_ops, run, shuffled_runs


def _both(cls: type[ig.Contract], ops: list[tuple[Any, ...]], kind: str, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    return both(lambda store: run(cls, ops, store), kind, tmp_path, monkeypatch)


@pytest.mark.parametrize("kind", ["memory", "sqlite", "file"])
@pytest.mark.parametrize("name", sorted(CLASSES))
def test_random_sequences_answer_and_store_the_same_on_both_paths(
        name: str, kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count_quiet: list[int]) -> None:
    cls = CLASSES[name]
    rng = random.Random(f"{name}-{kind}")
    ops = random_ops(rng, cls, 40 if kind == "memory" else 24)
    quick, general = _both(cls, ops, kind, tmp_path, monkeypatch)
    assert_same(quick, general)
    if name == "chain":
        assert count_quiet[0] == 0
    else:
        assert count_quiet[0] > 0  # (the sequences do reach the quiet path)


@pytest.mark.parametrize("seed", range(12))
def test_more_random_sequences_on_the_memory_store(seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    cls = CLASSES[rng.choice(sorted(CLASSES))]
    ops = random_ops(rng, cls, 30)
    assert_same(*_both(cls, ops, "memory", tmp_path, monkeypatch))


@pytest.mark.parametrize("kind", ["memory", "sqlite", "file"])
def test_every_await_in_shuffled_orders_with_replays(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     count_quiet: list[int]) -> None:
    for name in ("three", "docs", "scoped"):
        cls = CLASSES[name]
        ops = shuffled_runs(cls, 3, 7, lambda round_, j, last: j)
        sub = tmp_path / name
        sub.mkdir()
        assert_same(*_both(cls, ops, kind, sub, monkeypatch))
    # every delivery but the last of each run is quiet in docs and scoped; three: at least the first of each run
    assert count_quiet[0] >= 3 * (4 + 2 + 1)


def test_the_first_benchpair_delivery_is_quiet_the_second_general(monkeypatch: pytest.MonkeyPatch,
                                                                  count_quiet: list[int]) -> None:
    store = MemoryStore()
    Pair.start(key="p", store=store)
    Pair.deliver_event("left_arrived", correlation={"key": "p"}, payload={"n": 1}, store=store)
    assert count_quiet[0] == 1
    done = Pair.deliver_event("right_arrived", correlation={"key": "p"}, payload={"n": 2}, store=store)
    assert count_quiet[0] == 1
    assert done.result.joined == {"l": {"n": 1}, "r": {"n": 2}}
