"""Completing deliveries (``workflow/completing.py``) against the general path: the same random sequences of starts
and deliveries (orders, duplicates, idempotent replays, conflicting keys, unknown and late events, payload errors)
run once as they are and once with ``completing.GENERAL_ONLY`` set (quiet deliveries on in both), on the memory,
file and SQLite stores, with dependents that return dates, floats, tuples, NaN, sets, values the codec cannot
store, one-shot iterators and pending values, that raise, and that change their payload in place; every answer
and every stored version must be the same, up to clock readings, and every dependent called as often."""

from __future__ import annotations

import datetime as dt
import math
import random
from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from igniter_nb.workflow import applied_save, completing, quiet
from igniter_nb.workflow.engine import start
from tests.workflow._fast_paths import (
    CLASSES,
    NOW,
    SCRIPTS,
    Watched,
    answer,
    assert_same,
    both,
    keyed_awaits,
    norm,
    random_ops,
    run,
    run_script,
    shuffled_runs,
)

CALLS: dict[str, int] = {}


def _called(name: str) -> None:
    CALLS[name] = CALLS.get(name, 0) + 1


class Unstorable:
    def __repr__(self) -> str:
        return "<Unstorable>"


def outcome(total: int, where: str) -> Any:
    """What the odd dependents return (or raise) for payloads summing to ``total``."""
    kind = total % 12
    if kind == 0:
        return dt.date(2030, 1, total % 28 + 1)
    if kind == 1:
        return total / 3
    if kind == 2:
        return (total, where)
    if kind == 3:
        return math.nan
    if kind == 4:
        return {total, where}
    if kind == 5:
        raise ValueError(f"no {where} for {total}")
    if kind == 6:
        raise ig.ResolutionError(f"refused {where}", reason=total)
    if kind == 7:
        return Unstorable()
    if kind == 8:
        return iter([total])
    if kind == 9:
        return ig.DeferredResult(token=f"t-{where}-{total}", payload={"n": total})
    if kind == 10:
        return {"total": total, "where": [where, 1.5, None]}
    return None


def _n(payload: Any) -> int:
    return int(payload.get("n", 0)) if isinstance(payload, dict) and type(payload.get("n")) is int else 0


class OddPair(ig.Contract):
    """Two awaits joined by a dependent whose outcome depends on the payloads (see ``outcome``)."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        keyed_awaits(c, "left", "right")

        @c.compute
        def joined(left: Any, right: Any) -> Any:
            _called("joined")
            return outcome(_n(left) + _n(right), "joined")

        c.output("joined")


class OddThree(ig.Contract):
    """Three awaits, two joins each reading two of them (one also the input): a delivery may make one ready, the
    other waiting, or both ready with different outcomes."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        keyed_awaits(c, "a", "b", "c")

        def ab(a: Any, b: Any) -> Any:
            _called("ab")
            return outcome(_n(a) + _n(b), "ab")

        def bc(key: str, b: Any, c: Any) -> Any:
            _called("bc")
            return outcome(_n(b) + 2 * _n(c) + 1, "bc")

        c.compute("ab", depends_on=["a", "b"], call=ab)
        c.compute("bc", depends_on=["key", "b", "c"], call=bc)
        c.output("ab")
        c.output("bc")


