"""The worker of tests/workflow/test_fast_paths_kill.py: a process that delivers events to ``Trio`` workflows on a
shared store and is SIGKILLed mid-delivery — by the test, at random moments, or by itself at chosen points (inside a
join's compute, before the save, inside the store's save between the row and its history, after the save before
the caller hears of it, or a few milliseconds into a delivery). Spawned processes import it by name.

Each worker appends one JSON line per step to its own log with a single ``os.write`` (a SIGKILL cannot cut it):
``{"s": task}`` as a delivery starts, ``{"k": point, "task": task}`` just before it kills itself, ``{"a": task, ...}``
once the delivery returned or raised — what the caller was told, and which path applied it."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any

import igniter_nb as ig
from igniter_nb.errors import ConcurrencyError, DuplicateSignalError, IdempotencyConflictError, WorkflowNotFoundError

NOW_ISO = "2030-01-01T12:00:00+00:00"
# where a worker may kill itself; "in_save": inside the save, after the row's update and before its history row
# (SQL, in one transaction; PostgreSQL's one-statement save: a few ms into it), between the version file and
# current.json (file store), a few ms into the save script (Redis); "restore": inside the restore of a contract
# built on first touch; "timer": a few ms into the delivery, wherever that is
POINTS = ("compute", "before_save", "in_save", "after_save", "restore", "timer")
TIMER_SHARE = 0.4  # the share of first attempts a "timer" worker arms its timer on

_ARMED: dict[str, Any] = {"point": None, "task": None, "fd": None, "path": None, "conflicts": 0}


def _die(point: str) -> None:
    _log({"k": point, "task": _ARMED["task"], "path": _ARMED["path"]})
    os.kill(os.getpid(), signal.SIGKILL)


def _log(entry: dict[str, Any]) -> None:
    fd = _ARMED["fd"]
    if fd is not None:
        os.write(fd, (json.dumps(entry) + "\n").encode())


def _compute_hook() -> None:
    if _ARMED["point"] == "compute":
        _die("compute")


def _ab(a: Any, b: Any) -> Any:
    _compute_hook()
    return (a["n"], b["n"], a["by"], b["by"])  # (a tuple: stored tagged, so the proof that a record restores decodes)


def _bc(b: Any, c: Any) -> Any:
    _compute_hook()
    return {"sum": b["n"] + c["n"], "by": [b["by"], c["by"]]}


def _ca(c: Any, a: Any) -> Any:
    _compute_hook()
    if c.get("explode"):
        raise ValueError(f"c exploded for {a['by']}")
    return [c["n"] * a["n"]]


COMPUTES = {"ab": (_ab, ("a", "b")), "bc": (_bc, ("b", "c")), "ca": (_ca, ("c", "a"))}
AWAITS = {"a": "a_arrived", "b": "b_arrived", "c": "c_arrived"}


class Trio(ig.Contract):
    """Three awaits, each read by two of three joins (all outputs): the first delivery is quiet, the second
    completes one join (the completing path) and the third the other two; ``ca`` raises for a payload asking it to
    (its outcome handed over to the general path)."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        c.correlate_by("key")
        c.input("key", type=str)
        for name, event in AWAITS.items():
            c.await_event(name, event=event)
        for name, (call, deps) in COMPUTES.items():
            c.compute(name, depends_on=list(deps), call=call)
            c.output(name)


# What the forkserver imports before it forks a worker (with this module): a worker then starts in milliseconds,
# not in the half second its imports took on this loaded host.
PRELOAD = ["tests.workflow.kill_trial", "tests.stores.store_factory", "igniter_nb.workflow.engine",
           "igniter_nb.stores.sql", "igniter_nb.stores.redis", "igniter_nb.stores.file", "sqlalchemy.dialects.sqlite",
           "sqlalchemy.dialects.postgresql", "psycopg", "redis"]


