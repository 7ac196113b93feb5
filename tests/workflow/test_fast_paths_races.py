"""What the SIGKILL trial (``test_fast_paths_kill.py``) does not cover: the database dropping the delivering
connection mid-delivery, and operator actions racing the fast paths (``quiet.py``, ``completing.py``,
``applied_save.py``, ``runtime/first_touch.py``), on real stores.

Dropped connections. PostgreSQL: the delivering session is ended with ``pg_terminate_backend`` from another
connection — before the save statement is sent, while it waits for a row lock another session holds, after it
committed while it waits to report the commit (a synchronous standby that never answers: the commit is local, the
answer never comes), and after the save, idle in the pool, before the next delivery. Redis: the delivering client
is ended with ``CLIENT KILL`` before its save script is sent, while its script is held by ``CLIENT PAUSE WRITE``,
and after the save; and the script's answer is dropped on its way back by a TCP relay. Each time the caller gets a ``StoreError`` or a contract holding its signal; a retry with the
same idempotency key ends with the event applied once; the next delivery in the same process works.

Races. ``cancel``, ``expire_due`` and ``migrate`` run on a thread of their own while quiet and completing
deliveries go to the same workflows; then every workflow's history is checked: nothing saved after a
cancellation or a time-out, versions 1..n each restoring, every delivery answered as what was saved, and the same
history as the general path alone (``quiet.GENERAL_ONLY``) running the saved operations in their saved order.
"""

from __future__ import annotations

import random
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from igniter_nb.stores import RedisStore, SQLStore
from igniter_nb.workflow import quiet
from igniter_nb.workflow.engine import start
from tests.stores.store_factory import make_spec, open_store
from tests.workflow._fast_paths import NOW, _first_difference
from tests.workflow._fast_paths import history as stored_history
from tests.workflow.drop_trial import _Backends, _Clients, _count_paths, _Relay, drops_at
from tests.workflow.kill_trial import AWAITS
from tests.workflow.race_trial import (
    DEPLOYS,
    RACE_WORKFLOWS,
    _check_raced,
    _controller,
    _deliverer,
    _migrations,
    _race_tasks,
    _replayed,
    _started_at,
)

pytestmark = pytest.mark.services


def _took_the_paths(paths: dict[str, int], general: bool, outcome: tuple[str, bool]) -> None:
    """The deliveries went the way asked: the general path only, or the fast paths — whose saves met the drop
    (a quiet one and two completing ones per workflow) when the first attempts wrote and raised."""
    if general:
        assert not any(paths.values())
    elif outcome == ("store error", True):
        assert paths["quiet raised"] == 2 and paths["completing raised"] == 4, paths
    else:
        assert paths["quiet"] and paths["completing"], paths


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
    paths = _count_paths(monkeypatch)
    try:
        if point == "commit":
            backends.standby_waits(True)
        outcomes = drops_at(store, backends, point)
    finally:
        if point == "commit":
            backends.standby_waits(False)
        backends.close()
        store.close()
    assert backends.fired == [point] * 6
    assert set(outcomes) == {PG_EXPECTED[point]}
    _took_the_paths(paths, general, PG_EXPECTED[point])


# before the save and after it the lost connection is found before the next command is sent: redis-py connects
# again and the command runs; a script sent and held when its connection is killed never runs: a StoreError naming
# the server, nothing written, and the retry applies it
REDIS_EXPECTED = {"before": ("returned", True), "paused": ("store error", False), "reply": ("store error", True),
                  "idle": ("returned", True)}


