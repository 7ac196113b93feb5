"""A deploy that renames an await (``a`` -> ``a2``, same event), rolled out while processes of both versions deliver
to the same SQLite store before and after ``migrate`` runs (``Relay`` of ``wf_migrate_race``, two contract classes
as two deploys would have). Nothing a workflow received is lost, and running ``migrate`` again — after more
deliveries by either version — changes nothing it already did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore, SQLStore
from tests.workflow.wf_migrate_race import relay_v1, relay_v2

CORR = {"lead": "L-1"}


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with SQLStore(f"sqlite:///{tmp_path / 'rollout.db'}") as opened:
        yield opened


def test_a_new_version_delivery_never_drops_the_payload_of_an_await_it_renamed(store: Any) -> None:
    v1, v2 = relay_v1(), relay_v2()
    execution_id = v1.start({"lead": "L-1"}, store=store).execution_id
    v1.deliver_event("ea", correlation=CORR, payload="pa", store=store, idempotency_key="ka")
    before = store.record(execution_id)
    with pytest.raises(ig.GraphChangedError) as caught:  # a new-version process, before migrate ran
        v2.deliver_event("eb", correlation=CORR, payload="pb", store=store, idempotency_key="kb")
    message = caught.value.message
    assert execution_id in message and "'a'" in message and "'ea'" in message
    assert "Relay.migrate(store, rename={'a': 'a2'})" in message
    assert caught.value.context["node"] == "a" and caught.value.context["current_node"] == "a2"
    after = store.record(execution_id)
    assert (after.version, after.snapshot) == (before.version, before.snapshot)  # nothing written
    report = v2.migrate(store, rename={"a": "a2"})
    assert [(e.action, dict(e.renamed)) for e in report.executions] == [("migrated", {"a": "a2"})]
    assert store.fetch(execution_id)["states"]["a2"]["value"] == "pa"
    done = v2.deliver_event("eb", correlation=CORR, payload="pb", store=store, idempotency_key="kb")
    assert done.workflow_status == "succeeded" and done.result.out == ["pa", "pb"]


def test_an_old_version_delivery_never_drops_a_payload_migrate_moved(store: Any) -> None:
    v1, v2 = relay_v1(), relay_v2()
    execution_id = v1.start({"lead": "L-1"}, store=store).execution_id
    v1.deliver_event("ea", correlation=CORR, payload="pa", store=store, idempotency_key="ka")
    v2.migrate(store, rename={"a": "a2"})
    before = store.record(execution_id)
    with pytest.raises(ig.GraphChangedError) as caught:  # a process still running the old graph
        v1.deliver_event("eb", correlation=CORR, payload="pb", store=store)
    assert "'a2'" in caught.value.message and execution_id in caught.value.message
    assert store.record(execution_id).version == before.version
    done = v2.deliver_event("eb", correlation=CORR, payload="pb", store=store)
    assert done.result.out == ["pa", "pb"]


def test_migrating_again_after_an_old_version_saved_a_migrated_workflow_changes_nothing_twice(store: Any) -> None:
    v1, v2 = relay_v1(), relay_v2()
    first = v1.start({"lead": "L-1"}, store=store).execution_id
    second = v2.start({"lead": "L-2"}, store=store).execution_id  # started by a new-version process: new shape
    assert [e.action for e in v2.migrate(store, rename={"a": "a2"}).executions] == ["migrated", "unchanged"]
    for lead in ("L-1", "L-2"):  # an old-version process delivers eb: it saves the old `a` (waiting), not `a2`
        v1.deliver_event("eb", correlation={"lead": lead}, payload=f"b-{lead}", store=store)
        assert "a" in store.fetch(first if lead == "L-1" else second)["states"]
    report = v2.migrate(store, rename={"a": "a2"})  # refused before: "'a' was a compute" (it never was)
    assert report.failed == [] and len(report.migrated) == 2
    assert all(e.renamed == {} and e.dropped == ("a",) for e in report.executions)
    assert v2.migrate(store, rename={"a": "a2"}).migrated == []
    for lead in ("L-1", "L-2"):
        done = v2.deliver_event("ea", correlation={"lead": lead}, payload=f"a-{lead}", store=store)
        assert done.workflow_status == "succeeded" and done.result.out == [f"a-{lead}", f"b-{lead}"]


def test_a_payload_an_earlier_version_already_dropped_is_reported_not_claimed_renamed() -> None:
    """A record saved before deliveries were refused: the new graph's process dropped ``a``'s payload. ``migrate``
    cannot bring it back; it says so (``lost_payloads``), and the event's redelivery is accepted."""
    store = MemoryStore()
    v1, v2 = relay_v1(), relay_v2()
    execution_id = v1.start({"lead": "L-1"}, store=store).execution_id
    v1.deliver_event("ea", correlation=CORR, payload="pa", store=store, idempotency_key="ka")
    record = store.record(execution_id)
    snapshot = record.snapshot  # what an earlier version's new-graph delivery of eb left
    del snapshot["states"]["a"]
    snapshot["workflow"]["signals"][0]["retracted"] = {"at": "2030-01-01T00:00:00Z", "by": "graph_changed"}
    snapshot["workflow"]["satisfied_events"] = []
    store.save(snapshot, expected_version=record.version)
    report = v2.migrate(store, rename={"a": "a2"})
    (entry,) = report.executions
    assert entry.action == "migrated" and entry.lost_payloads == {"a": "ea"} and report.lost == [entry]
    assert v2.migrate(store, rename={"a": "a2"}).lost == []
    again = v2.deliver_event("ea", correlation=CORR, payload="pa", store=store, idempotency_key="ka")
    assert [s["node"] for s in again.execution.workflow["signals"] if not s.get("retracted")] == ["a2"]


