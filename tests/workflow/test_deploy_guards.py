"""Deploys that change what a node is, or the correlation keys, while workflows wait (hostile-user trial): a
rename across node kinds is refused, a rollback await -> compute -> await delivers, and workflows started before
a correlation key was added are found again after ``migrate(inputs=...)``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

import igniter_nb as ig
from tests.workflow.wf_contracts import keyed_by

T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
CORR = {"lead": "L-1"}


def version_1(*, crm_computed: bool = False) -> Any:
    """``crm_computed``: the version 2 whose await ``crm`` is now a compute of the same name (version 1 again is
    the rollback)."""

    class Onboarding(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            if crm_computed:
                c.compute("crm", depends_on=["lead"], call=lambda lead: {"name": f"computed-{lead}"})
            else:
                c.await_event("crm", event="crm_received")
            c.await_event("billing", event="billing_received")
            c.await_event("approval", event="approved")
            c.compute("score", depends_on=["lead"], call=lambda lead: len(lead))
            c.compute("report", depends_on=["crm", "billing"], call=lambda crm, billing: {**crm, **billing})
            c.output("report")
            c.output("score")
            c.output("approval")

    return Onboarding


def version_2_kinds_swapped() -> Any:
    """The await ``crm`` is now the compute ``crm_data``; the compute ``score`` is now the await ``rating``."""

    class Onboarding(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.compute("crm_data", depends_on=["lead"], call=lambda lead: {"name": f"crm-{lead}"})
            c.await_event("billing", event="billing_received")
            c.await_event("rating", event="rated")
            c.await_event("approval", event="approved")
            c.compute("report", depends_on=["crm_data", "billing"],
                      call=lambda crm_data, billing: {**crm_data, **billing})
            c.output("report")
            c.output("rating")
            c.output("approval")

    return Onboarding


def version_2_crm_computed() -> Any:
    return version_1(crm_computed=True)


def _stored(store: Any) -> list[tuple[str, int, Any]]:
    return sorted((r.execution_id, r.version, store.fetch(r.execution_id)) for r in store.list())


@pytest.mark.parametrize(("rename", "old", "was", "new", "now"), [
    ({"crm": "crm_data"}, "crm", "an await (of event 'crm_received')", "crm_data", "a compute"),
    ({"score": "rating"}, "score", "a compute", "rating", "an await (of event 'rated')"),
], ids=["await-to-compute", "compute-to-await"])
def test_a_rename_across_node_kinds_is_refused_and_writes_nothing(store, rename, old, was, new, now):
    # accepted: the compute `crm_data` kept the delivered payload and the signal log named it, a compute; the
    # await `rating` was `succeeded` with a value nothing delivered
    v1 = version_1()
    wf = v1.start(CORR, store=store, now=T0)
    v1.deliver_event("crm_received", correlation=CORR, payload={"name": "Acme"}, store=store, now=T0)
    v1.start({"lead": "L-2"}, store=store, now=T0)
    before = _stored(store)
    v2 = version_2_kinds_swapped()
    for dry_run in (True, False):
        with pytest.raises(ig.WorkflowArgumentError, match=(
                rf"rename=\{{'{old}': '{new}'\}} changes a node's kind: '{old}' was {re.escape(was)} in "
                rf"Onboarding execution .+, and '{new}' is {re.escape(now)}: .*Nothing was migrated")) as info:
            v2.migrate(store, rename=rename, dry_run=dry_run, now=T0)
        assert info.value.context["node"] == new and info.value.context["renamed_from"] == old
        assert info.value.context["argument"] == "rename"
    assert info.value.context["stored_kind"] == ("await" if old == "crm" else "compute")
    assert _stored(store) == before  # read back: nothing written
    assert store.record(wf.execution_id).status == "waiting"


def test_a_rename_across_kinds_is_refused_only_where_the_node_was_stored(store):
    # a workflow that never stored `crm` (none here) is no reason to refuse; an await renamed onto an await is fine
    v1 = version_1()
    v1.start(CORR, store=store, now=T0)
    report = version_2_kinds_swapped().migrate(store, now=T0)  # no rename: the kinds change as on restore
    assert [e.action for e in report.executions] == ["migrated"]


def test_a_rollback_await_compute_await_delivers_the_await_again(store):
    # v1 waits for crm; the v2 deploy computes crm (and report from it) and saves without a migrate; the rollback
    # to v1 restored crm `succeeded` with the computed value, so it waited for nothing and its delivery raised a
    # bare ResolutionError("Node 'crm' is not pending (it is succeeded)")
    wf = version_1().start(CORR, store=store, now=T0)
    v2 = version_2_crm_computed()
    mid = v2.deliver_event("billing_received", correlation=CORR, payload={"mrr": 5}, store=store, now=T0)
    assert mid.workflow_status == "waiting" and mid.result.report == {"name": "computed-L-1", "mrr": 5}
    v3 = version_1()  # the rollback
    got = v3.deliver_event("crm_received", correlation=CORR, payload={"name": "Acme"}, store=store, now=T0,
                           idempotency_key="crm-1")
    assert got.result.report == {"name": "Acme", "mrr": 5}  # the delivered payload, not the computed value
    assert got.workflow_status == "waiting" and [s["node"] for s in got.signals] == ["billing", "crm"]
    (changed,) = [e for e in got.events if e.type == "graph_changed" and "computed_under_another_graph" in e.payload]
    assert changed.payload == {"removed": ["crm"], "removed_awaits": [], "computed_under_another_graph": ["crm"]}
    again = v3.deliver_event("crm_received", correlation=CORR, payload={"name": "Acme"}, store=store, now=T0,
                             idempotency_key="crm-1")  # a retry of the webhook: answered, nothing written
    assert again.execution.store_version == got.execution.store_version
    with pytest.raises(ig.DuplicateSignalError, match="already delivered"):
        v3.deliver_event("crm_received", correlation=CORR, payload={"name": "Other"}, store=store, now=T0)
    done = v3.deliver_event("approved", correlation=CORR, payload=True, store=store, now=T0)
    assert done.workflow_status == "succeeded" and done.result.report == {"name": "Acme", "mrr": 5}
    assert store.record(wf.execution_id).status == "succeeded"


def test_workflows_started_before_a_correlation_key_was_added_are_found_again_after_migrate_inputs(store):
    # deliver_event and cancel need exactly the graph's keys, so the old workflows (correlation {lead}) could not be
    # addressed at all, and migrate had no way to give them the new key: they waited for ever
    v1 = keyed_by("lead")
    first = v1.start({"lead": "L-1"}, store=store, now=T0)
    second = v1.start({"lead": "L-2"}, store=store, now=T0)
    v2 = keyed_by("lead", "tenant")
    with pytest.raises(ig.WorkflowNotFoundError, match=r"missing tenant"):
        v2.deliver_event("crm_received", correlation={"lead": "L-1"}, payload=1, store=store, now=T0)
    with pytest.raises(ig.WorkflowNotFoundError, match=re.escape(
            "nearest active: {'lead': 'L-1'} (differs in tenant: not in its correlation), {'lead': 'L-2'} (differs in "
            "lead, tenant: not in its correlation); a workflow started before a deploy added a correlation key lacks "
            "it: give old workflows a value with Signup.migrate(store, inputs={'tenant': ...})")):
        v2.deliver_event("crm_received", correlation={"lead": "L-1", "tenant": "acme"}, payload=1, store=store, now=T0)
    before = _stored(store)
    report = v2.migrate(store, now=T0)  # no value for the new key: said, nothing written
    assert [e.action for e in report.executions] == ["failed", "failed"]
    assert all(re.search(r"correlation key 'tenant' of Signup has no value in execution .+, started before a deploy "
                         r"added the key \(its correlation: \{'lead': 'L-[12]'\}\): give old workflows a value with "
                         r"Signup.migrate\(store, inputs=\{'tenant': ...\}\)", e.error) for e in report.executions)
    dry = v2.migrate(store, inputs={"tenant": "acme"}, dry_run=True, now=T0)
    assert {e.action for e in dry.executions} == {"would migrate"}
    assert {e.correlation["tenant"] for e in dry.executions} == {"acme"}
    assert _stored(store) == before
    report = v2.migrate(store, inputs=lambda stored: {"tenant": f"t-{stored['lead']}"}, now=T0)  # one per workflow
    by_id = {e.execution_id: e for e in report.executions}
    assert by_id[first.execution_id].action == "migrated" and by_id[first.execution_id].inputs == ("tenant",)
    assert by_id[first.execution_id].correlation == {"lead": "L-1", "tenant": "t-L-1"}
    assert store.record(second.execution_id).correlation == {"lead": "L-2", "tenant": "t-L-2"}
    done = v2.deliver_event("crm_received", correlation={"lead": "L-1", "tenant": "t-L-1"}, payload=1, store=store,
                            now=T0)
    assert done.execution_id == first.execution_id and done.workflow_status == "succeeded"
    assert done.result.crm == 1 and done.execution.inputs["tenant"] == "t-L-1"
    (migrated,) = [e for e in done.events if e.type == "workflow_migrated"]
    assert migrated.payload["inputs"] == ["tenant"] and migrated.payload["correlation"]["tenant"] == "t-L-1"
    cancelled = v2.cancel(correlation={"lead": "L-2", "tenant": "t-L-2"}, store=store, now=T0)
    assert cancelled.execution_id == second.execution_id and cancelled.workflow_status == "cancelled"
    assert [e.action for e in v2.migrate(store, inputs={"tenant": "other"}, include_finished=True,
                                         now=T0).executions] == ["unchanged", "unchanged"]  # never changes an input


def test_migrate_inputs_are_checked(store):
    keyed_by("lead").start({"lead": "L-1"}, store=store, now=T0)
    v2 = keyed_by("lead", "tenant")
    before = _stored(store)
    with pytest.raises(ig.WorkflowArgumentError, match=r"inputs= names 'crm', which is not an input of Signup "
                                                       r"\(its inputs: lead, tenant\)"):
        v2.migrate(store, inputs={"crm": 1}, now=T0)
    with pytest.raises(ig.WorkflowArgumentError, match=r"inputs= must map input names to values"):
        v2.migrate(store, inputs=["tenant"], now=T0)
    (entry,) = v2.migrate(store, inputs={"tenant": 5}, now=T0).executions  # the input's declared type
    assert entry.action == "failed" and entry.error.startswith("InputError: Input 'tenant'")
    (entry,) = v2.migrate(store, inputs=lambda stored: {"tenant": stored["nope"]}, now=T0).executions
    assert entry.action == "failed" and entry.error.startswith("WorkflowArgumentError: inputs= raised KeyError")
    (entry,) = v2.migrate(store, inputs={"tenant": " "}, now=T0).executions
    assert entry.action == "failed" and "Correlation key 'tenant' of Signup is blank" in entry.error
    assert _stored(store) == before


def test_migrate_inputs_never_takes_another_active_workflows_correlation(store):
    old = keyed_by("lead").start({"lead": "L-1"}, store=store, now=T0)
    v2 = keyed_by("lead", "tenant")
    new = v2.start({"lead": "L-1", "tenant": "acme"}, store=store, now=T0)  # started under the new keys meanwhile
    before = store.fetch(old.execution_id)
    (entry,) = [e for e in v2.migrate(store, inputs={"tenant": "acme"}, now=T0).executions
                if e.execution_id == old.execution_id]
    assert entry.action == "failed" and entry.error.startswith("DuplicateWorkflowError")
    assert new.execution_id in entry.error
    assert store.fetch(old.execution_id) == before and store.record(old.execution_id).correlation == {"lead": "L-1"}


def test_a_correlation_key_removed_by_a_deploy_is_dropped_by_migrate(store):
    wf = keyed_by("lead", "tenant").start({"lead": "L-1", "tenant": "acme"}, store=store, now=T0)
    v2 = keyed_by("lead")
    (entry,) = v2.migrate(store, now=T0).executions
    assert entry.action == "migrated" and entry.correlation == {"lead": "L-1"}
    done = v2.deliver_event("crm_received", correlation={"lead": "L-1"}, payload=2, store=store, now=T0)
    assert done.execution_id == wf.execution_id and done.workflow_status == "succeeded"


def test_an_await_given_its_value_by_its_token_is_not_overwritten_by_a_delivery(store):
    # no signal in force either, but its value was given to it as an await (resume_from_store): a delivery of its
    # event raised a bare ResolutionError("Node 'crm' is not pending"), and must not replace the value
    v1 = version_1()
    wf = v1.start(CORR, store=store, now=T0)
    token = wf.execution.states["crm"].value.token
    v1.resume_from_store(wf.execution_id, token, {"name": "by-token"}, store=store)
    before = _stored(store)
    with pytest.raises(ig.DuplicateSignalError, match=r"await 'crm' of Onboarding .+ already has its value, given by "
                                                      r"its token .+: event 'crm_received' is not applied") as info:
        v1.deliver_event("crm_received", correlation=CORR, payload={"name": "Acme"}, store=store, now=T0)
    assert info.value.context["node"] == "crm" and info.value.context["execution_id"] == wf.execution_id
    assert _stored(store) == before


def test_after_a_rollback_await_compute_await_the_await_is_listed_as_waiting_before_its_delivery(store):
    # the restore kept crm `succeeded` with the computed value (the recorded awaits still matched the graph), so
    # until a delivery came waiting_on and the diagnostics listed only the other awaits
    wf = version_1().start(CORR, store=store, now=T0)
    version_2_crm_computed().deliver_event("billing_received", correlation=CORR, payload={"mrr": 5}, store=store,
                                           now=T0)
    before = _stored(store)
    rolled_back = version_1().restore_from_store(wf.execution_id, store=store)
    waiting = rolled_back.diagnostics.to_dict()["waiting_on"]
    assert {"node": "crm", "event": "crm_received"} in waiting
    ex = rolled_back.execution
    assert ex.states["crm"].status == "waiting"
    assert ex.states["report"].status in ("stale", "waiting")  # computed from the old crm: not kept as succeeded
    from igniter_nb.workflow.engine import waiting_events

    assert {"node": "crm", "event": "crm_received"} in waiting_events(ex)
    (changed,) = [e for e in rolled_back.events if "computed_under_another_graph" in e.payload]
    assert changed.type == "graph_changed" and changed.payload["computed_under_another_graph"] == ["crm"]
    assert _stored(store) == before  # a restore writes nothing


def test_a_rollback_change_is_logged_once_per_read_and_once_in_the_log_a_save_keeps(store):
    """Review item: "graph_changed is emitted on every restore until the next save, so reading twice logs it twice".
    Each read restores a fresh execution whose log holds the change once, under the same seq; a read writes
    nothing; the first save (here a delivery) keeps it once, and later restores, finding the await waiting, add
    nothing."""
    wf = version_1().start(CORR, store=store, now=T0)
    version_2_crm_computed().deliver_event("billing_received", correlation=CORR, payload={"mrr": 5}, store=store,
                                           now=T0)
    before = _stored(store)

    def rollback_changes(contract: Any) -> list[tuple[int, Any]]:
        return [(e.seq, e.payload) for e in contract.events
                if e.type == "graph_changed" and "computed_under_another_graph" in e.payload]

    first = version_1().restore_from_store(wf.execution_id, store=store)
    second = version_1().restore_from_store(wf.execution_id, store=store)
    (logged,) = rollback_changes(first)
    assert rollback_changes(second) == [logged]  # the same event, once, in each read
    assert rollback_changes(first) == [logged]  # the second read added nothing to the first
    assert _stored(store) == before  # reads write nothing
    version_1().deliver_event("approved", correlation=CORR, payload={"ok": True}, store=store, now=T0)
    saved = store.fetch(wf.execution_id)["events"]
    assert [e["seq"] for e in saved if e["type"] == "graph_changed"
            and "computed_under_another_graph" in (e.get("payload") or {})] == [logged[0]]
    assert rollback_changes(version_1().restore_from_store(wf.execution_id, store=store)) == [logged]