@pytest.mark.parametrize("general", [False, True], ids=["fast", "general"])
@pytest.mark.parametrize("point", sorted(REDIS_EXPECTED))
def test_redis_client_killed_mid_delivery(point: str, general: bool, request: pytest.FixtureRequest,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    url = request.getfixturevalue("redis_url")
    name = f"deliverer{uuid.uuid4().hex[:8]}"
    relay = _Relay(int(url.rsplit(":", 1)[1].split("/")[0]))
    # (through the relay only where it drops the reply: elsewhere its own close of the store's side comes a little
    # after the server's, and a command sent in between is one sent on a lost connection: an error, not written)
    way = f"redis://127.0.0.1:{relay.port}/0" if point == "reply" else url
    store = RedisStore(f"{way}?client_name={name}", namespace=f"t{uuid.uuid4().hex[:10]}")
    clients = _Clients(store, url, name, relay)
    monkeypatch.setattr(quiet, "GENERAL_ONLY", general)
    paths = _count_paths(monkeypatch)
    try:
        outcomes = drops_at(store, clients, point)
    finally:
        clients.close()
        store.close()
        relay.close()
    assert clients.fired == [point] * 6
    assert set(outcomes) == {REDIS_EXPECTED[point]}
    _took_the_paths(paths, general, REDIS_EXPECTED[point])


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "redis"])
def test_cancel_expire_and_migrate_racing_the_fast_paths(kind: str, tmp_path: Path, request: pytest.FixtureRequest,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _count_paths(monkeypatch)
    totals: dict[str, int] = {}
    for round_ in range(2):
        rng = random.Random(f"race-{kind}-{round_}")
        spec = make_spec(kind, tmp_path / f"r{round_}", request, uuid.uuid4().hex[:10])
        (tmp_path / f"r{round_}").mkdir()
        store = open_store(spec)
        prefix = f"{kind}{round_}"
        ids = {}
        for i in range(RACE_WORKFLOWS):
            wf = f"{prefix}-w{i:02d}"
            ids[wf] = start(DEPLOYS["v1"], {"key": wf}, store=store, now=_started_at(i)).execution_id
        tasks = _race_tasks(rng, prefix)
        answers: dict[Any, Any] = {}
        done: dict[str, Any] = {"cancelled": [], "expired": [], "migrated": []}
        errors: list[BaseException] = []
        stop = threading.Event()
        threads = [threading.Thread(target=_deliverer, args=(spec, tasks[n::2], answers, errors,
                                                                   random.Random(rng.random())), daemon=True)
                   for n in range(2)]
        threads.append(threading.Thread(target=_controller, args=(spec, rng, prefix, done, errors, stop),
                                        daemon=True))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        stop.set()
        assert not any(t.is_alive() for t in threads), "a thread of the round hangs"
        assert not errors, errors
        totals["lost races"] = totals.get("lost races", 0) + answers.pop("lost races", 0)
        replay = SQLStore(f"sqlite:///{tmp_path / f'replay{round_}.db'}")
        try:
            for i, (wf, eid) in enumerate(sorted(ids.items())):
                mine = [t for t in tasks if t["wf"] == wf]
                ops = _check_raced(store, eid, i, mine, answers, done)
                for op in ops:
                    totals[op[0]] = totals.get(op[0], 0) + 1
                _replayed(replay, eid, i, wf, ops, mine, monkeypatch)
                ours, general = stored_history(store, eid), stored_history(replay, eid)
                assert len(ours) == len(general), f"{eid}: {[op[0] for op in ops]}"
                for n, (a, b) in enumerate(zip(ours, general, strict=True)):
                    assert a == b, (f"{eid} version {n + 1} ({[op[0] for op in ops]}) differs from the general path "
                                    f"at {_first_difference(a, b)}")
        finally:
            replay.close()
            store.close()
    print(f"\n{kind}: saved {totals}; fast paths {paths}")
    assert paths["quiet"] and paths["completing"]
    assert totals.get("cancel") and totals.get("expire") and totals.get("migrate")


@pytest.mark.parametrize("finish", ["cancel", "complete"])
def test_migrate_leaves_a_workflow_that_finished_after_it_was_listed(finish: str, tmp_path: Path) -> None:
    """``migrate`` (active workflows only) lists the workflows, then moves each: one cancelled or completed in
    between is finished when its turn comes, and is left as it is (it was saved a migrated version after its
    cancellation: the race test found it)."""
    store = SQLStore(f"sqlite:///{tmp_path / 'store.db'}")
    old, new = DEPLOYS["v1"], DEPLOYS["v2"]
    eid = start(old, {"key": "w"}, store=store, now=NOW).execution_id
    for node in ("a", "b"):
        old.deliver_event(AWAITS[node], correlation={"key": "w"}, payload={"n": 1, "by": node}, store=store, now=NOW)
    listing = store.list

    def listed(*args: Any, **kwargs: Any) -> Any:
        found = listing(*args, **kwargs)
        if finish == "cancel":  # (another process, once migrate has its list)
            new.cancel(correlation={"key": "w"}, store=store, now=NOW)
        else:
            old.deliver_event("c_arrived", correlation={"key": "w"}, payload={"n": 1, "by": "c"}, store=store, now=NOW)
        return found

    store.list = listed  # type: ignore[method-assign]
    try:
        report = new.migrate(store, now=NOW)
        rec = store.record(eid)
        assert rec.status == ("cancelled" if finish == "cancel" else "succeeded")
        assert rec.version == 4 and _migrations(rec.snapshot) == 0  # (started, a, b, then the cancel or c)
        assert [(e.execution_id, e.action) for e in report.executions] == [(eid, "unchanged")]
    finally:
        store.close()
