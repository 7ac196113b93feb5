"""A Redis ``start`` whose answer is lost: the save script ran (the workflow is stored), then the connection dropped
before its answer came back (``drop_trial._Relay``, a TCP relay that closes instead of passing the answer on). The
caller gets a ``StoreError`` that says the workflow may have been started — never that nothing was written — and
a retry of the same start finds the workflow it made (``DuplicateWorkflowError`` naming it), while the next start in
the same process works. Also a start whose connection is killed before its script is sent (``CLIENT KILL``:
redis-py connects again and the command runs once). Real Redis server."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.errors import DuplicateWorkflowError, StoreError
from igniter_nb.stores import RedisStore
from igniter_nb.workflow.engine import start
from tests.workflow._fast_paths import NOW
from tests.workflow.drop_trial import _Clients, _Relay
from tests.workflow.kill_trial import Trio

pytestmark = pytest.mark.services


@pytest.fixture
def relayed(request: pytest.FixtureRequest) -> Any:
    """``(store through a relay, its _Clients dropper)``."""
    url = request.getfixturevalue("redis_url")
    name = f"starter{uuid.uuid4().hex[:8]}"
    relay = _Relay(int(url.rsplit(":", 1)[1].split("/")[0]))
    store = RedisStore(f"redis://127.0.0.1:{relay.port}/0?client_name={name}", namespace=f"t{uuid.uuid4().hex[:10]}")
    clients = _Clients(store, url, name, relay)
    # a first start loads the save script on the server: the answer dropped below is then the script's, not the
    # NOSCRIPT error redis-py answers by loading it (after which the script would run, and answer, again)
    start(Trio, {"key": f"warm-{uuid.uuid4().hex[:6]}"}, store=store, now=NOW)
    try:
        yield store, clients
    finally:
        clients.close()
        store.close()
        relay.close()


def test_a_start_whose_answer_is_lost_says_the_workflow_may_have_been_started(relayed: Any) -> None:
    store, clients = relayed
    key = f"lost-{uuid.uuid4().hex[:6]}"
    clients.point = "reply"
    with pytest.raises(StoreError) as info:
        start(Trio, {"key": key}, store=store, now=NOW)
    assert clients.fired == ["reply"]
    said = str(info.value)
    stored = store.find_by_correlation(Trio.compiled_graph().name, {"key": key})
    assert stored is not None  # the script ran: the workflow is there
    assert "nothing of this save was written" not in said and "was not" not in said.split("(SnapshotNotFound")[0], said
    # what to do about a start (a start has no idempotency key): the execution to read, and what starting again does
    assert "the workflow may have been started" in said and f"store.record({stored!r})" in said, said
    assert "DuplicateWorkflowError" in said and "idempotency key" not in said, said
    assert info.value.context["execution_id"] == stored and info.value.context["may_be_written"] is True
    with pytest.raises(DuplicateWorkflowError) as again:  # a retry finds the workflow the lost start made
        start(Trio, {"key": key}, store=store, now=NOW)
    assert again.value.context["existing_execution_id"] == stored
    other = start(Trio, {"key": f"{key}-next"}, store=store, now=NOW)  # the next start in this process works
    assert store.record(other.execution_id).version == 1


def test_a_start_whose_connection_is_killed_before_the_script_is_sent_is_carried_out_once(relayed: Any) -> None:
    store, clients = relayed
    key = f"before-{uuid.uuid4().hex[:6]}"
    clients.point = "before"
    wf = start(Trio, {"key": key}, store=store, now=NOW)
    assert clients.fired == ["before"]
    assert [h.version for h in store.history_records(wf.execution_id)] == [1]


class Lone(ig.Contract):
    """A workflow with no correlation: starting it again makes another one."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        c.input("x", type=int)
        c.await_event("go", event="go")
        c.output("go")


def test_a_lost_start_of_a_workflow_without_correlation_does_not_advise_starting_again(relayed: Any) -> None:
    store, clients = relayed
    clients.point = "reply"
    with pytest.raises(StoreError) as info:
        start(Lone, {"x": 1}, store=store, now=NOW)
    eid = info.value.context["execution_id"]
    assert store.record(eid).version == 1  # it was stored
    said = str(info.value)
    assert f"store.record({eid!r})" in said and "starting it again would start a second workflow" in said, said
