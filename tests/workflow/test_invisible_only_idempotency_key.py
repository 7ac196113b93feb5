"""An idempotency key of invisible characters only (``"\\u200b"``, ``"\\ufeff"``) passed the non-blank check
(``str.strip()`` keeps them) and was recorded: a key nobody can type or tell from another. It is refused as blank,
as a correlation value of the same characters is (``workflow/lookalikes.only_invisible``), naming the code points;
nothing is written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.errors import WorkflowArgumentError
from igniter_nb.stores import MemoryStore

T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)


def lead_workflow() -> Any:
    class Lead(ig.Contract):
        def define(c):
            c.correlate_by("lead")
            c.input("lead", type=str)
            c.await_event("a", event="ea")
            c.output("a")

    return Lead


@pytest.mark.parametrize(("key", "named"), [
    ("\u200b", "U+200B (ZERO WIDTH SPACE) at index 0"),
    ("\ufeff", "U+FEFF (ZERO WIDTH NO-BREAK SPACE) at index 0"),
    (" \u2060\t\u200d", "U+2060 (WORD JOINER) at index 1, U+200D (ZERO WIDTH JOINER) at index 3"),
])
def test_a_key_of_only_invisible_characters_is_refused_naming_them(key: str, named: str) -> None:
    store, wf = MemoryStore(), lead_workflow()
    wf.start({"lead": "L-1"}, store=store, now=T0)
    before = [(r.execution_id, r.version) for r in store.list()]
    with pytest.raises(WorkflowArgumentError) as info:
        wf.deliver_event("ea", correlation={"lead": "L-1"}, payload=1, store=store, now=T0, idempotency_key=key)
    text = str(info.value)
    assert text.startswith(f"idempotency_key must be a non-empty string, got str {key!r}: it holds only "
                           f"invisible characters ({named})"), text
    assert info.value.context["argument"] == "idempotency_key"
    assert [(r.execution_id, r.version) for r in store.list()] == before  # nothing written


def test_many_invisible_characters_are_counted_and_the_message_stays_short() -> None:
    wf = lead_workflow()
    with pytest.raises(WorkflowArgumentError) as info:
        wf.deliver_event("ea", correlation={"lead": "L-1"}, payload=1, store=MemoryStore(), now=T0,
                         idempotency_key="\u200b" * 100_000)
    assert "and 99995 more" in str(info.value) and len(str(info.value)) < 800


@pytest.mark.parametrize("key", ["evt-1\u200b", "\u200bé", "\ufeffk"])
def test_a_key_with_anything_visible_is_accepted(key: str) -> None:
    store, wf = MemoryStore(), lead_workflow()
    wf.start({"lead": "L-1"}, store=store, now=T0)
    wf.deliver_event("ea", correlation={"lead": "L-1"}, payload=1, store=store, now=T0, idempotency_key=key)
    [record] = store.list()
    [signal] = store.fetch(record.execution_id)["workflow"]["signals"]
    assert signal["idempotency_key"] == key