@pytest.mark.parametrize("name", ["<b>a2</b>", "a2\"><script>", "zz"])
def test_a_rename_onto_a_name_the_graph_lacks_names_it_and_writes_nothing(store: Any, name: str) -> None:
    v1, v2 = relay_v1(), relay_v2()
    execution_id = v1.start({"lead": "L-1"}, store=store).execution_id
    version = store.record(execution_id).version
    with pytest.raises(ig.WorkflowArgumentError) as caught:
        v2.migrate(store, rename={"a": name})
    assert repr(name) in caught.value.message and caught.value.context["node"] == name
    with pytest.raises(ig.WorkflowArgumentError):  # renaming onto a name the graph still has under that name
        v2.migrate(store, rename={"b": "a2"})
    assert store.record(execution_id).version == version


def _flaky_pair(name: str) -> Any:
    class Flaky(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.await_event(name, event="ea")
            c.compute("out", depends_on=[name], call=lambda **given: 1 // len(given[name]))
            c.output("out")

    return Flaky


def test_a_new_version_retry_never_drops_the_payload_of_an_await_it_renamed(store: Any) -> None:
    v1, v2 = _flaky_pair("a"), _flaky_pair("a2")
    execution_id = v1.start({"lead": "L-1"}, store=store).execution_id
    assert v1.deliver_event("ea", correlation=CORR, payload="", store=store).workflow_status == "failed"
    version = store.record(execution_id).version
    with pytest.raises(ig.GraphChangedError, match="the workflow is not retried") as caught:
        v2.retry_workflow(correlation=CORR, store=store)
    assert caught.value.context["node"] == "a" and execution_id in caught.value.message
    assert store.record(execution_id).version == version
    (entry,) = v2.migrate(store, rename={"a": "a2"}, include_finished=True).executions
    assert entry.renamed == {"a": "a2"} and store.fetch(execution_id)["states"]["a2"]["value"] == ""


class _InterleavedStore(MemoryStore):
    """A memory store where another writer saves once, right after ``migrate`` first reads a record."""

    def __init__(self) -> None:
        super().__init__()
        self.meanwhile: Any = None

    def record(self, execution_id: str, **kwargs: Any) -> Any:
        found = super().record(execution_id, **kwargs)
        if self.meanwhile is not None:
            write, self.meanwhile = self.meanwhile, None
            write()  # saved between migrate's read and its compare-and-set save
        return found


def test_a_write_between_migrates_read_and_save_is_kept_and_moved() -> None:
    store = _InterleavedStore()
    v1, v2 = relay_v1(), relay_v2()
    execution_id = v1.start({"lead": "L-1"}, store=store).execution_id
    store.meanwhile = lambda: v1.deliver_event("ea", correlation=CORR, payload="pa", store=store,
                                               idempotency_key="ka")  # a process still on the old graph
    report = v2.migrate(store, rename={"a": "a2"})
    assert [(e.action, dict(e.renamed)) for e in report.executions] == [("migrated", {"a": "a2"})]
    stored = store.fetch(execution_id)
    assert stored["states"]["a2"]["value"] == "pa" and "a" not in stored["states"]
    assert [(s["node"], s["idempotency_key"]) for s in stored["workflow"]["signals"]] == [("a2", "ka")]
    done = v2.deliver_event("eb", correlation=CORR, payload="pb", store=store)
    assert done.result.out == ["pa", "pb"]


@pytest.mark.parametrize("old", ["<img src=x>", "a.b", "", "a" * 100_000 + "<"])
def test_a_rename_of_a_name_no_graph_could_have_had_is_refused(store: Any, old: str) -> None:
    v1, v2 = relay_v1(), relay_v2()
    execution_id = v1.start({"lead": "L-1"}, store=store).execution_id
    before = store.record(execution_id)
    for dry_run in (True, False):
        with pytest.raises(ig.WorkflowArgumentError, match="not a node name any graph could have had") as caught:
            v2.migrate(store, rename={old: "a2"}, dry_run=dry_run)
        assert len(caught.value.message) < 600 and caught.value.context["node"] == old[:80]
    after = store.record(execution_id)
    assert (after.version, after.snapshot) == (before.version, before.snapshot)


def test_two_migrations_at_once_apply_the_rename_once() -> None:
    store = _InterleavedStore()
    v1, v2 = relay_v1(), relay_v2()
    execution_id = v1.start({"lead": "L-1"}, store=store).execution_id
    v1.deliver_event("ea", correlation=CORR, payload="pa", store=store, idempotency_key="ka")
    inner: list[Any] = []
    store.meanwhile = lambda: inner.append(v2.migrate(store, rename={"a": "a2"}))  # another migrating process
    outer = v2.migrate(store, rename={"a": "a2"})
    assert [e.action for e in inner[0].executions] == ["migrated"]
    assert [e.action for e in outer.executions] == ["unchanged"]  # re-read after its save lost: nothing left to do
    stored = store.fetch(execution_id)
    assert [e["type"] for e in stored["events"]].count("workflow_migrated") == 1
    assert stored["states"]["a2"]["value"] == "pa"
    assert [(s["node"], s.get("retracted")) for s in stored["workflow"]["signals"]] == [("a2", None)]