class Stamping(ig.Contract):
    """A dependent that changes its payload in place (adds a date, or a plain field) before returning."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        keyed_awaits(c, "a", "b")

        def stamp(a: Any, b: Any) -> Any:
            _called("stamp")
            if _n(b) % 2:
                b["seen"] = dt.date(2030, 1, 2)  # (no longer plain: the general path encodes it tagged)
            else:
                a["seen"] = True
            return [a, b]

        c.compute("stamp", depends_on=["a", "b"], call=stamp)
        c.output("stamp")


ODD = {"odd_pair": OddPair, "odd_three": OddThree, "stamping": Stamping}
ALL = {**CLASSES, **ODD}


def _odd_ops(rng: random.Random, cls: type[ig.Contract], count: int) -> list[tuple[Any, ...]]:
    """``random_ops`` with payloads ``{"n": 0..11}`` mostly, so the odd dependents meet every outcome."""
    ops = random_ops(rng, cls, count)
    for i, op in enumerate(ops):
        if op[0] == "deliver" and op[3] != "not a dict" and rng.random() < 0.8:
            ops[i] = (*op[:3], {"n": rng.randrange(12)}, op[4])
    return ops


def _run(cls: type[ig.Contract], ops: list[tuple[Any, ...]], store: Any) -> tuple[list[Any], list[Any]]:
    """``run``, and how often each dependent was called (the same on both paths)."""
    CALLS.clear()
    answers, stored = run(cls, ops, store, fresh_payloads=True)  # (a dependent may change its payload in place)
    answers.append(("calls", sorted(CALLS.items())))
    return answers, stored


def _both(cls: type[ig.Contract], ops: list[tuple[Any, ...]], kind: str, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch, switch: Any = completing) -> tuple[Any, Any]:
    return both(lambda store: _run(cls, ops, store), kind, tmp_path, monkeypatch, switch)


@pytest.mark.parametrize("kind", ["memory", "sqlite", "file"])
@pytest.mark.parametrize("name", sorted(ALL))
def test_random_sequences_answer_and_store_the_same_with_and_without_completing_deliveries(
        name: str, kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        count_completing: dict[str, int]) -> None:
    cls = ALL[name]
    rng = random.Random(f"complete-{name}-{kind}")
    count = (40 if kind == "memory" else 24) * (2 if name == "docs" else 1)  # (five awaits to complete)
    ops = _odd_ops(rng, cls, count) if name in ODD else random_ops(rng, cls, count)
    assert_same(*_both(cls, ops, kind, tmp_path, monkeypatch))
    if name == "chain":
        assert count_completing == {"applied": 0, "handed": 0}
    elif name in ODD:  # (few runs complete here; test_every_outcome... meets both ways for each)
        assert count_completing["applied"] + count_completing["handed"] > 0
    else:
        assert count_completing["applied"] > 0  # (the sequences do reach the completing path)


@pytest.mark.parametrize("seed", range(16))
def test_more_random_sequences_on_the_memory_store(seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(f"more-{seed}")
    name = rng.choice(sorted(ALL))
    cls = ALL[name]
    ops = _odd_ops(rng, cls, 30) if name in ODD else random_ops(rng, cls, 30)
    assert_same(*_both(cls, ops, "memory", tmp_path, monkeypatch))


@pytest.mark.parametrize("seed", range(6))
def test_both_shortcuts_against_the_general_path_alone(seed: int, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """quiet.GENERAL_ONLY turns both off: quiet and completing deliveries together against the general path."""
    rng = random.Random(f"both-{seed}")
    name = sorted(ALL)[seed % len(ALL)]
    cls = ALL[name]
    ops = _odd_ops(rng, cls, 30) if name in ODD else random_ops(rng, cls, 30)
    assert_same(*_both(cls, ops, "memory", tmp_path, monkeypatch, switch=quiet))


def _every_outcome(cls: type[ig.Contract]) -> list[tuple[Any, ...]]:
    """A run per outcome of ``outcome``: its last delivery's payload gives it (each with a replay, and a late one)."""
    return shuffled_runs(cls, 12, 11, lambda total, j, last: total if last else 0)


@pytest.mark.parametrize("kind", ["memory", "sqlite", "file"])
@pytest.mark.parametrize("name", sorted(ODD))
def test_every_outcome_of_a_completed_join_is_recorded_as_the_general_path_records_it(
        name: str, kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        count_completing: dict[str, int]) -> None:
    assert_same(*_both(ODD[name], _every_outcome(ODD[name]), kind, tmp_path, monkeypatch))
    assert count_completing["applied"] > 0 and count_completing["handed"] > 0


def test_benchpair_and_40_documents_complete_on_the_record(monkeypatch: pytest.MonkeyPatch,
                                                           count_completing: dict[str, int]) -> None:
    from bench._server_contracts import BenchPair
    from tests.workflow.wf_contracts import documents_workflow

    store = MemoryStore()
    BenchPair.start(pair_id="p", store=store)
    BenchPair.deliver_event("left_arrived", correlation={"pair_id": "p"}, payload={"n": 1}, store=store)
    assert count_completing["applied"] == 0
    done = BenchPair.deliver_event("right_arrived", correlation={"pair_id": "p"}, payload={"n": 2}, store=store)
    assert count_completing["applied"] == 1
    assert done.workflow_status == "succeeded"
    assert done.result.joined == {"left": {"n": 1}, "right": {"n": 2}}
    docs = documents_workflow(40)
    docs.start(key="d", store=store)
    for i in range(40):
        last = docs.deliver_event(f"doc{i:02d}_arrived", correlation={"key": "d"}, payload={"i": i}, store=store)
    assert count_completing["applied"] == 2
    assert last.workflow_status == "succeeded" and last.result.count == 40


