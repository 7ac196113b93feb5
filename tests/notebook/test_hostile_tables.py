"""Hostile-user trial of the notebook's HTML tables (plan, diagnostics, result, audit, collection, store).

A cell cut at ``MAX_CELL`` characters showed its start and `` …`` and nothing else: a 5,000-character, many-line
error message could not be read from the output at all. And a long token with no space in a cell (an event name,
an id, a path) made the table wider than the output area, which then scrolled sideways."""

from __future__ import annotations

import contextlib
import html as _html
import json
import re

import igniter_nb as ig
from igniter_nb.notebook import html as h
from igniter_nb.notebook.reprs import plan_mimebundle, report_mimebundle, result_mimebundle, timeline_mimebundle

MESSAGE = "\n".join(f"line {i}: <b>boom</b> `x` {{{{y}}}} " + "word " * 60 for i in range(20))[:5000]


class Failing(ig.Contract):
    def define(c):
        c.input("x")

        @c.compute
        def explode(x):
            raise ValueError(MESSAGE)

        @c.compute
        def after(explode):
            return 1

        c.output("after")


def _failed() -> Failing:
    contract = Failing(x=1)
    with contextlib.suppress(Exception):  # the failure is what is shown
        contract.resolve_all()
    return contract


def _opened(fragment: str) -> list[str]:
    """The text of every ``<details>`` body in ``fragment`` (tags dropped, entities read back)."""
    return [_html.unescape(re.sub(r"<[^>]+>", "", body))
            for body in re.findall(r"<details>.*?</summary>(.*?)</details>", fragment, re.S)]


def test_a_cut_error_message_can_be_opened_to_its_whole_text():
    contract = _failed()
    plan = contract.plan()
    short_error = next(e.error for e in plan.entries if e.name == "explode")  # a plan's error: `Type: first line`, cut
    for name, bundle, whole in [("plan", plan_mimebundle(plan), short_error),
                                ("diagnostics", report_mimebundle(contract.diagnostics), MESSAGE),
                                ("result", result_mimebundle(contract.result), MESSAGE),
                                ("audit", timeline_mimebundle(contract.audit), json.dumps(MESSAGE)[1:-1])]:  # JSON
        page = bundle["text/html"]
        opened = _opened(page)
        assert any(whole in body for body in opened), f"{name}: the whole message is not in the output"
        assert "<b>boom</b>" not in page, f"{name}: markup from the message reached the HTML"


def test_a_cut_cell_keeps_its_short_form_as_the_summary_and_says_how_much_is_hidden():
    cell = h.table([["n", "x" * 50 + " " + "y" * 400]], ["node", "message"], status_column=None)
    summary = re.search(r"<summary[^>]*>(.*?)</summary>", cell, re.S)
    assert summary is not None
    assert summary.group(1).startswith("x" * 50)
    assert "more characters" in summary.group(1)
    assert "y" * 400 in _opened(cell)[0]


def test_short_cells_are_written_as_before():
    # stored notebook outputs hold tables of short values: their HTML must not change
    assert h.table([["a", 1, {"k": "v"}]], ["name", "n", "value"], status_column=None) == (
        f"<table {h.TABLE}><thead><tr><th {h.HEAD}>name</th><th {h.HEAD}>n</th><th {h.HEAD}>value</th></tr></thead>"
        f"<tbody><tr><td {h.CELL}>a</td><td {h.CELL}>1</td><td {h.CELL}>{{&quot;k&quot;: &quot;v&quot;}}</td></tr>"
        "</tbody></table>")


def test_a_long_token_without_spaces_may_wrap_inside_its_cell():
    token = "event_" + "e" * 150
    cell = h.table([["wait_0", token]], ["node", "event"], status_column=None)
    styles = re.findall(r'<td style="([^"]*)"', cell)
    assert "overflow-wrap:anywhere" not in styles[0]
    assert "overflow-wrap:anywhere" in styles[1]


def test_opened_text_is_bounded_per_cell_and_per_table():
    huge = "z " * 100_000
    one = h.table([["n", huge]], ["node", "message"], status_column=None)
    assert len(one) < h.OPEN_LIMIT + 2_000
    assert "more characters" in _opened(one)[0]
    many = h.table(([f"n{i}", huge] for i in range(200)), ["node", "message"], status_column=None)
    assert len(many) < h.OPEN_BUDGET + 200 * 2_000
    assert "more characters" in many  # every row still says how much is hidden


def test_a_cut_cell_is_deterministic():
    contract = _failed()
    assert report_mimebundle(contract.diagnostics) == report_mimebundle(contract.diagnostics)


def test_a_heading_with_a_long_graph_name_may_wrap():
    assert "overflow-wrap:anywhere" in h.heading("Audit " + "G" * 200, None, "3 events")
    assert "overflow-wrap" not in h.heading("Audit Lead", None, "3 events")


def test_notes_errors_and_preformatted_text_with_long_tokens_may_wrap():
    from igniter_nb.notebook.delivery import error_html, note_html

    event = "event_" + "e" * 150
    assert "overflow-wrap:anywhere" in note_html(f"event '{event}' has no schema: any JSON value is accepted")
    assert "overflow-wrap:anywhere" in error_html("EventNotAwaited", f"no await for {event}")
    assert "overflow-wrap" not in note_html("event 'approved' has no schema: any JSON value is accepted")
    long_line = h.pre("(graph picture unavailable: ValueError: " + "word " * 100 + ")")
    assert "white-space:pre-wrap" in long_line and "overflow-wrap:anywhere" in long_line
    assert h.pre('{\n  "plan": "pro"\n}') == '<pre style="font-size:12px;margin:4px 0">{\n  &quot;plan&quot;: &quot;pro&quot;\n}</pre>'


def test_the_simulator_static_view_lets_a_long_event_name_wrap():
    from igniter_nb.stores import MemoryStore

    class LongEvent(ig.Contract):
        def define(c):
            c.correlate_by("rid")
            c.input("rid")
            c.await_event("wait", event="event_" + "e" * 150)
            c.output("wait")

    store = MemoryStore()
    LongEvent.start({"rid": "r1"}, store=store)
    page = ig.nb.EventSimulator(LongEvent, store=store).to_html()
    note = re.search(r'<div style="([^"]*)">event &#x27;event_e+&#x27; has no schema', page)
    assert note is not None and "overflow-wrap:anywhere" in note.group(1)
