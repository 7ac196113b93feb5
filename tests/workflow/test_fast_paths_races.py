"""What the SIGKILL trial (``test_fast_paths_kill.py``) does not cover: the database dropping the delivering
connection mid-delivery, and operator actions racing the fast paths (``quiet.py``, ``completing.py``,
``applied_save.py``, ``runtime/first_touch.py``), on real stores.

Dropped connections. PostgreSQL: the delivering session is ended with ``pg_terminate_backend`` from another
connection — before the save statement is sent, while it waits for a row lock another session holds, after it
committed while it waits to report the commit (a synchronous standby that never answers: the commit is local, the
answer never comes), and after the save, idle in the pool, before the next delivery. Redis: the delivering client
is ended with ``CLIENT KILL`` before its save script is sent, while its script is held by ``CLIENT PAUSE WRITE``,
and after the save. Each time the caller gets a ``StoreError`` or a contract holding its signal; a retry with the
same idempotency key ends with the event applied once; the next delivery in the same process works.

Races. ``cancel``, ``expire_due`` and ``migrate`` run on a thread of their own while quiet and completing
deliveries go to the same workflows; then every workflow's history is checked: nothing saved after a
cancellation or a time-out, versions 1..n each restoring, every delivery answered as what was saved, and the same
history as the general path alone (``quiet.GENERAL_ONLY``) running the saved operations in their saved order.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from igniter_nb.errors import StoreError
from igniter_nb.workflow import quiet
from igniter_nb.workflow.engine import start
from tests.stores.store_factory import make_spec, open_store
from tests.workflow._fast_paths import NOW, counting_completing, counting_quiet
from tests.workflow.kill_trial import AWAITS, Trio, expected_states

pytestmark = pytest.mark.services


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


# ---------------------------------------------------------------------------- PostgreSQL: pg_terminate_backend
class _Backends:
    """Ends the PostgreSQL session the store's hot path is using, from connections of its own, at one armed point
    of the next save: ``before`` (the save statement not sent), ``lock`` (sent, waiting for a row lock another
    session holds), ``commit`` (committed, waiting to report it: a synchronous standby that never answers),
    ``idle`` (after the save returned, the connection back in the pool)."""

    def __init__(self, store: Any, url: str) -> None:
        import psycopg
        import sqlalchemy

        self.store = store
        self.conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        self.admin = psycopg.connect(self.conninfo, autocommit=True)
        self.locker = psycopg.connect(self.conninfo)
        self.point: str | None = None
        self.fired: list[str] = []
        self.conn: Any = None
        self.thread: threading.Thread | None = None
        self.errors: list[BaseException] = []
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

    def joined(self) -> None:
        if self.thread is not None:
            self.thread.join(20)
            assert not self.thread.is_alive()
            self.thread = None
        assert not self.errors, self.errors

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


# ended before or during the save: an error, nothing written; while it reports its commit: an error, written (the
# retry is answered as a replay); after it, idle in the pool: the delivery answered, the next one on a new connection
PG_EXPECTED = {"before": ("store error", False), "lock": ("store error", False), "commit": ("store error", True),
               "idle": ("returned", True)}


@pytest.mark.parametrize("general", [False, True], ids=["fast", "general"])
@pytest.mark.parametrize("point", sorted(PG_EXPECTED))
def test_postgres_session_ended_mid_delivery(point: str, general: bool, tmp_path: Path,
                                             request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = make_spec("postgres", tmp_path, request, uuid.uuid4().hex[:10])
    store = open_store(spec)
    backends = _Backends(store, spec["url"])
    monkeypatch.setattr(quiet, "GENERAL_ONLY", general)
    quietly, completing = counting_quiet(monkeypatch), counting_completing(monkeypatch)
    outcomes: list[tuple[str, bool]] = []
    try:
        if point == "commit":
            backends.standby_waits(True)
        for order in (("a", "b", "c"), ("c", "a", "b")):  # quiet, completing, completing the other two
            wf = f"pg-{point}-{order[0]}"
            eid = start(Trio, {"key": wf}, store=store, now=NOW).execution_id
            for node in order:

                def arm() -> None:
                    backends.point = point

                outcomes.append(_drop_and_retry(store, eid, wf, node, arm))
                backends.joined()
            _applied_once(store, eid, wf, list(order))
    finally:
        if point == "commit":
            backends.standby_waits(False)
        backends.close()
        store.close()
    assert backends.fired == [point] * 6
    assert set(outcomes) == {PG_EXPECTED[point]}
    if not general:
        assert quietly[0] and completing["applied"]


# ---------------------------------------------------------------------------- Redis: CLIENT KILL
class _Clients:
    """Ends the Redis connections of the store's client (named ``name``) with ``CLIENT KILL`` from a client of its
    own, at one armed point of the next save: ``before`` (the save script not sent), ``paused`` (sent, held by
    ``CLIENT PAUSE WRITE``: never run on that connection), ``idle`` (after the save returned)."""

    def __init__(self, store: Any, url: str, name: str) -> None:
        import redis

        self.admin = redis.Redis.from_url(url)
        self.name = name
        self.point: str | None = None
        self.fired: list[str] = []
        self.thread: threading.Thread | None = None
        self.errors: list[BaseException] = []
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

    def joined(self) -> None:
        if self.thread is not None:
            self.thread.join(20)
            assert not self.thread.is_alive()
            self.thread = None
        assert not self.errors, self.errors

    def close(self) -> None:
        self.admin.execute_command("CLIENT", "UNPAUSE")
        self.admin.close()


# before the save and after it the lost connection is found before the next command is sent: redis-py connects
# again and the command runs; a script sent and held when its connection is killed never runs: a StoreError naming
# the server, nothing written, and the retry applies it
REDIS_EXPECTED = {"before": ("returned", True), "paused": ("store error", False), "idle": ("returned", True)}


@pytest.mark.parametrize("general", [False, True], ids=["fast", "general"])
@pytest.mark.parametrize("point", sorted(REDIS_EXPECTED))
def test_redis_client_killed_mid_delivery(point: str, general: bool, request: pytest.FixtureRequest,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from igniter_nb.stores import RedisStore

    url = request.getfixturevalue("redis_url")
    name = f"deliverer{uuid.uuid4().hex[:8]}"
    store = RedisStore(f"{url}?client_name={name}", namespace=f"t{uuid.uuid4().hex[:10]}")
    clients = _Clients(store, url, name)
    monkeypatch.setattr(quiet, "GENERAL_ONLY", general)
    quietly, completing = counting_quiet(monkeypatch), counting_completing(monkeypatch)
    outcomes: list[tuple[str, bool]] = []
    try:
        for order in (("a", "b", "c"), ("c", "a", "b")):
            wf = f"redis-{point}-{order[0]}"
            eid = start(Trio, {"key": wf}, store=store, now=NOW).execution_id
            for node in order:

                def arm() -> None:
                    clients.point = point

                outcomes.append(_drop_and_retry(store, eid, wf, node, arm))
                clients.joined()
            _applied_once(store, eid, wf, list(order))
    finally:
        clients.close()
        store.close()
    assert clients.fired == [point] * 6
    assert set(outcomes) == {REDIS_EXPECTED[point]}
    if not general:
        assert quietly[0] and completing["applied"]