def expected_states(payloads: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """``{node: (status, value)}`` of a Trio workflow whose awaits got ``payloads`` (the others wait)."""
    found: dict[str, tuple[str, Any]] = {}
    for name in AWAITS:
        found[name] = ("succeeded", payloads[name]) if name in payloads else ("waiting", None)
    for name, (call, deps) in COMPUTES.items():
        if not all(d in payloads for d in deps):
            found[name] = ("waiting", None)
            continue
        try:
            found[name] = ("succeeded", call(*(payloads[d] for d in deps)))
        except ValueError:
            found[name] = ("failed", None)
    return found


def _install(store: Any, kind: str, slow: bool) -> None:
    """The kill points on this process's store (instance attributes and listeners: the classes are untouched);
    ``slow``: each save waits up to 3 ms first (a slow writer: more deliveries lose the compare-and-set race)."""
    original = store.save

    def save(*args: Any, **kwargs: Any) -> Any:
        point = _ARMED["point"]
        if point == "before_save":
            _die("before_save")
        if slow:
            time.sleep(random.uniform(0, 0.003))
        if point == "in_save" and kind in ("postgres", "redis"):  # one statement / one script: a kill during it
            threading.Timer(random.uniform(0, 0.002), _die, args=("in_save",)).start()
        try:
            version = original(*args, **kwargs)
        except ConcurrencyError:
            _ARMED["conflicts"] += 1
            raise
        if point == "after_save":
            _die("after_save")
        return version

    store.save = save
    if kind in ("sqlite", "postgres"):
        import sqlalchemy

        hot = store._hot
        history = getattr(hot, "history", None)  # (SQLite: its own statement; PostgreSQL: inside the update's)
        history_sql = history.sql if history is not None else None

        def listener(sql: str) -> None:  # (the hot path's: called before each statement is sent)
            if sql == history_sql and _ARMED["point"] == "in_save":
                _die("in_save")  # the row's update sent, inside BEGIN IMMEDIATE; its history row not

        def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:  # (the long way's statements)
            if (_ARMED["point"] == "in_save" and statement.lstrip().upper().startswith("INSERT INTO")
                    and "history" in statement.split("(")[0].lower()):
                _die("in_save")

        if hot is not None:
            hot.listeners.append(listener)
        sqlalchemy.event.listen(store.engine, "before_cursor_execute", before)
    elif kind == "file":
        write = store._write

        def written(path: Path, data: bytes) -> None:
            if path.name == "current.json" and _ARMED["point"] == "in_save":
                _die("in_save")  # the version file written, current.json not
            write(path, data)

        store._write = written


def _count_paths() -> dict[str, str]:
    """Which path applied the last delivery: ``quiet``, ``completing``, ``handover`` (the completing path called
    the dependents, the general path recorded their outcome) or ``general``; and, for a kill, which path it was in."""
    from igniter_nb.runtime import first_touch
    from igniter_nb.workflow import engine

    last = {"path": "general"}
    quietly, completing = engine.deliver_quietly, engine.deliver_completing
    restore = first_touch.restore_attributes

    def quiet_counted(*args: Any, **kwargs: Any) -> Any:
        _ARMED["path"] = "quiet"
        found = quietly(*args, **kwargs)
        _ARMED["path"] = "general"
        last["path"] = "quiet" if found is not None else "general"
        return found

    def completing_counted(*args: Any, **kwargs: Any) -> Any:
        _ARMED["path"] = "completing"
        done, handover = completing(*args, **kwargs)
        _ARMED["path"] = "general"
        if done is not None:
            last["path"] = "completing"
        elif handover is not None:
            last["path"] = "handover"
        return done, handover

    def restored(*args: Any, **kwargs: Any) -> Any:
        if _ARMED["point"] == "restore":
            _ARMED["path"] = "first touch"
            _die("restore")
        return restore(*args, **kwargs)

    engine.deliver_quietly = quiet_counted  # type: ignore[assignment]
    engine.deliver_completing = completing_counted  # type: ignore[assignment]
    first_touch.restore_attributes = restored  # type: ignore[assignment]
    return last


def work(spec: dict[str, Any], tasks: list[dict[str, Any]], log_path: str, seed: int, general: bool, slow: bool,
         point: str | None, not_before: float, deadline: float) -> None:
    """Deliver ``tasks`` in order (the general path only when ``general``), logging each step; the worker kills
    itself at ``point`` the first time a delivery reaches it — after its first few deliveries, and only on a task's
    first attempt (so a retry gets through); ``slow``: its saves wait a little first. Starts delivering at
    ``not_before`` (connected by then: the first workers of a round start together); gives up at ``deadline``
    (``time.time()``), and SIGALRM ends it soon after."""
    signal.alarm(max(1, int(deadline - time.time()) + 5))  # (a worker that hangs dies on its own)
    from datetime import datetime

    from igniter_nb.workflow import quiet
    from tests.stores.store_factory import open_store

    quiet.GENERAL_ONLY = general
    now = datetime.fromisoformat(NOW_ISO)
    store = open_store(spec)
    _install(store, spec["kind"], slow)
    last = _count_paths()
    store.find_by_correlation(Trio.compiled_graph().name, {"key": "nobody"})  # (connected before the start)
    time.sleep(max(0.0, not_before - time.time()))
    _ARMED["fd"] = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    rng = random.Random(seed)
    calm = rng.randrange(4)  # the deliveries it makes before its point is armed (so workers overlap)
    for n, task in enumerate(tasks):
        if time.time() > deadline:
            break
        _log({"s": task["id"]})
        armed = point if task["first"] and n >= calm else None
        if armed == "timer":
            armed = None
            if rng.random() < TIMER_SHARE:
                threading.Timer(rng.uniform(0, 0.006), _die, args=("timer",)).start()
        _ARMED["task"], _ARMED["point"] = task["id"], armed
        last["path"] = _ARMED["path"] = "general"
        _ARMED["conflicts"] = 0
        try:
            contract = Trio.deliver_event(AWAITS[task["node"]], correlation={"key": task["wf"]},
                                          payload=task["payload"], store=store, idempotency_key=task["key"], now=now)
            keys = [s["idempotency_key"] for s in contract.signals]  # (a contract built on first touch: restored here)
            mine = contract.execution.states[task["node"]]
            entry = {"outcome": "returned", "has": task["key"] in keys and mine.value == task["payload"]
                     and str(mine.status) == str(type(mine.status).SUCCEEDED), "status": contract.workflow_status}
        except IdempotencyConflictError:
            entry = {"outcome": "conflict"}
        except DuplicateSignalError:
            entry = {"outcome": "duplicate"}
        except WorkflowNotFoundError:
            entry = {"outcome": "not_found"}
        except Exception as exc:  # reported: the test fails on it
            entry = {"outcome": "error", "error": f"{type(exc).__name__}: {exc}"[:500]}
        _ARMED["point"] = None
        _log({"a": task["id"], "path": last["path"], "general": general, "lost_races": _ARMED["conflicts"], **entry})
    _ARMED["point"] = None
    store.close()


def read_log(path: Path) -> list[dict[str, Any]]:
    """The complete lines of a worker's log."""
    if not path.exists():
        return []
    lines = path.read_bytes().split(b"\n")
    return [json.loads(line) for line in lines[:-1] if line]
