"""What the race of tests/workflow/test_fast_paths_races.py runs: two deploys of a workflow whose awaits time out,
the deliveries of a round (``_race_tasks``, ``_deliverer``), the operator's ``cancel``, ``expire_due`` and
``migrate`` meanwhile (``_controller``), and the checks after it: each workflow's history (``_check_raced``) and the
general path alone running the operations it saved, in their order (``_saved_operations``, ``_replayed``)."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from typing import Any

import pytest

from igniter_nb.errors import ConcurrencyError, WorkflowNotFoundError
from igniter_nb.workflow import quiet
from igniter_nb.workflow.engine import start
from tests.stores.store_factory import open_store
from tests.workflow._fast_paths import NOW
from tests.workflow.kill_trial import AWAITS

TIMEOUT = 60  # seconds: workflow i starts at NOW + i s, so expire_due(now=NOW + TIMEOUT + k) times out i <= k
RACE_WORKFLOWS = 12


def _timed(version: str) -> Any:
    """``Timed`` as each deploy has it: Trio's awaits and joins, each await timing out after ``TIMEOUT``; ``v2``
    adds an await ``d`` that nothing reads (stored workflows move onto it with ``migrate``)."""
    import igniter_nb as ig
    from tests.workflow.kill_trial import COMPUTES

    class Timed(ig.Contract):
        @staticmethod
        def define(c: ig.ContractBuilder) -> None:
            c.correlate_by("key")
            c.input("key", type=str)
            for name, event in AWAITS.items():
                c.await_event(name, event=event, timeout=TIMEOUT)
            if version == "v2":
                c.await_event("d", event="d_arrived")
                c.output("d")
            for name, (call, deps) in COMPUTES.items():
                c.compute(name, depends_on=list(deps), call=call)
                c.output(name)

    return Timed


DEPLOYS = {"v1": _timed("v1"), "v2": _timed("v2")}


def _started_at(i: int) -> Any:
    return NOW + dt.timedelta(seconds=i)


def _race_tasks(rng: Any, prefix: str) -> list[dict[str, Any]]:
    """Every workflow's three deliveries, each by the old or the new deploy's class, some sent twice; shuffled
    with each workflow's deliveries near each other."""
    groups = []
    for i in range(RACE_WORKFLOWS):
        wf = f"{prefix}-w{i:02d}"
        group = []
        nodes = list(AWAITS)[: 2 if i % 3 == 0 else 3]  # (a third keep waiting: for the time-outs and cancels)
        for node in nodes:
            task = {"wf": wf, "node": node, "key": f"{wf}:{node}", "payload": {"n": rng.randrange(1, 50), "by": wf},
                    "deploy": rng.choice(["v1", "v2"])}
            group.append(task)
            if rng.random() < 0.2:
                group.append(dict(task))  # sent again (a sender's retry: the same deploy)
        rng.shuffle(group)
        groups.append(group)
    rng.shuffle(groups)
    tasks = [t for g in groups for t in g]
    for n, task in enumerate(tasks):
        task["id"] = n
    return tasks


def _deliverer(spec: dict[str, Any], tasks: list[dict[str, Any]], answers: dict[Any, Any],
               errors: list[BaseException], rng: Any) -> None:
    store = open_store(spec)
    save = store.save

    def counted(*args: Any, **kwargs: Any) -> Any:
        try:
            return save(*args, **kwargs)
        except ConcurrencyError:
            answers["lost races"] = answers.get("lost races", 0) + 1
            raise

    store.save = counted
    try:
        for task in tasks:
            time.sleep(rng.uniform(0, 0.003))  # (so the operator's actions fall between deliveries)
            cls = DEPLOYS[task["deploy"]]
            try:
                contract = cls.deliver_event(AWAITS[task["node"]], correlation={"key": task["wf"]},
                                             payload=task["payload"], store=store, idempotency_key=task["key"],
                                             now=NOW)
                state = contract.execution.states[task["node"]]
                answers[task["id"]] = ("returned", task["key"] in [s["idempotency_key"] for s in contract.signals]
                                       and state.value == task["payload"])
            except WorkflowNotFoundError:
                answers[task["id"]] = ("not_found",)
            except Exception as exc:
                answers[task["id"]] = ("error", f"{type(exc).__name__}: {exc}")
    except BaseException as exc:
        errors.append(exc)
    finally:
        store.close()


def _controller(spec: dict[str, Any], rng: Any, prefix: str, done: dict[str, Any], errors: list[BaseException],
                stop: threading.Event) -> None:
    """Cancels, times out and migrates while the deliveries run, noting what each answered."""
    store = open_store(spec)
    new = DEPLOYS["v2"]
    actions: list[tuple[Any, ...]] = [("migrate",), ("migrate",)]
    # two of the workflows left waiting that only the last expire_due reaches (so their cancel is saved), two others
    cancels = [6, 9, *rng.sample([i for i in range(RACE_WORKFLOWS) if i not in (6, 9)], 2)]
    actions += [("cancel", f"{prefix}-w{i:02d}") for i in cancels]
    actions += [("expire", 2), ("expire", 5)]
    rng.shuffle(actions)
    actions.append(("expire", RACE_WORKFLOWS))  # (every workflow still waiting then times out)
    try:
        for action in actions:
            time.sleep(rng.uniform(0.0, 0.03))
            if action[0] == "migrate":
                report = new.migrate(store, now=NOW)
                done["migrated"] += [e.execution_id for e in report.migrated]
                assert not report.failed, report
            elif action[0] == "cancel":
                try:
                    contract = new.cancel(correlation={"key": action[1]}, store=store, reason="ops", now=NOW)
                    done["cancelled"].append(contract.execution_id)
                except WorkflowNotFoundError:
                    pass  # (it finished first)
            else:
                moment = _started_at(TIMEOUT + action[1])
                done["expired"] += [c.execution_id for c in new.expire_due(store, now=moment)]
            if stop.is_set():
                break
    except BaseException as exc:
        errors.append(exc)
    finally:
        store.close()


