"""ig.nb.Follow over a server's live stream (and a store's change feed) when the followed execution is deleted and
saved anew under the same execution id (its events and versions start at 1 again): the Follow took the new
execution's versions past the one it held and spliced the new events past the old last seq into its history —
two executions shown as one. It now ends following with ``ExecutionRecreated`` naming the execution (follow it
again to see the new one), its history untouched. A real ``igniter-nb serve`` on SQLite (tests/notebook/conftest)."""

from __future__ import annotations

from typing import Any

import pytest

from igniter_nb.notebook.follow import Follow
from tests.polling import wait_for
from tests.recreating import GatedSQLStore, held, stopped

pytestmark = pytest.mark.timeout(120)


def _recreate(server: Any, store: Any, client: Any, eid: str) -> None:
    """The server is stopped meanwhile: a stream that read the store between the delete and the first save would
    rightly say the execution was deleted (SnapshotNotFoundError), not the case here."""
    other = client.execute("lead", inputs={"request_id": "r-9"})["execution_id"]
    for event, payload in (("crm_received", {"name": "A"}), ("billing_ready", 1)):
        client.deliver_event("lead", event=event, correlation={"request_id": "r-9"}, payload=payload)
    history = store.history_records(other)
    with stopped(server.pid):
        store.delete(other)
        store.delete(eid)
        for record in history:  # saved anew, past the version the Follow holds (the change feed compares versions)
            store.save({**record.snapshot, "execution_id": eid}, graph=record.graph, correlation=record.correlation,
                       status=record.status)


def _ended_recreated(follow: Follow, before: list[Any]) -> None:
    with pytest.raises(TimeoutError):
        follow.wait(timeout=30)  # following ends (it never finishes: that was another execution)
    assert follow.error is not None and follow.error.startswith("ExecutionRecreated: ")
    assert repr(follow.execution_id) in follow.error and "saved anew" in follow.error
    assert list(follow.events) == before and follow.version == 1 and not follow.finished


def test_a_follow_over_a_server_ends_when_the_execution_is_recreated(service: Any) -> None:
    server, store, client = service
    eid = client.execute("lead", inputs={"request_id": "r-1"})["execution_id"]
    follow = Follow(eid, client, engine="python")
    wait_for(lambda: getattr(follow, "_resume_id", None), "the stream's first event (its epoch)", timeout=30)
    before = list(follow.events)
    _recreate(server, store, client, eid)
    _ended_recreated(follow, before)


def test_a_follow_over_a_store_ends_when_the_execution_is_recreated(service: Any, tmp_path: Any) -> None:
    _, _, client = service
    with GatedSQLStore(f"sqlite:///{tmp_path / 'own.db'}") as own:
        eid = client.execute("lead", inputs={"request_id": "r-1"})["execution_id"]
        own.save(client.record(eid)["snapshot"], graph="SvcLead", status="waiting")
        follow = Follow(eid, own, engine="python", poll_interval=0.05)
        before = list(follow.events)
        other = client.execute("lead", inputs={"request_id": "r-9"})["execution_id"]
        for event, payload in (("crm_received", {"name": "A"}), ("billing_ready", 1)):
            client.deliver_event("lead", event=event, correlation={"request_id": "r-9"}, payload=payload)
        history = client.history(other)
        with held(own):  # the Follow does not read in between (it would rightly see the execution deleted)
            own.delete(eid)
            for version in history:  # saved anew, past the version the Follow holds
                own.save({**version["snapshot"], "execution_id": eid}, graph="SvcLead", status=version["status"])
        _ended_recreated(follow, before)
