"""Deadlines at the edges of what a datetime holds: a timeout so long its deadline falls past year 9999, and
an injected clock at the ends of the range. A start must not fail on them with a bare ``OverflowError``."""

from __future__ import annotations

import datetime as dt

import pytest

import igniter_nb as ig
from igniter_nb.errors import WorkflowArgumentError
from tests.workflow.conftest import T0

CASE = {"case_id": "c-1"}


class Patient(ig.Contract):
    """An await whose deadline (10^12 s, about 31,700 years) no datetime can hold, and one with a day."""

    def define(c):
        c.correlate_by("case_id")
        c.input("case_id", type=str)
        c.await_event("reply", event="customer_replied", timeout=10**12)
        c.await_event("note", event="agent_note", timeout=86400)

        @c.compute
        def closed(reply, note):
            return {"reply": reply, "note": note}

        c.output("closed")


def test_a_deadline_past_year_9999_is_never_due(memory_store):
    wf = Patient.start(CASE, store=memory_store, now=T0)
    assert wf.workflow_status == "waiting"
    assert memory_store.record(wf.execution_id).snapshot["workflow"]["deadlines"] == {"note": "2030-01-02T12:00:00Z"}
    Patient.deliver_event("agent_note", correlation=CASE, payload="n", store=memory_store, now=T0)
    latest = dt.datetime.max.replace(tzinfo=dt.UTC)
    assert Patient.expire_due(memory_store, now=latest) == []  # the other await's deadline is the only one
    done = Patient.deliver_event("customer_replied", correlation=CASE, payload="r", store=memory_store, now=latest)
    assert done.workflow_status == "succeeded"


def test_a_start_whose_deadline_does_not_fit_records_none(memory_store):
    late = dt.datetime(9999, 12, 31, 12, 0, tzinfo=dt.UTC)  # + 1 day: past the last datetime
    wf = Patient.start(CASE, store=memory_store, now=late)
    assert wf.workflow_status == "waiting"
    assert memory_store.record(wf.execution_id).snapshot["workflow"]["deadlines"] == {}


@pytest.mark.parametrize("now", [
    dt.datetime(1, 1, 1, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=14))),  # before 0001-01-01 in UTC
    dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.timezone(-dt.timedelta(hours=23, minutes=59))),  # after 9999 in UTC
])
def test_a_clock_outside_the_utc_range_is_a_clear_argument_error_and_writes_nothing(now, memory_store):
    with pytest.raises(WorkflowArgumentError, match=r"now= .* outside the range"):
        Patient.start(CASE, store=memory_store, now=now)
    assert memory_store.list() == []
