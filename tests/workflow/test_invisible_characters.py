"""Correlation values and idempotency keys that differ from the stored ones only by invisible characters
(U+200B, U+200C, U+200D, U+2060, U+FEFF, soft hyphens, bidirectional marks...) print alike: a delivery that missed
a workflow by one got a plain "no active workflow" (or "already delivered") that did not say why. Matching stays
exact; the errors now name the key, the index and the code point, as they already did for NFC twins."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from igniter_nb.workflow.lookalikes import LONGEST, lookalike

T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)


def two_awaits() -> Any:
    class Twin(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.await_event("a", event="ea")
            c.await_event("b", event="eb")
            c.compute("f", depends_on=["a", "b"], call=lambda a, b: [a, b])
            c.output("f")

    return Twin


def test_a_delivery_with_a_zero_width_space_the_workflow_lacks_says_where(store: Any) -> None:
    wf = two_awaits()
    started = wf.start({"lead": "L-1"}, store=store, now=T0)
    with pytest.raises(ig.WorkflowNotFoundError) as info:
        wf.deliver_event("ea", correlation={"lead": "L\u200b-1"}, payload=1, store=store, now=T0)
    text = str(info.value)
    assert ("differs in lead: the same text but for invisible characters: the given value has U+200B "
            "(ZERO WIDTH SPACE) at index 1)") in text, text
    assert info.value.context["nearest"][0]["execution_id"] == started.execution_id
    assert store.record(started.execution_id).version == 1  # matching is exact: nothing delivered


def test_a_workflow_with_a_zero_width_space_missed_by_a_delivery_without_it_says_where(store: Any) -> None:
    wf = two_awaits()
    started = wf.start({"lead": "L-1\u2060"}, store=store, now=T0)
    with pytest.raises(ig.WorkflowNotFoundError,
                       match=r"the stored value has U\+2060 \(WORD JOINER\) at index 3") as info:
        wf.cancel(correlation={"lead": "L-1"}, store=store, now=T0)
    assert info.value.context["nearest"][0]["execution_id"] == started.execution_id
    assert store.record(started.execution_id).status == "waiting"


def test_the_twin_is_named_first_among_many_active_workflows() -> None:
    """Every candidate differs in the one key: the lookalike comes first however the ids sort, and a twin without
    the invisible character is found by a direct lookup even past the thousand the listing reads."""
    store, wf = MemoryStore(), two_awaits()
    plain = wf.start({"lead": "Y-9"}, store=store, now=T0)  # saved first: past the 1000 newest the listing reads
    for i in range(1_005):
        wf.start({"lead": f"A-{i:04d}"}, store=store, now=T0)
    hidden = wf.start({"lead": "Z\ufeff-9"}, store=store, now=T0)
    assert plain.execution_id not in {eid for eid, _ in store.correlations("Twin", active_only=True, limit=1000)}
    with pytest.raises(ig.WorkflowNotFoundError) as info:
        wf.deliver_event("ea", correlation={"lead": "Z-9"}, payload=1, store=store)
    assert info.value.context["nearest"][0]["execution_id"] == hidden.execution_id
    with pytest.raises(ig.WorkflowNotFoundError) as info:
        wf.deliver_event("ea", correlation={"lead": "Y\u200c-9\u200d"}, payload=1, store=store)
    assert info.value.context["nearest"][0]["execution_id"] == plain.execution_id
    assert "the given value has U+200C (ZERO WIDTH NON-JOINER) at index 1, U+200D (ZERO WIDTH JOINER) at index 4" \
        in str(info.value)


def test_an_idempotency_key_with_a_trailing_byte_order_mark_is_a_duplicate_that_says_where(store: Any) -> None:
    wf = two_awaits()
    started = wf.start({"lead": "L-1"}, store=store, now=T0)
    wf.deliver_event("ea", correlation={"lead": "L-1"}, payload=1, store=store, idempotency_key="evt-1", now=T0)
    with pytest.raises(ig.DuplicateSignalError) as info:
        wf.deliver_event("ea", correlation={"lead": "L-1"}, payload=1, store=store, idempotency_key="evt-1\ufeff",
                         now=T0)
    text = str(info.value)
    assert ("idempotency key 'evt-1'; the idempotency key given, 'evt-1\\ufeff', is not the recorded one: the same "
            "text but for invisible characters: the given value has U+FEFF (ZERO WIDTH NO-BREAK SPACE) at index 5"
            ) in text, text
    assert store.record(started.execution_id).version == 2  # the second delivery wrote nothing
    # the exact key is still a retry
    assert wf.deliver_event("ea", correlation={"lead": "L-1"}, payload=1, store=store, idempotency_key="evt-1",
                            now=T0).execution_id == started.execution_id


def test_a_lookalike_key_of_a_finished_workflow_says_where_too() -> None:
    """The latest (cancelled) workflow with the correlation still answers for its signals."""
    store, wf = MemoryStore(), two_awaits()
    wf.start({"lead": "L-1"}, store=store, now=T0)
    wf.deliver_event("ea", correlation={"lead": "L-1"}, payload=1, store=store, idempotency_key="\u200bk", now=T0)
    wf.cancel(correlation={"lead": "L-1"}, store=store, now=T0)
    with pytest.raises(ig.DuplicateSignalError,
                       match=r"not the recorded one: .*the stored value has U\+200B \(ZERO WIDTH SPACE\) at index 0"):
        wf.deliver_event("ea", correlation={"lead": "L-1"}, payload=1, store=store, idempotency_key="k", now=T0)


@pytest.mark.parametrize(("given", "stored", "expected"), [
    ("<b>\u200b</b>", "<b></b>", "the given value has U+200B (ZERO WIDTH SPACE) at index 3"),
    ("a\u00adb", "ab", "the given value has U+00AD (SOFT HYPHEN) at index 1"),
    ("ab", "\u202eab", "the stored value has U+202E (RIGHT-TO-LEFT OVERRIDE) at index 0"),
    ("x" + "\u200b" * 7, "x", "at index 5 and 2 more"),
    ("cafe\u0301\u200b", "caf\u00e9", "the same text after Unicode normalisation (NFC), other code points and "
                                      "invisible characters: the given value has U+200B"),
])
def test_lookalike_names_each_invisible_character(given: str, stored: str, expected: str) -> None:
    assert expected in (lookalike(given, stored) or "")


@pytest.mark.parametrize(("given", "stored"), [
    ("ab", "ab"), ("ab", "ac"), ("a b", "a\u00a0b"), (1, "1"), ("\u200b", 0), (None, None),
    ("x" * LONGEST + "\u200b", "x" * LONGEST),  # too long to compare: said only to differ
    ("é" * 1_000_000, "e" * 1_000_000),
])
def test_values_that_do_not_only_look_different_are_not_lookalikes(given: Any, stored: Any) -> None:
    assert lookalike(given, stored) is None


def test_a_huge_lookalike_correlation_among_many_stays_bounded() -> None:
    store, wf = MemoryStore(), two_awaits()
    for i in range(50):
        wf.start({"lead": "é" * 100_000 + str(i)}, store=store, now=T0)
    with pytest.raises(ig.WorkflowNotFoundError) as info:
        wf.deliver_event("ea", correlation={"lead": "é" * 100_000 + "\u200b7"}, payload=1, store=store)
    assert len(str(info.value)) < 2_000
