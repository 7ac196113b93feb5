"""``migrate`` without the rename of an await whose event the new graph awaits under another name: a forgotten
rename. An execution holding that await's delivered payload is reported ``failed`` (naming the rename to pass)
instead of dropping the payload, unless ``drop=`` opts into dropping it. On the memory and SQLite stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore, SQLStore
from tests.workflow.wf_migrate_race import relay_v1, relay_v2

CORR = {"lead": "L-1"}


@pytest.fixture(params=["memory", "sqlite"])
def store(request: Any, tmp_path: Path) -> Any:
    if request.param == "memory":
        yield MemoryStore()
    else:
        with SQLStore(f"sqlite:///{tmp_path / 'forgotten.db'}") as opened:
            yield opened


def _delivered_a(store: Any) -> str:
    v1 = relay_v1()
    execution_id: str = v1.start({"lead": "L-1"}, store=store).execution_id
    v1.deliver_event("ea", correlation=CORR, payload="pa", store=store)
    return execution_id


@pytest.mark.parametrize("rename", [None, {"aa": "a2"}])  # left out, or misspelled (a valid identifier)
@pytest.mark.parametrize("dry_run", [True, False])
def test_a_forgotten_rename_fails_the_execution_and_keeps_its_payload(store: Any, rename: Any, dry_run: bool) -> None:
    execution_id = _delivered_a(store)
    before = store.record(execution_id)
    report = relay_v2().migrate(store, rename=rename, dry_run=dry_run)
    assert [e.execution_id for e in report.failed] == [execution_id] and report.migrated == []
    error = report.failed[0].error
    assert error is not None and execution_id in error and "'a'" in error and "'ea'" in error
    assert "rename={'a': 'a2'}" in error
    after = store.record(execution_id)
    assert (after.version, after.snapshot) == (before.version, before.snapshot)  # nothing written
    done = relay_v2().migrate(store, rename={"a": "a2"})
    assert [e.action for e in done.executions] == ["migrated"]
    assert store.fetch(execution_id)["states"]["a2"]["value"] == "pa"


def test_drop_opts_into_dropping_the_payload(store: Any) -> None:
    execution_id = _delivered_a(store)
    v2 = relay_v2()
    assert [e.action for e in v2.migrate(store, drop={"a"}, dry_run=True).executions] == ["would migrate"]
    report = v2.migrate(store, drop={"a"})
    assert [(e.action, e.dropped) for e in report.executions] == [("migrated", ("a",))]
    assert "a" not in store.fetch(execution_id)["states"]
    done = v2.deliver_event("ea", correlation=CORR, payload="again", store=store)
    assert done.workflow_status == "waiting"
    done = v2.deliver_event("eb", correlation=CORR, payload="pb", store=store)
    assert done.result.out == ["again", "pb"]


def test_an_await_not_yet_delivered_is_dropped_as_before(store: Any) -> None:
    execution_id = relay_v1().start({"lead": "L-1"}, store=store).execution_id
    report = relay_v2().migrate(store)
    assert [(e.action, e.dropped) for e in report.executions] == [("migrated", ("a",))]
    assert "a" not in store.fetch(execution_id)["states"]


def test_an_await_removed_outright_drops_its_payload_as_documented(store: Any) -> None:
    class Relay(ig.Contract):  # no node awaits "ea" any more
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.await_event("b", event="eb")
            c.compute("out", depends_on=["b"], call=lambda b: [b])
            c.output("out")

    execution_id = _delivered_a(store)
    report = Relay.migrate(store)
    assert [(e.action, e.dropped) for e in report.executions] == [("migrated", ("a",))]
    assert "a" not in store.fetch(execution_id)["states"]


@pytest.mark.parametrize("drop", ["a", {"a": "x"}, {1}, {"a2"}])
def test_a_bad_drop_is_refused_naming_it(store: Any, drop: Any) -> None:
    execution_id = _delivered_a(store)
    before = store.record(execution_id)
    with pytest.raises(ig.WorkflowArgumentError) as caught:
        relay_v2().migrate(store, drop=drop)
    assert "drop=" in caught.value.message
    assert store.record(execution_id).version == before.version


def test_drop_and_rename_of_the_same_await_is_refused(store: Any) -> None:
    _delivered_a(store)
    with pytest.raises(ig.WorkflowArgumentError, match="drop="):
        relay_v2().migrate(store, rename={"a": "a2"}, drop={"a"})


def test_resume_from_store_by_a_new_version_never_drops_a_renamed_awaits_payload(store: Any) -> None:
    v1, v2 = relay_v1(), relay_v2()
    started = v1.start({"lead": "L-1"}, store=store)
    execution_id = started.execution_id
    token = started.execution.states["b"].value.token  # await b, resumed by its token (an RQ resume job, say)
    v1.deliver_event("ea", correlation=CORR, payload="pa", store=store)
    before = store.record(execution_id)
    with pytest.raises(ig.GraphChangedError) as caught:
        v2.resume_from_store(execution_id, token, "pb", store=store)
    message = caught.value.message
    assert execution_id in message and "'a'" in message and "'ea'" in message and "is not resumed" in message
    assert "Relay.migrate(store, rename={'a': 'a2'})" in message
    after = store.record(execution_id)
    assert (after.version, after.snapshot) == (before.version, before.snapshot)  # nothing written
    v2.migrate(store, rename={"a": "a2"})
    done = v2.resume_from_store(execution_id, token, "pb", store=store)
    assert done.workflow_status == "succeeded" and done.result.out == ["pa", "pb"]
    # the old version resuming a workflow migrated meanwhile is refused the same way
    again = v1.start({"lead": "L-2"}, store=store)
    token2 = again.execution.states["b"].value.token
    v1.deliver_event("ea", correlation={"lead": "L-2"}, payload="p2", store=store)
    v2.migrate(store, rename={"a": "a2"})
    with pytest.raises(ig.GraphChangedError, match="'a2'"):
        v1.resume_from_store(again.execution_id, token2, "pb", store=store)
    assert store.fetch(again.execution_id)["states"]["a2"]["value"] == "p2"
