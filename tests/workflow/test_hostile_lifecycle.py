"""Hostile use of the workflow lifecycle tools (PRODUCT §8): rename maps that collide or swap, huge and
look-alike correlation values in error messages, idempotency keys after a restart, and the operator actions on
workflows that are not in the state they expect."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.errors import StoreArgumentError
from igniter_nb.stores import MemoryStore
from tests.workflow.wf_contracts import keyed_by

T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
CORR = {"lead": "L-1"}
_failures: dict[str, int] = {}


def _fetch(a: Any) -> Any:
    if _failures.get("f", 0) > 0:
        _failures["f"] -= 1
        raise ConnectionError("upstream unavailable")
    return a


def shift(on_ea: str = "a", on_eb: str = "b", *, f: Callable[[list[Any]], Any] = list) -> Any:
    """``Shift`` awaiting ``on_ea`` (event ``ea``, 60 s) and ``on_eb`` (event ``eb``), output ``f`` =
    ``f([ea's payload, eb's payload])``. Its versions are the deploys the tests make: ``shift("b", "c")`` renames
    in a chain, ``shift("b", "a")`` swaps, ``shift(f=...)`` changes the code."""

    class Shift(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.await_event(on_ea, event="ea", timeout=60)
            c.await_event(on_eb, event="eb")
            c.compute("f", depends_on=sorted((on_ea, on_eb)), call=lambda **got: f([got[on_ea], got[on_eb]]))
            c.output("f")

    return Shift


def two_awaits() -> Any:
    """The first version; its ``f`` fails while ``_failures["f"]`` counts down."""
    return shift(f=_fetch)


@pytest.fixture(autouse=True)
def _reset() -> Any:
    _failures.clear()
    yield
    _failures.clear()


@pytest.fixture
def store() -> Any:
    return MemoryStore()


def _versions(store: Any) -> dict[str, int]:
    return {r.execution_id: r.version for r in store.list()}


# ---------------------------------------------------------------------------- migrate: rename maps
def test_a_swap_or_chain_of_names_is_refused_saying_why_and_writes_nothing(store):
    v1 = two_awaits()
    v1.start(CORR, store=store, now=T0)
    v1.deliver_event("ea", correlation=CORR, payload=1, store=store, now=T0)
    before = _versions(store)
    with pytest.raises(ig.WorkflowArgumentError, match=r"a swap or chain of names.*a second run would apply it again"):
        shift("b", "a").migrate(store, rename={"a": "b", "b": "a"}, now=T0)
    with pytest.raises(ig.WorkflowArgumentError, match=r"a swap or chain of names"):
        shift("b", "c").migrate(store, rename={"a": "b", "b": "c"}, now=T0)
    with pytest.raises(ig.WorkflowArgumentError, match=r"still has a node 'b'; rename only names the graph no "
                                                       r"longer has \[") as info:
        shift("b", "c").migrate(store, rename={"b": "b"}, now=T0)  # to itself: not a chain
    assert "swap" not in str(info.value)
    assert _versions(store) == before


def test_a_swap_deployed_in_two_steps_keeps_state_and_signals(store):
    v1 = two_awaits()
    wf = v1.start(CORR, store=store, now=T0)
    v1.deliver_event("ea", correlation=CORR, payload="crm", store=store, idempotency_key="k-a", now=T0)
    assert shift("a_tmp", "b_tmp").migrate(store, rename={"a": "a_tmp", "b": "b_tmp"}, now=T0).failed == []
    final = shift("b", "a")
    assert final.migrate(store, rename={"a_tmp": "b", "b_tmp": "a"}, now=T0).failed == []
    assert store.fetch(wf.execution_id)["workflow"]["deadlines"] == {"b": "2030-01-01T12:01:00Z"}
    again = final.deliver_event("ea", correlation=CORR, payload="crm", store=store, idempotency_key="k-a", now=T0)
    assert again.execution.store_version == store.record(wf.execution_id).version  # a retry: nothing written
    done = final.deliver_event("eb", correlation=CORR, payload="billing", store=store, now=T0)
    assert done.workflow_status == "succeeded" and done.result.f == ["crm", "billing"]


def test_a_rename_onto_a_node_the_execution_also_stores_fails_that_execution_only(store):
    v1 = two_awaits()
    wf = v1.start(CORR, store=store, now=T0)
    v1.deliver_event("ea", correlation=CORR, payload=1, store=store, now=T0)
    before = store.fetch(wf.execution_id)
    report = shift("b", "c").migrate(store, rename={"a": "b"}, now=T0)
    (entry,) = report.failed
    assert entry.execution_id == wf.execution_id and "has both 'a' and 'b'" in (entry.error or "")
    assert store.fetch(wf.execution_id) == before


def test_rename_maps_of_the_wrong_shape_name_what_is_wrong(store):
    v2 = shift("b", "c")
    with pytest.raises(ig.WorkflowArgumentError, match=r"\(str to str\), got \{1: 'b'\}"):
        v2.migrate(store, rename={1: "b"})
    with pytest.raises(ig.WorkflowArgumentError, match=r"\(str to str\), got \[\('a', 'b'\)\]"):
        v2.migrate(store, rename=[("a", "b")])
    huge = {f"gone{i}": "b" for i in range(20_000)}
    with pytest.raises(ig.WorkflowArgumentError, match=r"maps 'gone0' and 'gone1' to the same new name 'b'") as info:
        v2.migrate(store, rename=huge)
    assert len(str(info.value)) < 500
    assert v2.migrate(store, rename={}).executions == ()


# ---------------------------------------------------------------------------- correlation values in messages
def test_a_huge_correlation_value_is_shortened_in_error_messages(store):
    v1 = two_awaits()
    big = {"lead": "x" * 100_000}
    v1.start(big, store=store, now=T0)
    errors = []
    for call in (lambda: v1.deliver_event("ea", correlation={"lead": "y" * 100_000}, payload=1, store=store),
                 lambda: v1.cancel(correlation={"lead": "y" * 100_000}, store=store),
                 lambda: v1.retry_workflow(correlation={"lead": "y" * 100_000}, store=store),
                 lambda: v1.start(big, store=store),
                 lambda: v1.retry_workflow(correlation=big, store=store)):
        with pytest.raises(ig.IgniterError) as info:
            call()
        errors.append(info.value)
    for error in errors:
        assert len(str(error)) < 2_000, type(error).__name__
        assert "(100000 characters)" in str(error)
    assert errors[0].context["correlation"] == {"lead": "y" * 100_000}  # the context keeps the value itself


def test_a_html_shaped_correlation_is_an_ordinary_value(store):
    v1 = two_awaits()
    html = {"lead": "<script>alert('x')</script>&amp;"}
    wf = v1.start(html, store=store, now=T0)
    assert v1.deliver_event("ea", correlation=html, payload=1, store=store, now=T0).execution_id == wf.execution_id
    with pytest.raises(ig.WorkflowNotFoundError, match="differs in lead"):
        v1.deliver_event("ea", correlation={"lead": "<script>"}, payload=1, store=store, now=T0)


def test_unicode_normalisation_twins_are_two_workflows_and_the_not_found_error_says_why(store):
    v1 = two_awaits()
    composed, decomposed = "caf\u00e9", unicodedata.normalize("NFD", "caf\u00e9")
    first = v1.start({"lead": composed}, store=store, now=T0)
    with pytest.warns(ig.LookalikeCorrelationWarning, match="NFC") as caught:  # (docs/workflows.md)
        second = v1.start({"lead": decomposed}, store=store, now=T0)  # not a duplicate: another value
    assert caught[0].message.existing_execution_id == first.execution_id  # type: ignore[union-attr]
    assert first.execution_id != second.execution_id
    v1.cancel(correlation={"lead": decomposed}, store=store)
    assert store.record(first.execution_id).status == "waiting"  # the twin was not touched
    with pytest.raises(ig.WorkflowNotFoundError,
                       match=r"lead: the same text after Unicode normalisation \(NFC\), other code points"):
        v1.deliver_event("ea", correlation={"lead": decomposed}, payload=1, store=store, now=T0)


# ---------------------------------------------------------------------------- idempotency across workflows
def test_an_idempotency_key_is_scoped_to_one_workflow_not_to_its_correlation(store):
    v1 = two_awaits()
    old = v1.start(CORR, store=store, now=T0)
    v1.deliver_event("ea", correlation=CORR, payload=1, store=store, idempotency_key="K", now=T0)
    v1.cancel(correlation=CORR, store=store, now=T0)
    # while the cancelled workflow is the latest with the correlation, it answers for its keys
    assert v1.deliver_event("ea", correlation=CORR, payload=1, store=store, idempotency_key="K",
                            now=T0).execution_id == old.execution_id
    with pytest.raises(ig.IdempotencyConflictError, match=f"of Shift {old.execution_id} with a different payload"):
        v1.deliver_event("ea", correlation=CORR, payload=2, store=store, idempotency_key="K", now=T0)
    # a new workflow with the same correlation has a signal log of its own: "K" is a new key there
    new = v1.start(CORR, store=store, now=T0)
    got = v1.deliver_event("ea", correlation=CORR, payload=2, store=store, idempotency_key="K", now=T0)
    assert got.execution_id == new.execution_id and [s["idempotency_key"] for s in got.signals] == ["K"]
    assert len(store.fetch(old.execution_id)["workflow"]["signals"]) == 1  # the old log is untouched


# ---------------------------------------------------------------------------- operator actions in odd states
def test_cancel_then_deliver_or_cancel_again_writes_nothing(store):
    v1 = two_awaits()
    wf = v1.start(CORR, store=store, now=T0)
    v1.cancel(correlation=CORR, store=store, now=T0)
    before = store.fetch(wf.execution_id), store.record(wf.execution_id).version
    with pytest.raises(ig.WorkflowNotFoundError, match="is cancelled"):
        v1.deliver_event("ea", correlation=CORR, payload=1, store=store, idempotency_key="k", now=T0)
    with pytest.raises(ig.WorkflowNotFoundError, match="no active Shift workflow"):
        v1.cancel(correlation=CORR, store=store, now=T0)
    with pytest.raises(ig.WorkflowNotFoundError, match="is cancelled, not failed"):
        v1.retry_workflow(correlation=CORR, store=store, now=T0)
    assert (store.fetch(wf.execution_id), store.record(wf.execution_id).version) == before


def test_a_retry_whose_node_still_fails_saves_the_workflow_failed_again(store):
    v1 = two_awaits()
    _failures["f"] = 2
    wf = v1.start(CORR, store=store, now=T0)
    v1.deliver_event("ea", correlation=CORR, payload=1, store=store, now=T0)
    assert v1.deliver_event("eb", correlation=CORR, payload=2, store=store, now=T0).workflow_status == "failed"
    again = v1.retry_workflow(correlation=CORR, store=store, now=T0)
    assert again.workflow_status == "failed" and store.record(wf.execution_id).status == "failed"
    assert store.find_by_correlation("Shift", CORR) is None  # still failed: the correlation stays free
    done = v1.retry_workflow(correlation=CORR, store=store, now=T0)
    assert done.workflow_status == "succeeded" and done.result.f == [1, 2]


def test_expire_due_with_a_clock_in_the_past_or_a_naive_clock_changes_nothing(store):
    v1 = two_awaits()
    v1.start(CORR, store=store, now=T0)
    before = _versions(store)
    assert v1.expire_due(store, now=dt.datetime(1999, 1, 1, tzinfo=dt.UTC)) == []
    with pytest.raises(ig.WorkflowArgumentError, match="timezone-aware"):
        v1.expire_due(store, now=dt.datetime(2031, 1, 1))
    assert _versions(store) == before
    # an aware clock in another zone compares by its instant: 12:59+01:00 is 11:59 UTC, before the deadline
    plus_one = dt.timezone(dt.timedelta(hours=1))
    assert v1.expire_due(store, now=dt.datetime(2030, 1, 1, 13, 0, 59, tzinfo=plus_one)) == []
    assert len(v1.expire_due(store, now=dt.datetime(2030, 1, 1, 13, 1, 0, tzinfo=plus_one))) == 1


def test_a_huge_correlation_taken_by_another_workflow_is_shortened_in_the_migration_report(store):
    huge = "t" * 100_000
    old = keyed_by("lead").start({"lead": "L-1"}, store=store, now=T0)
    v2 = keyed_by("lead", "tenant")
    v2.start({"lead": "L-1", "tenant": huge}, store=store, now=T0)
    (entry,) = [e for e in v2.migrate(store, inputs={"tenant": huge}, now=T0).executions
                if e.execution_id == old.execution_id]
    assert entry.action == "failed" and entry.error.startswith("DuplicateWorkflowError")
    assert len(entry.error) < 2_000 and "characters)" in entry.error


def counted() -> Any:
    class Counted(ig.Contract):
        def define(c):
            c.correlate_by("n")
            c.input("n", type=int)
            c.await_event("a", event="ea")
            c.output("a")

    return Counted


def test_an_integer_correlation_too_long_for_text_is_a_clear_error_and_writes_nothing(store):
    flow = counted()
    huge = 10**5000  # past the interpreter's 4300-digit limit for int-to-text: no store can index it
    with pytest.raises(ig.InputError, match=r"Correlation key 'n' of Counted is an integer of more than 4300 digits"):
        flow.start({"n": huge}, store=store, now=T0)
    for call in (lambda: flow.deliver_event("ea", correlation={"n": huge}, payload=1, store=store),
                 lambda: flow.cancel(correlation={"n": huge}, store=store),
                 lambda: flow.retry_workflow(correlation={"n": huge}, store=store)):
        with pytest.raises(ig.WorkflowNotFoundError, match=r"key 'n' of Counted is an integer of more than 4300 digits"):
            call()
    assert store.list() == []
    assert flow.start({"n": 10**4000}, store=store, now=T0).workflow_status == "waiting"  # long, but it has a text
    with pytest.raises(ig.DuplicateWorkflowError, match=r"\{'n': 1000000000.*\.\.\. \(4001 digits\)\}") as info:
        flow.start({"n": 10**4000}, store=store, now=T0)
    assert len(str(info.value)) < 500
    with pytest.raises(StoreArgumentError, match=r"integer of more than 4300 digits"):
        store.find_by_correlation("Counted", {"n": huge})


def test_a_huge_idempotency_key_is_shortened_in_error_messages(store):
    v1 = two_awaits()
    key = "K" * 100_000
    v1.start(CORR, store=store, now=T0)
    v1.deliver_event("ea", correlation=CORR, payload=1, store=store, idempotency_key=key, now=T0)
    for event, payload in (("ea", 2), ("eb", 1)):
        with pytest.raises(ig.IdempotencyConflictError) as info:
            v1.deliver_event(event, correlation=CORR, payload=payload, store=store, idempotency_key=key, now=T0)
        assert len(str(info.value)) < 2_000 and "(100000 characters)" in str(info.value)
        assert info.value.context["idempotency_key"] == key


def test_a_stored_deadline_without_a_zone_is_read_as_utc(store):
    # deadlines are written in UTC ("...Z"); one stored without a zone (hand-edited, or written by another tool)
    # compared with an aware clock raised TypeError inside expire_due, which skipped it: it never timed out
    v1 = two_awaits()
    wf = v1.start(CORR, store=store, now=T0)
    record = store.record(wf.execution_id)
    snapshot = record.snapshot
    snapshot["workflow"]["deadlines"] = {"a": "2030-01-01T12:01:00"}
    store.save(snapshot, graph="Shift", correlation=CORR, status="waiting", expected_version=record.version)
    assert v1.expire_due(store, now=dt.datetime(2030, 1, 1, 12, 0, 59, tzinfo=dt.UTC)) == []
    (expired,) = v1.expire_due(store, now=dt.datetime(2030, 1, 1, 12, 1, tzinfo=dt.UTC))
    assert expired.workflow_status == "timed_out" and store.record(wf.execution_id).status == "timed_out"


def test_retry_after_a_deploy_runs_the_failed_node_with_the_new_code(store):
    v1 = two_awaits()
    _failures["f"] = 10
    wf = v1.start(CORR, store=store, now=T0)
    v1.deliver_event("ea", correlation=CORR, payload=1, store=store, idempotency_key="k-a", now=T0)
    assert v1.deliver_event("eb", correlation=CORR, payload=2, store=store, now=T0).workflow_status == "failed"
    done = shift(f=lambda got: {"fixed": got}).retry_workflow(correlation=CORR, store=store, now=T0)
    assert done.workflow_status == "succeeded" and done.result.f == {"fixed": [1, 2]}
    assert store.record(wf.execution_id).status == "succeeded"
    assert [s["idempotency_key"] for s in done.signals] == ["k-a", None]  # the delivered payloads were kept


def test_something_else_given_as_the_store_is_a_clear_error(store):
    v1 = two_awaits()
    v1.start(CORR, store=store, now=T0)
    later = T0 + dt.timedelta(hours=1)
    with pytest.raises(ig.WorkflowArgumentError, match=r"store= must be a store .*got datetime .*did you mean now="):
        v1.expire_due(later)  # the clock given where the store goes (store is expire_due's first argument)
    for call in (lambda: v1.migrate("sqlite:///workflows.db"),
                 lambda: v1.cancel(correlation=CORR, store="memory://"),
                 lambda: v1.retry_workflow(correlation=CORR, store="memory://"),
                 lambda: v1.deliver_event("ea", correlation=CORR, payload=1, store="memory://"),
                 lambda: v1.start({"lead": "L-2"}, store="memory://")):
        with pytest.raises(ig.WorkflowArgumentError, match=r"got str .*igniter_nb.stores.from_url\(url\)"):
            call()
    assert store.record(store.find_by_correlation("Shift", CORR)).version == 1 and len(store.list()) == 1
