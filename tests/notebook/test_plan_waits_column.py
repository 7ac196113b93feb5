"""The plan's table says what each node waits on. An await whose event was delivered waits no more: its row said
``waits on: event event_0`` beside ``succeeded``, as if it still waited; it now says the event was received."""

from __future__ import annotations

import re
from typing import Any

import igniter_nb as ig
from igniter_nb.notebook.reprs import plan_mimebundle
from igniter_nb.stores import MemoryStore


class TwoAwaits(ig.Contract):
    def define(c: Any) -> None:
        c.correlate_by("rid")
        c.input("rid")
        c.await_event("first", event="first_done")
        c.await_event("second", event="second_done")
        c.compute("both", depends_on=["first", "second"], call=lambda first, second: 1)
        c.output("both")


def _rows(html: str) -> dict[str, list[str]]:
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html):
        cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        if cells:
            rows[cells[0]] = cells
    return rows


def test_a_received_event_is_not_shown_as_awaited():
    store = MemoryStore()
    TwoAwaits.start({"rid": "r1"}, store=store)
    wf = TwoAwaits.deliver_event("first_done", correlation={"rid": "r1"}, payload={"ok": True}, store=store)
    rows = _rows(plan_mimebundle(wf.plan())["text/html"])
    assert rows["first"][2] == "succeeded" and rows["first"][4] == "received event first_done"
    assert rows["second"][2] == "waiting" and rows["second"][4] == "event second_done"
    assert rows["both"][4] == "second"
