"""A hostile multi-process trial of the delivery fast paths — quiet deliveries (``workflow/quiet.py``), completing
deliveries (``workflow/completing.py``) and contracts built on first touch (``runtime/first_touch.py``) — on real
shared stores (SQLite file, PostgreSQL, Redis, file).

Three rounds per store (10, 4 and 10 ``Trio`` workflows): their events delivered by four worker processes at once,
each workflow's deliveries side by side, with duplicates (same idempotency key and payload), competitors (another
key and payload for the same await) and conflicting replays (the same key, another payload); workers on the fast
paths and on the general path at the same time, some saving slowly (more lost compare-and-set races); packed
snapshots (payloads of 7 KB) and joins that raise (handed over to the general path). Workers are SIGKILLed over and
over — by the test at random moments while a delivery is in flight, and by themselves (``kill_trial.POINTS``)
inside a join's compute, before the save, inside the store's save (between the row and its history where the
store has two steps), after the save before the caller hears of it, inside the restore of a contract built on
first touch, and a few ms into a delivery. A killed worker's unanswered deliveries are retried by its successor
with the same keys and payloads (a sender's retry). The change feed follows two workflows of each round meanwhile.

After each round, every workflow: its stored versions are 1..n, one per signal, each the one before plus one
signal, each restoring; each await bound at most once, to a payload that was sent; every delivery answered
``returned`` is the one applied and the contract returned holds it, every refusal is for an await another delivery
satisfied; states, joins and status are what the applied payloads give; one ``external_event_received`` per signal;
the record restores; its whole history equals the general path delivering the same signals in the same order
alone; the feed saw every version after the first, once, in order; a replay is answered unchanged, another key
refused, and the awaits left undelivered take fresh deliveries.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from igniter_nb.errors import DuplicateSignalError
from igniter_nb.runtime import codec
from igniter_nb.stores import SQLStore
from igniter_nb.stores.feed import watch
from igniter_nb.workflow import quiet
from igniter_nb.workflow.engine import start
from igniter_nb.workflow.signals import payload_digest
from tests.stores.store_factory import make_spec, open_store
from tests.workflow import kill_trial
from tests.workflow._fast_paths import NOW, _first_difference
from tests.workflow._fast_paths import norm as _norm
from tests.workflow.kill_trial import AWAITS, Trio, expected_states

pytestmark = pytest.mark.services

WORKFLOWS = (10, 4, 10)  # per round (the round of 4: every worker delivers to the same few at once)
SLOTS = 4  # worker processes at once
STEADY = 1  # of which this many kill themselves nowhere (the test may still kill them)
EXTERNAL_KILLS = 6  # per round, besides the workers' own
ROUND_SECONDS = 40  # a round that has not finished by then fails the test
EXTRA_ROUNDS = 3  # rounds added, as the last one, while a kill point or the test's own kills were not seen yet
REQUIRED_POINTS = frozenset({"compute", "before_save", "in_save", "after_save", "restore"})  # each seen at least once
FINISHED = ("succeeded", "failed")


def _tasks(rng: random.Random, prefix: str, workflows: int) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Every delivery of one round, in an order that keeps each workflow's together, and ``{workflow key: awaits
    left undelivered}``."""
    tasks: list[dict[str, Any]] = []
    left: dict[str, list[str]] = {}
    for i in range(workflows):
        wf = f"{prefix}-w{i:02d}"
        nodes = list(AWAITS)
        rng.shuffle(nodes)
        if i % 3 == 0:  # one await left for the fresh deliveries after the round
            left[wf] = [nodes.pop()]
        for node in nodes:
            payload: dict[str, Any] = {"n": rng.randrange(1, 100), "by": f"{wf}:{node}"}
            if i % 4 == 2:  # a snapshot past 16 KB: stored packed (stores/packing.py), parts written before the row
                payload["blob"] = f"{wf}:{node}:" + "x" * 7000
            if node == "c" and i % 4 == 1:
                payload["explode"] = True  # ca raises: the completing path hands its outcome over
            key = f"{wf}:{node}"
            tasks.append({"wf": wf, "node": node, "key": key, "payload": payload})
            roll = rng.random()
            if roll < 0.35:
                tasks.append({"wf": wf, "node": node, "key": key, "payload": payload})  # duplicate
            elif roll < 0.6:  # a competitor: another sender's event for the same await
                tasks.append({"wf": wf, "node": node, "key": f"{key}:other",
                              "payload": {"n": rng.randrange(1, 100), "by": f"{wf}:{node}:other"}})
            elif roll < 0.7:  # the same key with another payload
                tasks.append({"wf": wf, "node": node, "key": key, "payload": {**payload, "n": payload["n"] + 1}})
    # each workflow's deliveries together, so the workers deliver to the same workflow at the same time
    by_workflow: dict[str, list[dict[str, Any]]] = {}
    for task in tasks:
        by_workflow.setdefault(task["wf"], []).append(task)
    groups = list(by_workflow.values())
    rng.shuffle(groups)
    tasks = []
    for group in groups:
        rng.shuffle(group)
        tasks += group
    for n, task in enumerate(tasks):
        task["id"] = f"{prefix}-t{n:03d}"
    return tasks, left


