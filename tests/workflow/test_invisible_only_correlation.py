"""A correlation value made only of invisible characters (``"\\u200b"``, ``"\\ufeff\\u200d"``, with or without
whitespace) passed the non-blank check (``str.strip()`` keeps them): ``start`` made a workflow with an identity
nobody can type. It is blank now, at start and at delivery, and the error names the key and the code points."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore

T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)


def lead_workflow() -> Any:
    class Lead(ig.Contract):
        def define(c):
            c.correlate_by("region", "lead")
            c.input("region", type=str)
            c.input("lead", type=str)
            c.await_event("a", event="ea")
            c.output("a")

    return Lead


@pytest.mark.parametrize(("value", "named"), [
    ("\u200b", "U+200B (ZERO WIDTH SPACE) at index 0"),
    ("\ufeff\u200d", "U+FEFF (ZERO WIDTH NO-BREAK SPACE) at index 0, U+200D (ZERO WIDTH JOINER) at index 1"),
    (" \u2060\t", "U+2060 (WORD JOINER) at index 1"),
    ("\u00ad\u200e\ufe0f", "U+00AD (SOFT HYPHEN) at index 0, U+200E (LEFT-TO-RIGHT MARK) at index 1, U+FE0F "
                           "(VARIATION SELECTOR-16) at index 2"),
])
def test_start_refuses_a_value_of_only_invisible_characters(value: str, named: str) -> None:
    store, wf = MemoryStore(), lead_workflow()
    with pytest.raises(ig.InputError) as info:
        wf.start({"region": "eu", "lead": value}, store=store, now=T0)
    assert str(info.value).startswith(
        f"Correlation key 'lead' of Lead is blank: it holds only invisible characters ({named})"), str(info.value)
    assert info.value.context["node"] == "lead"
    assert store.list() == []


def test_many_invisible_characters_are_counted_not_all_named() -> None:
    store, wf = MemoryStore(), lead_workflow()
    with pytest.raises(ig.InputError, match=r"at index 4 and 999995 more\)") as info:
        wf.start({"region": "eu", "lead": "\u200b" * 1_000_000}, store=store, now=T0)
    assert len(str(info.value)) < 1000
    assert store.list() == []


@pytest.mark.parametrize("value", ["L-1\u200b", "\u200bL", "é", "\u200b-", "x" * 100_000, "<b>\u200b</b>", "\u0301"])
def test_a_value_with_something_visible_is_not_blank(value: str) -> None:
    """An invisible character beside visible text (or a lone combining accent, which draws) is still a value."""
    store, wf = MemoryStore(), lead_workflow()
    started = wf.start({"region": "eu", "lead": value}, store=store, now=T0)
    assert store.record(started.execution_id).correlation == {"region": "eu", "lead": value}


def test_only_invisible_is_none_for_text_with_anything_visible() -> None:
    from igniter_nb.workflow.lookalikes import only_invisible

    assert only_invisible("L-1") is None
    assert only_invisible("\u200bL") is None
    assert only_invisible("   ") is None  # (plain whitespace: the caller's blank check already says so)
    assert only_invisible("\u200b ") == "U+200B (ZERO WIDTH SPACE) at index 0"


@pytest.mark.parametrize("call", ["deliver_event", "cancel", "retry_workflow"])
def test_a_delivery_with_only_invisible_characters_is_refused_naming_the_key(call: str) -> None:
    store, wf = MemoryStore(), lead_workflow()
    wf.start({"region": "eu", "lead": "L-1"}, store=store, now=T0)
    correlation = {"region": "eu", "lead": "\u2060\u200b"}
    with pytest.raises(ig.WorkflowNotFoundError) as info:
        if call == "deliver_event":
            wf.deliver_event("ea", correlation=correlation, payload=1, store=store, now=T0)
        else:
            getattr(wf, call)(correlation=correlation, store=store, now=T0)
    assert ("(blank lead: it holds only invisible characters (U+2060 (WORD JOINER) at index 0, U+200B "
            "(ZERO WIDTH SPACE) at index 1))") in str(info.value), str(info.value)
    assert [r.version for r in store.list()] == [1]  # nothing written


def test_an_event_the_graph_does_not_await_with_only_invisible_characters_is_still_a_mismatch() -> None:
    wf = lead_workflow()
    with pytest.raises(ig.AwaitedEventMismatchError):
        wf.deliver_event("nope", correlation={"region": "eu", "lead": "\u200b"}, payload=1, store=MemoryStore(),
                         now=T0)


def test_two_keys_of_only_invisible_characters_are_each_named() -> None:
    store, wf = MemoryStore(), lead_workflow()
    with pytest.raises(ig.WorkflowNotFoundError) as info:
        wf.cancel(correlation={"lead": "\u200b", "region": "\ufeff"}, store=store, now=T0)
    assert ("(blank lead: it holds only invisible characters (U+200B (ZERO WIDTH SPACE) at index 0), region: it "
            "holds only invisible characters (U+FEFF (ZERO WIDTH NO-BREAK SPACE) at index 0))") in str(info.value)


def test_a_stored_lookalike_is_not_searched_for_a_blank_value(store: Any) -> None:
    """Every store kind: the refusal comes before any lookup, and nothing is written."""
    wf = lead_workflow()
    with pytest.raises(ig.InputError, match="holds only invisible characters"):
        wf.start({"region": "eu", "lead": "\u200b\u200b"}, store=store, now=T0)
    assert store.list() == []
