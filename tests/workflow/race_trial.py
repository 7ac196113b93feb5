"""What tests/workflow/test_fast_paths_races.py runs: the delivery helpers and checks of its dropped-connection
tests (``_Backends`` ends a PostgreSQL session, ``_Clients`` a Redis client, at an armed point of the next save),
and the deploys, workers and checks of its race of ``cancel``, ``expire_due`` and ``migrate`` with the fast
paths."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
import uuid
from typing import Any

import pytest

from igniter_nb.errors import ConcurrencyError, StoreError, WorkflowNotFoundError
from igniter_nb.workflow import quiet
from igniter_nb.workflow.engine import start
from tests.stores.store_factory import open_store
from tests.workflow._fast_paths import NOW
from tests.workflow.kill_trial import AWAITS, Trio, expected_states


def _payload(wf: str, node: str) -> dict[str, Any]:
    return {"n": len(wf) + len(node), "by": f"{wf}:{node}"}


def _deliver(store: Any, wf: str, node: str) -> Any:
    return Trio.deliver_event(AWAITS[node], correlation={"key": wf}, payload=_payload(wf, node), store=store,
                              idempotency_key=f"{wf}:{node}", now=NOW)


def _holds(contract: Any, wf: str, node: str) -> bool:
    state = contract.execution.states[node]
    return (f"{wf}:{node}" in [s["idempotency_key"] for s in contract.signals]
            and state.value == _payload(wf, node) and str(state.status).lower().endswith("succeeded"))


def _applied_once(store: Any, eid: str, wf: str, nodes: list[str]) -> None:
    """The stored history of ``eid``: one version per signal, the signals of ``nodes`` in that order, each once,
    every version restoring, the states what the payloads give."""
    history = store.history_records(eid)
    signals = history[-1].snapshot["workflow"]["signals"]
    assert [s["idempotency_key"] for s in signals] == [f"{wf}:{n}" for n in nodes]
    assert [h.version for h in history] == list(range(1, len(nodes) + 2))
    for n, h in enumerate(history):
        assert h.snapshot["workflow"]["signals"] == signals[:n]
        assert len(Trio.restore(h.snapshot).signals) == n
    restored = Trio.restore_from_store(eid, store=store)
    want = expected_states({n: _payload(wf, n) for n in nodes})
    got = {n: (str(s.status).lower().split(".")[-1], s.value if s.value is not None else None)
           for n, s in restored.execution.states.items() if n in want}
    assert {n: s for n, (s, _) in got.items()} == {n: s for n, (s, _) in want.items()}


def _count_paths(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """The deliveries each fast path applied (``quiet``, ``completing``) or raised from (``quiet raised``,
    ``completing raised``: its save met the drop)."""
    from igniter_nb.workflow import engine

    found = {"quiet": 0, "completing": 0, "quiet raised": 0, "completing raised": 0}
    quietly, completing = engine.deliver_quietly, engine.deliver_completing

    def quiet_counted(*args: Any) -> Any:
        try:
            done = quietly(*args)
        except StoreError:
            found["quiet raised"] += 1
            raise
        found["quiet"] += done is not None
        return done

    def completing_counted(*args: Any) -> Any:
        try:
            done, handover = completing(*args)
        except StoreError:
            found["completing raised"] += 1
            raise
        found["completing"] += done is not None
        return done, handover

    monkeypatch.setattr(engine, "deliver_quietly", quiet_counted)
    monkeypatch.setattr(engine, "deliver_completing", completing_counted)
    return found


def _drop_and_retry(store: Any, eid: str, wf: str, node: str, arm: Any) -> tuple[str, bool]:
    """Deliver ``node`` with the drop ``arm``ed (it fires once), then retry with the same key. Answers what the
    first attempt got — ``returned`` or ``store error`` — and whether its signal was stored before the retry. An
    error never says nothing was written when it was."""
    arm()
    try:
        first = _deliver(store, wf, node)
    except StoreError as exc:
        outcome, said = "store error", str(exc)
    else:
        outcome, said = "returned", ""
        assert _holds(first, wf, node)
    stored = f"{wf}:{node}" in [s["idempotency_key"] for s in store.record(eid).snapshot["workflow"]["signals"]]
    if stored:
        assert "nothing of this save was written" not in said, said
    again = _deliver(store, wf, node)  # a sender's retry, same key and payload
    assert _holds(again, wf, node)
    return outcome, stored


class _Dropper:
    """Ends a store's connection at the point armed for the next save (``point``, fired once: ``fired``), maybe
    from a thread of its own (``thread``, its errors in ``errors``)."""

    def __init__(self) -> None:
        self.point: str | None = None
        self.fired: list[str] = []
        self.thread: threading.Thread | None = None
        self.errors: list[BaseException] = []

    def joined(self) -> None:
        if self.thread is not None:
            self.thread.join(20)
            assert not self.thread.is_alive()
            self.thread = None
        assert not self.errors, self.errors


def drops_at(store: Any, dropper: _Dropper, point: str) -> list[tuple[str, bool]]:
    """Two workflows' deliveries — a quiet one then two completing ones, then one completing and two that complete
    the rest — each with the connection ended at ``point`` and retried (``_drop_and_retry``); their outcomes."""
    outcomes = []
    for order in (("a", "b", "c"), ("c", "a", "b")):
        wf = f"{point}-{order[0]}-{uuid.uuid4().hex[:6]}"
        eid = start(Trio, {"key": wf}, store=store, now=NOW).execution_id
        for node in order:

            def arm() -> None:
                dropper.point = point

            outcomes.append(_drop_and_retry(store, eid, wf, node, arm))
            dropper.joined()
        _applied_once(store, eid, wf, list(order))
    return outcomes


# ---------------------------------------------------------------------------- PostgreSQL: pg_terminate_backend
class _Backends(_Dropper):
    """Ends the PostgreSQL session the store's hot path is using, from connections of its own, at one armed point
    of the next save: ``before`` (the save statement not sent), ``lock`` (sent, waiting for a row lock another
    session holds), ``commit`` (committed, waiting to report it: a synchronous standby that never answers),
    ``idle`` (after the save returned, the connection back in the pool)."""

    def __init__(self, store: Any, url: str) -> None:
        import psycopg
        import sqlalchemy

        self.store = store
        self.conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        super().__init__()
        self.admin = psycopg.connect(self.conninfo, autocommit=True)
        self.locker = psycopg.connect(self.conninfo)
        self.conn: Any = None
        sqlalchemy.event.listen(store.engine, "checkout", self._checkout)
        hot = store._hot
        assert hot is not None and hot.postgres
        self.cas_sql = hot.cas.sql
        hot.listeners.append(self._before_statement)
        original = store.save

        def save(*args: Any, **kwargs: Any) -> Any:
            version = original(*args, **kwargs)
            if self.point == "idle":
                self._fire(self._end, self.pid)
            return version

        store.save = save

    @property
    def pid(self) -> int:
        return int(self.conn.info.backend_pid)

    def _checkout(self, dbapi_conn: Any, *_: Any) -> None:
        self.conn = getattr(dbapi_conn, "driver_connection", dbapi_conn)

    def _fire(self, action: Any, *args: Any) -> None:
        self.fired.append(str(self.point))
        self.point = None
        action(*args)

    def _end(self, pid: int) -> None:
        assert self.admin.execute("SELECT pg_terminate_backend(%s, 10000)", [pid]).fetchone() == (True,)

    def _waiting(self, pid: int, kind: str) -> None:
        """End ``pid`` once it waits on ``kind`` (``Lock``, ``IPC``: a wait for a standby)."""
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                row = self.admin.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                                         [pid]).fetchone()
                if row is not None and row[0] == kind:
                    break
                time.sleep(0.005)
            else:
                raise AssertionError(f"backend {pid} never waited on {kind}")
            self._end(pid)
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            self.locker.rollback()

    def _before_statement(self, sql: str) -> None:
        if sql != self.cas_sql or self.point not in ("before", "lock", "commit"):
            return
        pid = self.pid
        if self.point == "before":
            self._fire(self._end, pid)
        elif self.point == "lock":
            table = f"{self.store.table_prefix}executions"
            self.locker.execute(f"SELECT 1 FROM {table} FOR UPDATE")  # (held until the thread rolls back)
            self._fire(self._start_thread, pid, "Lock")
        else:  # this session's commit waits for a standby that never answers, then is ended
            self.conn.execute("SET synchronous_commit = on")
            self._fire(self._start_thread, pid, "IPC")

    def _start_thread(self, pid: int, kind: str) -> None:
        self.thread = threading.Thread(target=self._waiting, args=(pid, kind), daemon=True)
        self.thread.start()

    def standby_waits(self, on: bool) -> None:
        """Commits wait for a synchronous standby only where a session asks (``synchronous_commit = on``): every
        other session commits locally meanwhile."""
        if on:
            self.admin.execute("ALTER SYSTEM SET synchronous_commit = 'local'")
            self.admin.execute("ALTER SYSTEM SET synchronous_standby_names = 'nobody_answers'")
        else:
            self.admin.execute("ALTER SYSTEM RESET synchronous_standby_names")
            self.admin.execute("ALTER SYSTEM RESET synchronous_commit")
        self.admin.execute("SELECT pg_reload_conf()")
        want = "nobody_answers" if on else ""
        deadline = time.monotonic() + 10
        while self.admin.execute("SHOW synchronous_standby_names").fetchone() != (want,):
            assert time.monotonic() < deadline, "the server did not reload its settings"
            time.sleep(0.01)

    def close(self) -> None:
        self.admin.close()
        self.locker.close()


# ---------------------------------------------------------------------------- Redis: CLIENT KILL
class _Clients(_Dropper):
    """Ends the Redis connections of the store's client (named ``name``) with ``CLIENT KILL`` from a client of its
    own, at one armed point of the next save: ``before`` (the save script not sent), ``paused`` (sent, held by
    ``CLIENT PAUSE WRITE``: never run on that connection), ``idle`` (after the save returned)."""

    def __init__(self, store: Any, url: str, name: str) -> None:
        import redis

        super().__init__()
        self.admin = redis.Redis.from_url(url)
        self.name = name
        script = store._save_script

        def save_script(*args: Any, **kwargs: Any) -> Any:
            point, self.point = self.point, None
            if point is not None:
                self.fired.append(point)
            if point == "before":
                self._kill()
            elif point == "paused":
                self.admin.execute_command("CLIENT", "PAUSE", "20000", "WRITE")
                self.thread = threading.Thread(target=self._kill_paused, daemon=True)
                self.thread.start()
            found = script(*args, **kwargs)
            if point == "idle":
                self._kill()
            return found

        store._save_script = save_script

    def _mine(self) -> list[dict[str, Any]]:
        return [c for c in self.admin.client_list() if c.get("name") == self.name]

    def _kill(self) -> None:
        mine = self._mine()
        assert mine, "the store's client has no connection"
        for client in mine:
            self.admin.execute_command("CLIENT", "KILL", "ID", client["id"])

    def _kill_paused(self) -> None:
        try:
            deadline = time.monotonic() + 10
            while not any("b" in c["flags"] and c["cmd"] != "client|setname" for c in self._mine()):
                if time.monotonic() > deadline:
                    raise AssertionError(f"the save script was never held: {self._mine()}")
                time.sleep(0.005)
            self._kill()
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            self.admin.execute_command("CLIENT", "UNPAUSE")

    def close(self) -> None:
        self.admin.execute_command("CLIENT", "UNPAUSE")
        self.admin.close()


# ---------------------------------------------------------------------------- cancel, expire_due, migrate racing
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