class _Trial:
    """One round's worker processes, restarted with their unanswered tasks until every task is answered."""

    def __init__(self, ctx: Any, spec: dict[str, Any], logs: Path, rng: random.Random) -> None:
        self.ctx, self.spec, self.logs, self.rng = ctx, spec, logs, rng
        self.started: set[str] = set()
        self.answers: dict[str, dict[str, Any]] = {}
        self.self_kills: list[str] = []
        self.external = 0
        self.killed = 0  # workers that ended by SIGKILL
        self.workers = 0
        self.armed = 0  # workers started with a point to kill themselves at

    def run(self, tasks: list[dict[str, Any]]) -> None:
        slots: list[dict[str, Any]] = [{"tasks": tasks[n::SLOTS], "proc": None, "log": None, "steady": n < STEADY}
                                       for n in range(SLOTS)]
        self.slots = slots
        deadline = time.time() + ROUND_SECONDS
        self.not_before = time.time() + 0.4  # (the first worker of each slot: all start delivering together)
        try:
            while True:
                busy = False
                for slot in slots:
                    busy = self._tend(slot, deadline) or busy
                if not busy:
                    return
                assert time.time() < deadline, f"round unfinished after {ROUND_SECONDS} s: {len(self.answers)} answers"
                if self.external < EXTERNAL_KILLS and self.rng.random() < 0.2:
                    self._kill_one(slots)
                time.sleep(self.rng.uniform(0.002, 0.015))
        finally:
            for slot in slots:
                proc = slot["proc"]
                if proc is not None and proc.is_alive():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(proc.pid, signal.SIGKILL)
                if proc is not None:
                    proc.join(10)

    def _tend(self, slot: dict[str, Any], deadline: float) -> bool:
        proc = slot["proc"]
        if proc is not None:
            if proc.is_alive():
                return True
            proc.join(10)
            self._collect(slot["log"], proc.exitcode)
            slot["proc"] = None
        remaining = [t for t in slot["tasks"] if t["id"] not in self.answers]
        if not remaining:
            return False
        self.workers += 1
        log = self.logs / f"worker-{self.workers:03d}.log"
        work = [{**t, "first": t["id"] not in self.started} for t in remaining]
        if slot["steady"]:  # (killed only by the test: it keeps delivering while the others die and restart)
            point = None
        else:
            self.armed += 1
            point = kill_trial.POINTS[self.armed % len(kill_trial.POINTS)]  # (each in turn)
        general = self.rng.random() < 0.4 and point not in ("compute", "restore")  # (those: on the fast paths)
        slow = self.rng.random() < 0.5
        proc = self.ctx.Process(target=kill_trial.work, args=(self.spec, work, str(log), self.rng.randrange(2**32),
                                                              general, slow, point, self.not_before, deadline),
                                daemon=True)
        proc.start()
        slot["proc"], slot["log"] = proc, log
        return True

    def _collect(self, log: Path, exitcode: int | None) -> None:
        killed_itself = False
        for entry in kill_trial.read_log(log):
            if "s" in entry:
                self.started.add(entry["s"])
            elif "k" in entry:
                self.self_kills.append(f"{entry['k']} ({entry['path']})")
                killed_itself = True
            else:
                self.answers[entry["a"]] = entry
        if exitcode == -signal.SIGKILL:
            self.killed += 1
        else:
            assert exitcode == 0, f"worker {log.name} ended with exit code {exitcode}"
        assert killed_itself <= (exitcode == -signal.SIGKILL)

    def _kill_one(self, slots: list[dict[str, Any]]) -> None:
        """SIGKILL a worker that has a delivery in flight (started, not answered)."""
        for slot in self.rng.sample(slots, len(slots)):
            proc = slot["proc"]
            if proc is None or not proc.is_alive():
                continue
            entries = kill_trial.read_log(slot["log"])
            if entries and "s" in entries[-1]:
                time.sleep(self.rng.uniform(0, 0.004))
                with contextlib.suppress(ProcessLookupError):  # (it finished meanwhile: not counted)
                    os.kill(proc.pid, signal.SIGKILL)
                    self.external += 1
                return


