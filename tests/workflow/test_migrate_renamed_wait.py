"""``migrate(store, rename={old: new})`` renames the node in the stored wait too: the deferred value an await (or a
deferring executor) holds, and its dependents carry, named the old node (``source_node``, and an await's token
``<execution id>:<node>``), so the workflow's view showed the old name under ``pending`` and in its stored wait.
After the rename no stored state names the old node; delivering to the renamed await (or resuming the renamed
node's token) works and the history is intact. On every store kind."""

from __future__ import annotations

import json
from typing import Any

import igniter_nb as ig
from igniter_nb.server.views import execution_view
from tests.workflow.conftest import T0

CORR = {"lead": "L-1"}


class Quote(ig.Executor):
    def call(self, lead: str) -> Any:
        return self.defer(token=f"quote-{lead}", payload={"lead": lead})


def version_1() -> Any:
    class Renamed(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.await_event("crm", event="crm_received")
            c.compute("quote", depends_on=["lead"], call=Quote)
            c.compute("report", depends_on=["crm", "quote"], call=lambda crm, quote: {**crm, "quote": quote})
            c.output("report")

    return Renamed


def version_2() -> Any:
    class Renamed(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.await_event("crm_data", event="crm_received")
            c.compute("price", depends_on=["lead"], call=Quote)
            c.compute("report", depends_on=["crm_data", "price"],
                      call=lambda crm_data, price: {**crm_data, "quote": price})
            c.output("report")

    return Renamed


def _deferred_values(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: st["value"]["value"] for name, st in snapshot["states"].items()
            if isinstance(st.get("value"), dict) and st["value"].get("__ig__") == "deferred"}


def test_a_renamed_await_and_deferring_node_are_renamed_in_the_stored_wait(store: Any) -> None:
    execution_id = version_1().start(CORR, store=store, now=T0).execution_id
    versions_before = len(store.history(execution_id))
    v2 = version_2()
    report = v2.migrate(store, rename={"crm": "crm_data", "quote": "price"}, now=T0)
    assert [(e.action, dict(e.renamed)) for e in report.executions] == [
        ("migrated", {"crm": "crm_data", "quote": "price"})]

    snapshot = store.fetch(execution_id)
    waits = _deferred_values(snapshot)
    assert waits["crm_data"]["source_node"] == "crm_data"
    assert waits["crm_data"]["token"] == f"{execution_id}:crm_data"  # an await's token names its node
    assert waits["price"]["source_node"] == "price"
    assert waits["price"]["token"] == "quote-L-1"  # an executor's own token is the caller's: kept
    assert {w["source_node"] for w in waits.values()} <= {"crm_data", "price"}  # report carries the new names too
    assert '"crm"' not in json.dumps(snapshot["states"]) and '"quote"' not in json.dumps(snapshot["states"])

    restored = v2.restore_from_store(execution_id, store=store)
    view = execution_view(restored, name="Renamed")
    assert view["pending"] == [{"node": "price", "token": "quote-L-1", "payload": {"lead": "L-1"}}]
    assert view["waiting_on"] == [{"node": "crm_data", "event": "crm_received"}]

    wf = v2.deliver_event("crm_received", correlation=CORR, payload={"crm": 1}, store=store, now=T0)
    assert wf.execution.states["crm_data"].value == {"crm": 1}
    assert wf.workflow_status == "running"  # (the quote is still pending)
    done = v2.resume_from_store(execution_id, token="quote-L-1", value=42, store=store)
    assert done.result.report == {"crm": 1, "quote": 42}
    assert store.record(execution_id).status == "succeeded"

    history = store.history(execution_id)
    assert len(history) == versions_before + 3  # the migration's save, the delivery's and the resume's
    first = _deferred_values(history[0])
    assert first["crm"]["source_node"] == "crm" and first["crm"]["token"] == f"{execution_id}:crm"  # as written


def test_a_second_migrate_changes_nothing(store: Any) -> None:
    execution_id = version_1().start(CORR, store=store, now=T0).execution_id
    v2 = version_2()
    v2.migrate(store, rename={"crm": "crm_data", "quote": "price"}, now=T0)
    saved = store.record(execution_id)
    again = v2.migrate(store, rename={"crm": "crm_data", "quote": "price"}, now=T0)
    assert [e.action for e in again.executions] == ["unchanged"]
    assert store.record(execution_id).version == saved.version
