"""What the dropped-connection tests of tests/workflow/test_fast_paths_races.py run: deliveries whose connection
is ended at an armed point of their save (``_Backends`` ends a PostgreSQL session, ``_Clients`` a Redis client,
``_Relay`` drops a Redis answer on its way back), each retried with its idempotency key, and the checks of what
the store then holds; ``_count_paths`` counts the deliveries each fast path applied or raised from."""

from __future__ import annotations

import select
import socket
import threading
import time
import uuid
from typing import Any

import pytest

from igniter_nb.errors import StoreError
from igniter_nb.workflow.engine import start
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

    def quiet_counted(*args: Any, **kwargs: Any) -> Any:
        try:
            done = quietly(*args, **kwargs)
        except StoreError:
            found["quiet raised"] += 1
            raise
        found["quiet"] += done is not None
        return done

    def completing_counted(*args: Any, **kwargs: Any) -> Any:
        try:
            done, handover = completing(*args, **kwargs)
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
    if stored:  # an error for a save that was written says it may have been
        assert "nothing of this save was written" not in said, said
        assert not said or "may have been" in said, said
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
class _Relay:
    """A TCP relay to the Redis server on 127.0.0.1 ``port``, for the store's client: when ``drop_reply`` is set it
    closes the connection instead of passing the server's next reply on (the script ran; its answer is lost on the
    way back)."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = int(self.listener.getsockname()[1])
        self.drop_reply = False
        self.sockets: list[socket.socket] = []
        self.ended = 0  # links closed (either side ended, or a reply dropped): both their sockets are closed
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # (closed)
                return
            server = socket.create_connection(("127.0.0.1", self.target), timeout=10)
            self.sockets += [client, server]
            threading.Thread(target=self._relay, args=(client, server), daemon=True).start()

    def _relay(self, client: socket.socket, server: socket.socket) -> None:
        other = {client: server, server: client}
        try:
            while True:
                readable, _, _ = select.select([client, server], [], [], 30)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is server and self.drop_reply:
                        self.drop_reply = False
                        return
                    other[sock].sendall(data)
        except OSError:
            return
        finally:
            client.close()
            server.close()
            self.ended += 1

    def close(self) -> None:
        self.listener.close()
        for sock in self.sockets:
            sock.close()


class _Clients(_Dropper):
    """Ends the Redis connections of the store's client (named ``name``) with ``CLIENT KILL`` from a client of its
    own, at one armed point of the next save: ``before`` (the save script not sent), ``paused`` (sent, held by
    ``CLIENT PAUSE WRITE``: never run on that connection), ``reply`` (run, its answer dropped by ``relay``, the
    store's way to the server), ``idle`` (after the save returned)."""

    def __init__(self, store: Any, url: str, name: str, relay: _Relay) -> None:
        import redis

        super().__init__()
        self.admin = redis.Redis.from_url(url)
        self.name = name
        self.relay = relay
        script = store._save_script

        def save_script(*args: Any, **kwargs: Any) -> Any:
            point, self.point = self.point, None
            if point is not None:
                self.fired.append(point)
            if point == "before":
                ended = self.relay.ended
                killed = self._kill()
                # the relay passes the server's close on to the store's side before the script is sent (redis-py
                # finds that connection closed when it takes it, and connects again); without the wait, the script
                # could go into the relay's half of a killed link (a 3.13 CI run: its answer lost, not its sending)
                deadline = time.monotonic() + 5
                while self.relay.ended < ended + killed and time.monotonic() < deadline:
                    time.sleep(0.005)
            elif point == "paused":
                self.admin.execute_command("CLIENT", "PAUSE", "20000", "WRITE")
                self.thread = threading.Thread(target=self._kill_paused, daemon=True)
                self.thread.start()
            elif point == "reply":
                self.relay.drop_reply = True
            found = script(*args, **kwargs)
            if point == "idle":
                self._kill()
            return found

        store._save_script = save_script

    def _mine(self) -> list[dict[str, Any]]:
        return [c for c in self.admin.client_list() if c.get("name") == self.name]

    def _kill(self) -> int:
        mine = self._mine()
        assert mine, "the store's client has no connection"
        for client in mine:
            self.admin.execute_command("CLIENT", "KILL", "ID", client["id"])
        return len(mine)

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