def _stored_states(snapshot: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    found = {}
    for name, data in snapshot["states"].items():
        value = codec.decode(data["value"]) if data["status"] == "succeeded" else None
        found[name] = (data["status"], value)
    return found


def _check_workflow(store: Any, eid: str, tasks: list[dict[str, Any]],
                    answers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The round's checks of one workflow (see the module's docstring); ``{await: the task applied to it}``."""
    rec = store.record(eid)
    snap = rec.snapshot
    workflow = snap["workflow"]
    signals = workflow["signals"]
    history = store.history_records(eid)
    assert [h.version for h in history] == list(range(1, rec.version + 1)), eid
    assert len(history) == 1 + len(signals), f"{eid}: {len(history)} versions for {len(signals)} signals"
    for n, h in enumerate(history):
        assert h.snapshot["workflow"]["signals"] == signals[:n], f"{eid} version {h.version}"
        assert len(Trio.restore(h.snapshot).signals) == n  # (every stored version restores)
    assert _norm(history[-1].snapshot) == _norm(snap)
    assert [h.version for h in store.history_page(eid, after_version=0, limit=100)] == [h.version for h in history]
    assert [s["order"] for s in signals] == list(range(1, len(signals) + 1))
    assert len({s["node"] for s in signals}) == len(signals), f"{eid}: an await bound twice: {signals}"
    applied: dict[str, dict[str, Any]] = {}
    for s in signals:
        sent = [t for t in tasks if t["node"] == s["node"] and t["key"] == s["idempotency_key"]
                and payload_digest(t["payload"]) == s["payload_digest"]]
        assert sent, f"{eid}: signal {s} matches no delivery sent"
        applied[s["node"]] = sent[0]
    for task in tasks:
        answer = answers[task["id"]]
        mine = applied.get(task["node"])
        same = mine is not None and mine["key"] == task["key"] and mine["payload"] == task["payload"]
        if answer["outcome"] == "returned":
            assert same, f"{eid}: delivery {task} was answered returned but {mine} is applied"
            assert answer["has"], f"{eid}: the contract returned for {task['id']} lacks its signal or payload"
        elif answer["outcome"] in ("duplicate", "conflict"):
            assert mine is not None and not same, f"{eid}: {task} refused ({answer}) but {mine} is applied"
        elif answer["outcome"] == "not_found":
            assert rec.status in FINISHED and mine is None, f"{eid}: {task} not found, workflow {rec.status}"
        else:
            pytest.fail(f"{eid}: delivery {task} raised {answer}")
    expected = expected_states({node: t["payload"] for node, t in applied.items()})
    stored = _stored_states(snap)
    for name, (status, value) in expected.items():
        if status == "waiting" and rec.status == "failed":
            continue  # (a failed workflow stops resolving: what did not run is left as it was)
        assert stored.get(name, ("waiting", None)) == (status, value), f"{eid}: {name}"
    failed = any(status == "failed" for status, _ in expected.values())
    want = "failed" if failed else "succeeded" if len(applied) == len(AWAITS) else "waiting"
    assert rec.status == workflow["status"] == want, eid
    received = [e for e in snap["events"] if e["type"] == "external_event_received"]
    assert len(received) == len(signals)
    assert [e["seq"] for e in snap["events"]] == list(range(1, len(snap["events"]) + 1))
    restored = Trio.restore_from_store(eid, store=store)
    assert restored.execution.store_version == rec.version
    assert {n: (str(s.status).lower().split(".")[-1]) for n, s in restored.execution.states.items()} == {
        n: s for n, (s, _) in stored.items()}
    return applied


def _history_view(store: Any, eid: str) -> list[Any]:
    return [(r.version, r.status, _norm(r.correlation), _norm(r.snapshot)) for r in store.history_records(eid)]


def _general_replay(replay: Any, eid: str, wf: str, store: Any, applied: dict[str, dict[str, Any]],
                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The stored history of ``eid`` equals the general path delivering its signals, in their order, alone, to a
    workflow started the same way on ``replay``."""
    signals = store.record(eid).snapshot["workflow"]["signals"]
    monkeypatch.setattr(quiet, "GENERAL_ONLY", True)
    try:
        start(Trio, {"key": wf}, store=replay, now=NOW, execution_id=eid)
        for s in signals:
            Trio.deliver_event(s["event"], correlation={"key": wf}, payload=applied[s["node"]]["payload"],
                               store=replay, idempotency_key=s["idempotency_key"], now=NOW)
    finally:
        monkeypatch.setattr(quiet, "GENERAL_ONLY", False)
    mine, general = _history_view(store, eid), _history_view(replay, eid)
    assert len(mine) == len(general)
    for n, (m, g) in enumerate(zip(mine, general, strict=True)):
        assert m == g, f"{eid} version {n + 1} differs from the general path at {_first_difference(m, g)}"


def _fresh_deliveries(store: Any, eid: str, wf: str, left: list[str], applied: dict[str, dict[str, Any]]) -> None:
    """After the round: a replay of what was applied is answered unchanged, another key refused, and the awaits
    left undelivered still take their events."""
    version = store.record(eid).version
    status = store.record(eid).status
    for node, task in applied.items():
        again = Trio.deliver_event(AWAITS[node], correlation={"key": wf}, payload=task["payload"], store=store,
                                   idempotency_key=task["key"], now=NOW)
        assert again.execution_id == eid and again.execution.store_version == version
        with pytest.raises(DuplicateSignalError):
            Trio.deliver_event(AWAITS[node], correlation={"key": wf}, payload={"n": 0, "by": "late"}, store=store,
                               idempotency_key=f"{wf}:{node}:late", now=NOW)
    assert store.record(eid).version == version
    if status != "waiting":
        return
    for node in left:
        if node in applied:
            continue
        payload = {"n": 7, "by": f"{wf}:{node}:fresh"}
        done = Trio.deliver_event(AWAITS[node], correlation={"key": wf}, payload=payload, store=store,
                                  idempotency_key=f"{wf}:{node}:fresh", now=NOW)
        version += 1
        assert done.execution.store_version == version
        applied = {**applied, node: {"payload": payload}}
        want = expected_states({n: t["payload"] for n, t in applied.items()})
        states = done.execution.states
        assert {n: str(states[n].status).lower().split(".")[-1] for n in want} == {n: s for n, (s, _) in want.items()}


class _Watchers:
    """The change feed (``stores/feed.watch``) following a few workflows of a round from threads of the test process,
    on a store object of their own: every version the workers saved must reach it, in order, each once."""

    def __init__(self, spec: dict[str, Any], eids: list[str]) -> None:
        self.store = open_store(spec)
        self.stop = threading.Event()
        self.seen: dict[str, list[Any]] = {eid: [] for eid in eids}
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._follow, args=(eid,), daemon=True) for eid in eids]
        for thread in self.threads:
            thread.start()

    def _follow(self, eid: str) -> None:
        try:
            for rec in watch(self.store, eid, after_version=1, stop=self.stop, poll_interval=0.05,
                             resync_interval=0.5):
                self.seen[eid].append((rec.version, rec.snapshot["workflow"]["signals"]))
        except BaseException as exc:  # (reported by check)
            self.errors.append(exc)

    def check(self, store: Any) -> None:
        time.sleep(0.6)  # (a wake-up missed by a killed writer's save: the feed's resync reads it)
        self.stop.set()
        for thread in self.threads:
            thread.join(15)
            assert not thread.is_alive()
        self.store.close()
        assert not self.errors, self.errors
        for eid, seen in self.seen.items():
            history = store.history_records(eid)
            assert seen == [(h.version, h.snapshot["workflow"]["signals"]) for h in history[1:]], eid