def _deploy_of(snapshot: dict[str, Any]) -> Any:
    return DEPLOYS["v2" if "d" in snapshot["workflow"]["awaits"] else "v1"]


def _migrations(snapshot: dict[str, Any]) -> int:
    return sum(e["type"] == "workflow_migrated" for e in snapshot["events"])


def _saved_operations(history: list[Any]) -> list[tuple[Any, ...]]:
    """What made each version after the first: ``("deliver", signal)``, ``("cancel",)``, ``("expire", moment)`` or
    ``("migrate",)`` — each version exactly one of them."""
    ops: list[tuple[Any, ...]] = []
    for before, after in itertools.pairwise(history):
        old, new = before.snapshot["workflow"], after.snapshot["workflow"]
        signals = new["signals"]
        if len(signals) == len(old["signals"]) + 1 and signals[:-1] == old["signals"]:
            assert new["status"] == after.status, after.version
            ops.append(("deliver", signals[-1]))
            continue
        assert signals == old["signals"], f"version {after.version}: signals changed without a delivery"
        if new["status"] == "cancelled":
            ops.append(("cancel",))
        elif new["status"] == "timed_out":
            ops.append(("expire", new["updated_at"]))
        elif _migrations(after.snapshot) == _migrations(before.snapshot) + 1:
            ops.append(("migrate",))
        else:
            pytest.fail(f"version {after.version}: neither a delivery, a cancellation, a time-out nor a migration")
    return ops


def _check_raced(store: Any, eid: str, i: int, tasks: list[dict[str, Any]], answers: dict[int, Any],
                 done: dict[str, Any]) -> list[tuple[Any, ...]]:
    """One workflow after a round (the module's docstring); its saved operations."""
    import igniter_nb as ig

    history = store.history_records(eid)
    rec = store.record(eid)
    assert [h.version for h in history] == list(range(1, rec.version + 1)), eid
    for h in history:  # every version restores, into the deploy whose graph it was saved under
        assert _deploy_of(h.snapshot).restore(h.snapshot).execution_id == eid
    statuses = [h.snapshot["workflow"]["status"] for h in history]
    for n, status in enumerate(statuses):
        if status in ("cancelled", "timed_out", "succeeded", "failed"):
            assert n == len(statuses) - 1, f"{eid}: version {n + 2} saved after it was {status}: {statuses}"
    signals = rec.snapshot["workflow"]["signals"]
    assert len({s["node"] for s in signals}) == len(signals), f"{eid}: an await bound twice"
    applied = {s["idempotency_key"] for s in signals}
    for task in tasks:
        answer = answers[task["id"]]
        if answer[0] == "returned":
            assert task["key"] in applied and answer[1], f"{eid}: {task} answered {answer}, applied {applied}"
        elif answer[0] == "not_found":
            assert task["key"] not in applied and rec.status in ("cancelled", "timed_out"), (eid, task, rec.status)
        else:
            pytest.fail(f"{eid}: {task} raised {answer}")
    assert (eid in done["cancelled"]) == (rec.status == "cancelled"), eid
    assert (eid in done["expired"]) == (rec.status == "timed_out"), eid
    assert done["migrated"].count(eid) == _migrations(rec.snapshot) <= 1, eid
    if rec.status == "timed_out":
        assert any(isinstance(e, ig.errors.AwaitTimeoutError) for e in
                   [s.error for s in _deploy_of(rec.snapshot).restore(rec.snapshot).execution.states.values()])
    return _saved_operations(history)


def _replayed(replay: Any, eid: str, i: int, wf: str, ops: list[tuple[Any, ...]], tasks: list[dict[str, Any]],
              monkeypatch: pytest.MonkeyPatch) -> None:
    """The general path alone running ``ops`` in their saved order on a workflow started the same way."""
    by_key = {t["key"]: t for t in tasks}
    new = DEPLOYS["v2"]
    monkeypatch.setattr(quiet, "GENERAL_ONLY", True)
    try:
        start(DEPLOYS["v1"], {"key": wf}, store=replay, now=_started_at(i), execution_id=eid)
        for op in ops:
            if op[0] == "deliver":
                task = by_key[op[1]["idempotency_key"]]
                DEPLOYS[task["deploy"]].deliver_event(op[1]["event"], correlation={"key": wf}, payload=task["payload"],
                                                      store=replay, idempotency_key=task["key"], now=NOW)
            elif op[0] == "cancel":
                new.cancel(correlation={"key": wf}, store=replay, reason="ops", now=NOW)
            elif op[0] == "expire":
                moment = dt.datetime.fromisoformat(op[1].replace("Z", "+00:00"))
                assert [c.execution_id for c in new.expire_due(replay, now=moment)] == [eid]
            else:
                assert [e.execution_id for e in new.migrate(replay, now=NOW).migrated] == [eid]
    finally:
        monkeypatch.setattr(quiet, "GENERAL_ONLY", False)
