"""``ig.nb.start_or_restore`` of a workflow stored before ``start`` refused control characters in correlation
values: a notebook cell run again with the value it started the workflow with (``"L-1\\n"``, a line read with its
newline) raised the new ``InputError`` instead of restoring the stored workflow, which deliveries still reach by
that exact value. It restores it now; a value no stored workflow has is still refused, by ``start``."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.workflow.test_control_chars import T0, _stored_before_the_rule, lead_workflow


def test_start_or_restore_restores_a_workflow_stored_with_a_control_character(
        monkeypatch: pytest.MonkeyPatch) -> None:
    store, wf = MemoryStore(), lead_workflow()
    old = _stored_before_the_rule(monkeypatch, wf, store, "L-1\n")
    again = ig.nb.start_or_restore(wf, {"region": "eu", "lead": "L-1\n"}, store=store, now=T0)
    assert again.execution_id == old.execution_id
    assert len(store.list()) == 1


def test_start_or_restore_still_refuses_a_new_value_with_a_control_character() -> None:
    store, wf = MemoryStore(), lead_workflow()
    with pytest.raises(ig.InputError, match=r"holds the control character \\x0a \(LF\) at index 3"):
        ig.nb.start_or_restore(wf, {"region": "eu", "lead": "L-1\n"}, store=store, now=T0)
    assert store.list() == []