def _count(found: dict[str, int], key: str, n: int = 1) -> None:
    found[key] = found.get(key, 0) + n


def _covered(trial: _Trial) -> bool:
    """Whether the kills the test asserts were seen: enough SIGKILLs, enough by the test, every point reached."""
    hit = {p.split(" ")[0] for p in trial.self_kills}
    return trial.killed >= 15 and trial.external >= 4 and REQUIRED_POINTS <= hit


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "redis", "file"])
def test_workers_killed_mid_delivery_lose_nothing_and_apply_each_event_once(
        kind: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = make_spec(kind, tmp_path, request, uuid.uuid4().hex[:10])
    store = open_store(spec)
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(kill_trial.PRELOAD)  # (ignored if another test started the forkserver: slower)
    rng = random.Random(f"kill-{kind}{os.environ.get('IGNITER_NB_KILL_SEED', '')}")
    trial = _Trial(ctx, spec, tmp_path, rng)
    paths: dict[str, int] = {}
    replay = SQLStore(f"sqlite:///{tmp_path / 'replay.db'}")
    try:
        # Where a kill lands depends on timing: on a fast host an in-flight delivery may end before the test sees
        # it, or no worker armed at a point reaches it. Rounds are added (at most EXTRA_ROUNDS) until every point
        # and the test's own kills were seen; what is asserted below is unchanged.
        rounds = [*WORKFLOWS, *[WORKFLOWS[-1]] * EXTRA_ROUNDS]
        for round_, workflows in enumerate(rounds):
            if round_ >= len(WORKFLOWS) and _covered(trial):
                break
            tasks, left = _tasks(rng, f"r{round_}", workflows)
            ids = {}
            for wf in sorted({t["wf"] for t in tasks} | set(left)):
                ids[wf] = start(Trio, {"key": wf}, store=store, now=NOW, execution_id=f"{kind}-{wf}").execution_id
            watchers = _Watchers(spec, sorted(ids.values())[:2])
            trial.run(tasks)
            watchers.check(store)
            assert {t["id"] for t in tasks} <= trial.answers.keys()
            for answer in (trial.answers[t["id"]] for t in tasks):
                _count(paths, answer["path"])
                _count(paths, "lost races", answer["lost_races"])
            for wf, eid in ids.items():
                applied = _check_workflow(store, eid, [t for t in tasks if t["wf"] == wf], trial.answers)
                _general_replay(replay, eid, wf, store, applied, monkeypatch)
                _fresh_deliveries(store, eid, wf, left.get(wf, []), applied)
    finally:
        store.close()
        replay.close()
    points = {p: trial.self_kills.count(p) for p in sorted(set(trial.self_kills))}
    print(f"\n{kind}: {trial.workers} workers, {trial.killed} SIGKILLed ({trial.external} by the test, "
          f"{len(trial.self_kills)} by themselves: {points}); answers by path {paths}")
    assert trial.killed >= 15 and trial.external >= 4
    hit = {p.split(" ")[0] for p in trial.self_kills}
    assert REQUIRED_POINTS <= hit
    assert paths.get("quiet", 0) and paths.get("completing", 0)  # (the fast paths did deliver under the kills)
