"""Deploys that change what a node is, or the correlation keys, while workflows wait (hostile-user trial): a
rename across node kinds is refused, a rollback await -> compute -> await delivers, and workflows started before
a correlation key was added are found again after ``migrate(inputs=...)``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

import igniter_nb as ig

T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
CORR = {"lead": "L-1"}


def version_1() -> Any:
    class Onboarding(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
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
    class Onboarding(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.compute("crm", depends_on=["lead"], call=lambda lead: {"name": f"computed-{lead}"})
            c.await_event("billing", event="billing_received")
            c.await_event("approval", event="approved")
            c.compute("score", depends_on=["lead"], call=lambda lead: len(lead))
            c.compute("report", depends_on=["crm", "billing"], call=lambda crm, billing: {**crm, **billing})
            c.output("report")
            c.output("score")
            c.output("approval")

    return Onboarding


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
