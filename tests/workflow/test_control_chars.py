"""Correlation values holding control characters — C0 (``\\x00``-``\\x1f``: NUL, tab, newline, escape), DEL
(``\\x7f``) and C1 (``\\x80``-``\\x9f``) — were taken by ``start``: a workflow keyed by ``"L-1\\n"`` (a line read
with its newline) or ``"L-1\\x1b[0m"`` (pasted from a terminal) that no sender would ever write again. ``start``
refuses them now, naming the key, the character as an escape and its index; a delivery still matches exactly (a
workflow stored before the rule stays reachable), and its not-found error names the control character."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from igniter_nb.workflow import correlation as correlation_module

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


@pytest.mark.parametrize(("value", "escape", "index"), [
    ("\x00L-1", "\\x00 (NUL)", 0),
    ("L-1\n", "\\x0a (LF)", 3),
    ("L\t1", "\\x09 (HT)", 1),
    ("L-1\r\n", "\\x0d (CR)", 3),
    ("L-1\x1b[0m", "\\x1b (ESC)", 3),
    ("L-1\x7f", "\\x7f (DEL)", 3),
    ("L-\x851", "\\x85 (C1)", 2),
    ("é\x9f", "\\x9f (C1)", 1),
    (" \x00 ", "\\x00 (NUL)", 1),
])
def test_start_refuses_a_control_character_naming_the_key_the_escape_and_the_index(value: str, escape: str,
                                                                                   index: int) -> None:
    store, wf = MemoryStore(), lead_workflow()
    with pytest.raises(ig.InputError) as info:
        wf.start({"region": "eu", "lead": value}, store=store, now=T0)
    assert str(info.value).startswith(
        f"Correlation key 'lead' of Lead holds the control character {escape} at index {index}: correlation values "
        "may not hold control characters (C0, DEL, C1); remove it"), str(info.value)
    assert info.value.context["node"] == "lead"
    assert (info.value.context["character"], info.value.context["index"]) == (escape.split()[0], index)
    assert store.list() == []


@pytest.mark.parametrize("value", ["L-1", "L 1", "é-1", "L-1\u200b", "\xa0L", "x" * 10_000])
def test_values_without_control_characters_still_start(value: str) -> None:
    """A space, a no-break space (U+00A0, just past C1) or an invisible character beside text are not control
    characters."""
    store, wf = MemoryStore(), lead_workflow()
    started = wf.start({"region": "eu", "lead": value}, store=store, now=T0)
    assert store.record(started.execution_id).correlation == {"region": "eu", "lead": value}


def test_only_whitespace_controls_are_still_called_blank() -> None:
    with pytest.raises(ig.InputError, match="Correlation key 'lead' of Lead is blank"):
        lead_workflow().start({"region": "eu", "lead": "\t\n"}, store=MemoryStore(), now=T0)


def test_a_delivery_with_a_control_character_misses_and_its_error_names_it() -> None:
    store, wf = MemoryStore(), lead_workflow()
    wf.start({"region": "eu", "lead": "L-1"}, store=store, now=T0)
    with pytest.raises(ig.WorkflowNotFoundError) as info:
        wf.deliver_event("ea", correlation={"region": "eu", "lead": "L-1\n"}, payload=1, store=store, now=T0)
    message = str(info.value)
    assert "'lead': 'L-1\\n' (with the control character \\x0a (LF) at index 3)" in message, message
    assert ("nearest active: {'region': 'eu', 'lead': 'L-1'} (differs in lead: the same text but for control "
            "characters: the given value has the control character \\x0a (LF) at index 3)") in message, message


def test_the_not_found_error_names_the_control_character_with_no_active_workflow_near() -> None:
    store, wf = MemoryStore(), lead_workflow()
    with pytest.raises(ig.WorkflowNotFoundError) as info:
        wf.deliver_event("ea", correlation={"region": "eu", "lead": "L-9\x1b"}, payload=1, store=store, now=T0)
    assert "(with the control character \\x1b (ESC) at index 3)" in str(info.value), str(info.value)


def _stored_before_the_rule(monkeypatch: pytest.MonkeyPatch, wf: Any, store: Any, lead: str) -> Any:
    """A workflow as a start before this change stored it: the engine's correlation read without the new check."""
    from igniter_nb.workflow import engine

    with monkeypatch.context() as patched:
        patched.setattr(engine, "correlation_from_inputs",
                        functools.partial(correlation_module.correlation_from_inputs, refuse_control=False))
        return wf.start({"region": "eu", "lead": lead}, store=store, now=T0)


def test_a_workflow_stored_with_a_control_character_stays_reachable_by_its_exact_value(
        monkeypatch: pytest.MonkeyPatch) -> None:
    store, wf = MemoryStore(), lead_workflow()
    old = _stored_before_the_rule(monkeypatch, wf, store, "L-2\x1b[0m")
    with pytest.raises(ig.WorkflowNotFoundError) as info:  # the plain spelling is another value: matching is exact
        wf.deliver_event("ea", correlation={"region": "eu", "lead": "L-2[0m"}, payload=1, store=store, now=T0)
    assert ("the same text but for control characters: the stored value has the control character \\x1b (ESC) at "
            "index 3") in str(info.value), str(info.value)
    delivered = wf.deliver_event("ea", correlation={"region": "eu", "lead": "L-2\x1b[0m"}, payload=1, store=store,
                                 now=T0)
    assert delivered.execution_id == old.execution_id and delivered.workflow_status == "succeeded"


def test_many_control_characters_are_counted_not_all_named() -> None:
    store, wf = MemoryStore(), lead_workflow()
    with pytest.raises(ig.WorkflowNotFoundError) as info:
        wf.deliver_event("ea", correlation={"region": "eu", "lead": "L" + "\x00" * 100_000}, payload=1, store=store,
                         now=T0)
    assert "at index 5 and 99995 more" in str(info.value)
    assert len(str(info.value)) < 2000


def test_migrate_keeps_a_stored_control_character_when_a_deploy_adds_a_correlation_key(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``migrate`` reads the correlation again from the stored inputs when the keys change: the new rule must not
    strand a workflow an earlier release stored with a control character (a new key's value is still checked)."""
    from tests.workflow.wf_contracts import keyed_by

    store = MemoryStore()
    v1, v2 = keyed_by("lead"), keyed_by("lead", "tenant")
    with monkeypatch.context() as patched:
        from igniter_nb.workflow import engine

        patched.setattr(engine, "correlation_from_inputs",
                        functools.partial(correlation_module.correlation_from_inputs, refuse_control=False))
        old = v1.start({"lead": "L-3\n"}, store=store, now=T0)
    report = v2.migrate(store, inputs={"tenant": "acme"}, now=T0)
    assert [e.action for e in report.executions] == ["migrated"], [e.error for e in report.executions]
    assert store.record(old.execution_id).correlation == {"lead": "L-3\n", "tenant": "acme"}
    done = v2.deliver_event("crm_received", correlation={"lead": "L-3\n", "tenant": "acme"}, payload=1, store=store,
                            now=T0)
    assert done.execution_id == old.execution_id