@pytest.mark.parametrize("total", [5, 6])
def test_a_dependent_that_raises_is_called_once_and_fails_as_on_the_general_path(
        total: int, monkeypatch: pytest.MonkeyPatch, count_completing: dict[str, int]) -> None:
    def deliver(store: Any) -> Any:
        start(OddPair, {"key": "k"}, store=store, now=NOW, execution_id="00000000-0000-4000-8000-000000000001")
        OddPair.deliver_event("left_arrived", correlation={"key": "k"}, payload={"n": 0}, store=store, now=NOW)
        CALLS.clear()
        done = OddPair.deliver_event("right_arrived", correlation={"key": "k"}, payload={"n": total}, store=store,
                                     now=NOW)
        assert CALLS == {"joined": 1}
        return done, store.history_records(done.execution_id)

    done, history = deliver(MemoryStore())
    assert count_completing["handed"] == 1 and count_completing["applied"] == 0
    assert done.workflow_status == "failed"
    assert [e.type for e in done.events][-3:] == ["node_failed", "execution_failed", "workflow_failed"]
    monkeypatch.setattr(completing, "GENERAL_ONLY", True)
    general, general_history = deliver(MemoryStore())
    assert answer(done) == answer(general)
    assert [norm(r.snapshot) for r in history] == [norm(r.snapshot) for r in general_history]
    # the contract returned calls the dependent itself again when asked to (the stand-in gives its outcome once)
    CALLS.clear()
    done.execution.resolver.nodes["joined"].callable(left={"n": 0}, right={"n": 10})
    assert CALLS == {"joined": 1}


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("script", range(5))
def test_deliveries_across_deploys_answer_and_store_the_same_with_and_without_completing_deliveries(
        script: int, kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_same(*both(lambda store: run_script(SCRIPTS[script], store), kind, tmp_path, monkeypatch, completing))


def _not_plain_calls(kind: str) -> type[ig.Contract]:
    """``Pair`` whose join is a guard, a method, a callable object or an executor: never a completing delivery."""

    class Joiner:
        def __call__(self, left: Any, right: Any) -> Any:
            _called("joined")
            return [left, right]

    class JoinExecutor(ig.Executor):
        def call(self, left: Any, right: Any) -> Any:
            _called("joined")
            return [left, right]

    class Other(ig.Contract):
        def joined_method(self, left: Any, right: Any) -> Any:
            _called("joined")
            return [left, right]

        @staticmethod
        def define(c: ig.ContractBuilder) -> None:
            keyed_awaits(c, "left", "right")
            if kind == "guard":
                def joined(left: Any, right: Any) -> bool:
                    _called("joined")
                    return bool(left.get("n"))

                c.guard(joined, depends_on=["left", "right"])
            elif kind == "method":
                c.compute("joined", depends_on=["left", "right"], call="joined_method")
            elif kind == "object":
                c.compute("joined", depends_on=["left", "right"], call=Joiner())
            else:
                c.compute("joined", depends_on=["left", "right"], call=JoinExecutor)
            c.output("joined")

    Other.__name__ = Other.__qualname__ = f"Other_{kind}"
    return Other


@pytest.mark.parametrize("kind", ["guard", "method", "object", "executor"])
def test_a_join_more_than_a_plain_function_takes_the_general_path(kind: str, monkeypatch: pytest.MonkeyPatch,
                                                                  count_completing: dict[str, int]) -> None:
    cls = _not_plain_calls(kind)
    ops = [("start", "w1"), ("deliver", "w1", "left_arrived", {"n": 1}, "a"),
           ("deliver", "w1", "right_arrived", {"n": 0}, "b"), ("start", "w2"),
           ("deliver", "w2", "right_arrived", {"n": 0}, "c"), ("deliver", "w2", "left_arrived", {"n": 0}, "d")]
    quick = _run(cls, ops, MemoryStore())
    monkeypatch.setattr(completing, "GENERAL_ONLY", True)
    assert_same(quick, _run(cls, ops, MemoryStore()))
    assert count_completing == {"applied": 0, "handed": 0}
    assert ("calls", [("joined", 2)]) in quick[0]


def test_a_reaction_sees_the_completing_delivery_live(count_completing: dict[str, int]) -> None:
    Watched.seen.clear()
    store = MemoryStore()
    Watched.start(key="k", store=store)
    Watched.deliver_event("a_arrived", correlation={"key": "k"}, payload={}, store=store)
    done = Watched.deliver_event("b_arrived", correlation={"key": "k"}, payload={}, store=store)
    assert done.workflow_status == "succeeded" and count_completing == {"applied": 0, "handed": 0}


def _another_writer_first(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The fast paths' next save finds that another writer saved the execution after the delivery read it (the
    stored record saved again, one version up): a real lost race, as two processes delivering at once make."""
    from igniter_nb.workflow import engine

    real = applied_save._save_runtime_snapshot()
    raced = [0]

    def another_writer_first(store: Any, snapshot: Any, **kwargs: Any) -> Any:
        if raced[0] == 0:
            raced[0] += 1
            rec = engine._active_record(store, kwargs["graph"], kwargs["correlation"])  # (as the delivery reads it)
            real(store, rec.snapshot, graph=kwargs["graph"], correlation=kwargs["correlation"], status="waiting",
                 expected_version=rec.version)
        return real(store, snapshot, **kwargs)

    monkeypatch.setattr(applied_save, "_save_runtime_snapshot", lambda: another_writer_first)
    return raced


def _general_restores(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    from igniter_nb.workflow import engine

    restores = [0]
    real = engine.restore_record

    def counted(*args: Any, **kwargs: Any) -> Any:
        restores[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "restore_record", counted)
    return restores


def test_a_completing_delivery_that_loses_its_race_reads_the_record_again(
        monkeypatch: pytest.MonkeyPatch, count_completing: dict[str, int]) -> None:
    """Another writer saved after the delivery read the record: the completing path's save loses its
    compare-and-set. The general path, restoring and saving that same record, could only lose again; the delivery
    reads the record again instead (no restore, no second save attempt on the stale record) and completes on it.
    The dependent is called again on what was read again, as after any lost race."""
    store = MemoryStore()
    start(OddPair, {"key": "k"}, store=store, now=NOW, execution_id="00000000-0000-4000-8000-000000000002")
    OddPair.deliver_event("left_arrived", correlation={"key": "k"}, payload={"n": 0}, store=store, now=NOW)
    raced = _another_writer_first(monkeypatch)
    restores = _general_restores(monkeypatch)
    CALLS.clear()
    done = OddPair.deliver_event("right_arrived", correlation={"key": "k"}, payload={"n": 10}, store=store, now=NOW)
    assert raced == [1] and restores == [0] and CALLS == {"joined": 2}
    assert count_completing == {"applied": 1, "handed": 0}
    assert done.result.joined == {"total": 10, "where": ["joined", 1.5, None]} and done.workflow_status == "succeeded"
    history = store.history_records(done.execution_id)
    assert [h.version for h in history] == [1, 2, 3, 4]  # start, left, the other writer's save, right
    assert [len(h.snapshot["workflow"]["signals"]) for h in history] == [0, 1, 1, 2]


def test_a_quiet_delivery_that_loses_its_race_reads_the_record_again(
        monkeypatch: pytest.MonkeyPatch, count_quiet: list[int]) -> None:
    store = MemoryStore()
    start(OddPair, {"key": "k"}, store=store, now=NOW, execution_id="00000000-0000-4000-8000-000000000003")
    raced = _another_writer_first(monkeypatch)
    restores = _general_restores(monkeypatch)
    done = OddPair.deliver_event("left_arrived", correlation={"key": "k"}, payload={"n": 1}, store=store, now=NOW)
    assert raced == [1] and restores == [0] and count_quiet == [1]
    assert done.workflow_status == "waiting"
    history = store.history_records(done.execution_id)
    assert [len(h.snapshot["workflow"]["signals"]) for h in history] == [0, 0, 1]
