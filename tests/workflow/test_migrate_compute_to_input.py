"""A deploy that turns a compute into an input (same name, or renamed with ``migrate(rename=...)``): ``migrate``
carries the value the compute had into the stored inputs; a compute with no value yet is refused at migrate time
(the execution ``failed`` in the report, naming it and the node, nothing written) unless ``inputs=`` gives one.
Real stores (memory, SQLite)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore, SQLStore

CORR = {"lead": "L-1"}


def version_1() -> Any:
    class Scoring(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.await_event("a", event="ea")
            c.compute("score", depends_on=["a"], call=lambda a: a * 2)
            c.await_event("b", event="eb")
            c.compute("out", depends_on=["score", "b"], call=lambda score, b: [score, b])
            c.output("out")

    return Scoring


def version_2(name: str = "score", type_: Any = int) -> Any:
    class Scoring(ig.Contract):  # the await `a` is gone: its score is given from outside now
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.input(name, type=type_)
            c.await_event("b", event="eb")
            c.compute("out", depends_on=[name, "b"], call=lambda b, **given: [given[name], b])
            c.output("out")

    return Scoring


@pytest.fixture(params=["memory", "sqlite"])
def store(request: Any, tmp_path: Path) -> Any:
    if request.param == "memory":
        yield MemoryStore()
        return
    with SQLStore(f"sqlite:///{tmp_path / 'wf.db'}") as opened:
        yield opened


@pytest.mark.parametrize("name", ["score", "score_in"])
def test_the_computed_value_is_carried_into_the_stored_inputs(store: Any, name: str) -> None:
    v1 = version_1()
    execution_id = v1.start({"lead": "L-1"}, store=store).execution_id
    v1.deliver_event("ea", correlation=CORR, payload=3, store=store)
    v2 = version_2(name)
    rename = {"score": name} if name != "score" else None
    report = v2.migrate(store, rename=rename)
    (entry,) = report.executions
    assert entry.action == "migrated" and entry.computed_inputs == (name,) and entry.status == "waiting"
    stored = store.fetch(execution_id)
    assert stored["inputs"] == {"lead": "L-1", name: 6}
    again = v2.migrate(store, rename=rename)
    assert [e.action for e in again.executions] == ["unchanged"]
    done = v2.deliver_event("eb", correlation=CORR, payload=1, store=store)
    assert done.workflow_status == "succeeded" and done.result.out == [6, 1]
    assert done.execution.inputs[name] == 6


@pytest.mark.parametrize("name", ["score", "score_in"])
def test_a_compute_without_a_value_is_refused_at_migrate_time(store: Any, name: str) -> None:
    v1 = version_1()
    execution_id = v1.start({"lead": "L-1"}, store=store).execution_id  # `a` not delivered: no score yet
    before = store.record(execution_id)
    v2 = version_2(name)
    rename = {"score": name} if name != "score" else None
    for dry_run in (True, False):
        (entry,) = v2.migrate(store, rename=rename, dry_run=dry_run).executions
        assert entry.action == "failed" and entry.status == "waiting"
        assert execution_id in entry.error and repr(name) in entry.error and "inputs=" in entry.error
    after = store.record(execution_id)
    assert (after.version, after.status, after.snapshot) == (before.version, before.status, before.snapshot)
    report = v2.migrate(store, rename=rename, inputs={name: 7})
    (entry,) = report.executions
    assert entry.action == "migrated" and entry.inputs == (name,) and entry.status == "waiting"
    done = v2.deliver_event("eb", correlation=CORR, payload=1, store=store)
    assert done.workflow_status == "succeeded" and done.result.out == [7, 1]


def test_a_computed_value_the_input_type_refuses_is_named(store: Any) -> None:
    v1 = version_1()
    execution_id = v1.start({"lead": "L-1"}, store=store).execution_id
    v1.deliver_event("ea", correlation=CORR, payload="<b>x</b>", store=store)  # score "<b>x</b><b>x</b>"
    before = store.record(execution_id)
    (entry,) = version_2("score", int).migrate(store).executions
    assert entry.action == "failed" and "'score'" in entry.error and execution_id in entry.error
    assert store.record(execution_id).version == before.version


def test_an_optional_input_without_a_value_is_not_refused(store: Any) -> None:
    class Scoring(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.input("score", type=int, default=0)
            c.await_event("b", event="eb")
            c.compute("out", depends_on=["score", "b"], call=lambda score, b: [score, b])
            c.output("out")

    version_1().start({"lead": "L-1"}, store=store)
    (entry,) = Scoring.migrate(store).executions
    assert entry.action == "migrated" and entry.status == "waiting"
    done = Scoring.deliver_event("eb", correlation=CORR, payload=1, store=store)
    assert done.result.out == [0, 1]
