"""``ig.nb.Follow`` over a ``Client`` while its execution is deleted and saved anew at a version NOT past the one the
Follow holds (version 1 again): docs/notebook.md said such a new incarnation was seen "only at its next reconnect".
The server's stream re-reads a quiet execution (every 5 s, or half of ``stream_idle_seconds``) and sends the new
incarnation under its new epoch on the same connection, so the Follow ends with ``ExecutionRecreated`` without a
reconnect. A real uvicorn on an SQLite store, ``stream_idle_seconds`` left at 300 s: no reconnect within the test."""

from __future__ import annotations

from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.notebook.follow import Follow
from igniter_nb.stores import SQLStore
from tests.polling import wait_for
from tests.server.server_contracts import CONTRACTS

pytestmark = pytest.mark.timeout(60)


def test_a_follow_over_a_client_ends_on_a_new_incarnation_at_the_same_version(tmp_path: Any, live_app: Any) -> None:
    with SQLStore(f"sqlite:///{tmp_path / 'quiet.db'}") as store:
        server = live_app(ig.server.create_app(CONTRACTS, store=store))
        with ig.server.Client(server.url, timeout=10) as client:
            eid = client.execute("lead", inputs={"request_id": "r-1"})["execution_id"]
            follow = Follow(eid, client, engine="python")
            try:
                wait_for(lambda: getattr(follow, "_resume_id", None), "the stream's first event", timeout=20)
                before = list(follow.events)
                assert follow.version == 1
                other = client.execute("price", inputs={"total": 2})["execution_id"]
                record = store.record(other)
                store.delete(eid)
                store.save({**record.snapshot, "execution_id": eid}, graph=record.graph,
                           correlation=record.correlation, status=record.status)
                assert store.record(eid).version == 1  # not past the version the Follow holds
                error = wait_for(lambda: follow.error, "the Follow to end on the new incarnation", timeout=20)
                assert error.startswith("ExecutionRecreated: ") and repr(eid) in error
                assert list(follow.events) == before and follow.version == 1
            finally:
                follow.stop()
