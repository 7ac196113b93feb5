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


def _explodes(c: Any) -> None:
    c.input("x")
    c.compute("explode_0", depends_on=["x"], call=lambda x: 1 / 0)
    c.compute("explode_1", depends_on=["x"], call=lambda x: 1 / 0)
    c.compute("fine", depends_on=["x"], call=lambda x: x)
    c.compute("after", depends_on=["explode_0", "explode_1", "fine"], call=lambda **kw: 1)
    c.output("after")


def test_a_failed_dependency_is_not_shown_as_waited_on():
    # (it said `after status=failed waiting_on=explode_0,explode_1` and `waits on: explode_0, explode_1`)
    contract = ig.contract(_explodes, name="Explodes")(x=1)
    contract.execution.resolve("explode_0")
    before = contract.plan()
    assert before.entry("after").waiting_on == ("explode_1", "fine")
    assert before.entry("after").failed_deps == ("explode_0",) and before.entry("after").blocked
    assert "- compute after status=unresolved blocked=true waiting_on=explode_1,fine blocked_by_failed=explode_0 " \
           in before.to_text()
    assert _rows(plan_mimebundle(before)["text/html"])["after"][4] == "explode_1, fine; blocked by failed explode_0"
    contract.resolve_all()
    plan = contract.plan()
    after = plan.entry("after")
    assert after.status == "failed" and after.waiting_on == () and after.failed_deps == ("explode_0", "explode_1")
    assert plan.to_dict()["entries"][-1]["failed_deps"] == ["explode_0", "explode_1"]
    line = next(t for t in plan.to_text().splitlines() if t.startswith("- compute after "))
    assert "waiting_on" not in line and " failed_because=explode_0,explode_1 " in line
    row = _rows(plan_mimebundle(plan)["text/html"])["after"]
    assert row[2] == "failed" and row[4] == "failed because explode_0, explode_1 failed"
