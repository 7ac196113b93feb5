"""What a notebook user saw in a real JupyterLab (trial-look): each case here was seen in a screenshot first.

* a frame's JSON cell whose first item is long (a failed execution's 5,000-character ``error``) was shown whole:
  one row of the audit frame grew to thousands of pixels, while every other JSON cell stops at ``JSON_LIMIT``;
* in JupyterLab's dark theme the text of table headings and status badges is the theme's light text on their
  light fills: a plan's headings and every ``unresolved`` badge (white on white) could not be read, and the grey
  notes (``targets: …``, ``would be rejected · nothing written``) were dark grey on black (2.5:1);
* a store's repr and the EventSimulator's received signals showed raw ISO times
  (``2026-12-05T13:10:36.740358+00:00``, ``…205019Z``) next to frames and the Follow view that show
  ``2026-12-05 13:10:36.740`` in UTC — three spellings of a time in one notebook (03, 04);
* the diagnostics' outputs table showed a failed output as the JSON of its record (``{"error": "ValueError: …",
  "status": "failed"}``) where the result's table shows the status as a badge and the error as text;
* an EventSimulator's text said ``1 active workflows``;
* the Follow view of a workflow that failed showed no error but the first line the picture's node shows: its
  events table had no room for the one each failure event carries;
* the InputPlayground's labels cut long input names at their end: twelve inputs named ``…_number_0`` to ``_11``
  all read ``input_with_a_rather_long_name_numb…`` (the input boxes' width: tests/browser/test_trial_outputs.py).
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import igniter_nb as ig
from igniter_nb.notebook.frame_html import JSON_LIMIT
from igniter_nb.stores import MemoryStore

MESSAGE = "\n".join(f"line {i}: <b>boom</b> &amp; " + "word " * 60 for i in range(20))[:5000]


def _boom(x: object) -> object:
    raise ValueError(MESSAGE)


class Failing(ig.Contract):
    def define(c):  # type: ignore[no-untyped-def]
        c.input("x")
        c.compute("boom", depends_on=["x"], call=_boom)
        c.compute("after", depends_on=["boom"], call=lambda boom: 1)
        c.output("after")


def _failed() -> ig.Contract:
    contract = Failing(x=1)
    contract.resolve_all()
    return contract


def _cells(page: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]*>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", page, flags=re.S)]


def test_a_json_cell_whose_first_item_is_long_is_cut_saying_how_much() -> None:
    frame = ig.nb.audit_frame(_failed())
    assert frame["payload"].str.len().max() > 4_000  # the data keeps the whole error
    cells = [c for c in _cells(frame._repr_html_()) if c.startswith("{")]
    assert cells, "no payload cell"
    longest = max(cells, key=len)
    assert len(longest) < JSON_LIMIT + 60, f"a payload cell of {len(longest):,} characters"
    assert re.search(r"\([\d,]+ more characters\)$", longest), longest[-80:]
    # so does a cut single value (a node_failed payload of one item), in the same table
    cut = [c for c in cells if len(c) > JSON_LIMIT - 10]
    assert len(cut) == 3 and all(re.search(r"\([\d,]+ more characters\)$", c) for c in cut), [c[-40:] for c in cut]


DARK = "#111111"  # JupyterLab Dark's page (--jp-layout-color0), under every output


def _luminance(colour: str) -> float:
    channels = [int(colour[k:k + 2], 16) / 255 for k in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


class _Fills(HTMLParser):
    """Each element whose style sets a background but no text colour, and each text colour set on no background
    of its own that reads badly on a dark theme's page (under 3:1): [tag, style]."""

    def __init__(self) -> None:
        super().__init__()
        self.unset: list[list[str]] = []
        self.faint: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        style = dict(attrs).get("style") or ""
        rules = {k.strip(): v.strip() for k, _, v in (rule.partition(":") for rule in style.split(";")) if v}
        if "background" in rules and "color" not in rules:
            self.unset.append([tag, style])
        colour = rules.get("color", "")
        if "background" not in rules and re.fullmatch(r"#[0-9a-f]{6}", colour) and _contrast(colour, DARK) < 3:
            self.faint.append([tag, style])


class Waits(ig.Contract):
    def define(c):  # type: ignore[no-untyped-def]
        c.correlate_by("rid")
        c.input("rid")
        c.await_event("ev", event="ev_sent")
        c.compute("done", depends_on=["ev"], call=lambda ev: ev)
        c.output("done")


def test_every_filled_box_sets_its_own_text_colour_for_dark_themes() -> None:
    failed, store = _failed(), MemoryStore()
    waiting = Waits.start({"rid": "r1"}, store=store)
    sim = ig.nb.EventSimulator(Waits, store=store)
    pages = {
        "plan": failed.plan()._repr_mimebundle_()["text/html"],
        "result": failed.result._repr_mimebundle_()["text/html"],
        "diagnostics": failed.diagnostics._repr_mimebundle_()["text/html"],
        "audit frame": ig.nb.audit_frame(failed)._repr_html_(),
        "store": store._repr_mimebundle_()["text/html"],
        "store frame": ig.nb.store_frame(store)._repr_html_(),
        "stepper": ig.nb.SnapshotStepper(store, execution_id=waiting.execution_id)._repr_mimebundle_()["text/html"],
        "simulator dry run": sim.dry_run()._repr_mimebundle_()["text/html"],
    }
    for what, page in pages.items():
        parser = _Fills()
        parser.feed(page)
        assert "background" in page, what
        assert parser.unset == [], f"{what}: a fill without a text colour: {parser.unset[:2]}"
        assert parser.faint == [], f"{what}: text too faint on a dark theme: {parser.faint[:2]}"


ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
SHOWN = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}(?!\d)")


def test_a_store_and_the_simulator_show_times_as_the_frames_do() -> None:
    store = MemoryStore()
    Waits.start({"rid": "r1"}, store=store)
    Waits.start({"rid": "r2"}, store=store)
    sim = ig.nb.EventSimulator(Waits, store=store)
    sim.select(correlation={"rid": "r1"}, event="ev_sent", payload="{}")
    sim.deliver()
    pages = {"store": store._repr_mimebundle_()["text/html"], "simulator": sim.diagnostics_html()}
    for what, page in pages.items():
        assert not ISO.search(page), f"{what}: {ISO.search(page)}"
        assert SHOWN.search(page) and "(UTC)" in page, what
    # next to a long correlation the store's ids and times broke over two lines ('…-9ee5-' / '876a4ffc4122')
    Waits.start({"rid": "<b>r</b>&amp;" + "r" * 300}, store=store)
    page = store._repr_mimebundle_()["text/html"]
    for record in store.list():
        cell = re.search(rf'<td style="([^"]*)">{record.execution_id}</td>', page)
        assert cell and "white-space:nowrap" in cell.group(1), record.execution_id
    assert len(re.findall(r'white-space:nowrap">\d{4}-\d{2}-\d{2} ', page)) == 3


class Reports(ig.Contract):
    def define(c):  # type: ignore[no-untyped-def]
        c.input("x")
        c.compute("boom", depends_on=["x"], call=_boom)
        c.compute("record", depends_on=["x"], call=lambda x: {"status": "failed", "error": "the user's own data"})
        c.output("boom")
        c.output("record")


def _rows(page: str, first: str) -> list[list[str]]:
    """The rows of the table whose first heading is ``first``, each as its cells' text."""
    start = page.index(f">{first}</th>")
    body = page[start:page.index("</table>", start)]
    return [_cells(row) for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)]


def test_the_diagnostics_outputs_show_a_failed_output_as_the_result_does() -> None:
    contract = Reports(x=1)
    contract.resolve_all()
    page = contract.diagnostics._repr_mimebundle_()["text/html"]
    assert ">status</th>" in page[page.index(">output</th>"):page.index("</tr>", page.index(">output</th>"))]
    rows = {row[0]: row for row in _rows(page, "output")}
    _, status, value = rows["boom"]
    assert status == "failed" and value.startswith("ValueError: line 0: <b>boom</b>"), rows["boom"]
    assert '"status"' not in value and '{"error"' not in value
    # a succeeded output whose value happens to look like that record is the user's data, shown whole
    assert rows["record"][1] == "succeeded" and rows["record"][2] == '{"error": "the user\'s own data", "status": "failed"}'
    waiting = Waits.start({"rid": "r1"}, store=MemoryStore())  # a waiting output, in the result's words
    page = waiting.diagnostics._repr_mimebundle_()["text/html"]
    assert _rows(page, "output") == [["done", "waiting", "waiting for event ev_sent"]]
    assert waiting.result._repr_mimebundle_()["text/html"].count("waiting for event ev_sent") == 1


def test_the_simulator_counts_one_active_workflow_in_the_singular() -> None:
    store = MemoryStore()
    Waits.start({"rid": "r1"}, store=store)
    sim = ig.nb.EventSimulator(Waits, store=store)
    assert sim.to_text().splitlines()[0] == "EventSimulator Waits: 1 active workflow"
    Waits.start({"rid": "r2"}, store=store)
    assert sim.to_text().splitlines()[0] == "EventSimulator Waits: 2 active workflows"


def _fail_on_delivery(ev: object) -> object:
    raise RuntimeError(MESSAGE)


class FailsOnDelivery(ig.Contract):
    def define(c):  # type: ignore[no-untyped-def]
        c.correlate_by("rid")
        c.input("rid")
        c.await_event("ev", event="ev_sent")
        c.compute("fail", depends_on=["ev"], call=_fail_on_delivery)
        c.output("fail")


def test_a_follow_view_of_a_failed_workflow_shows_its_error_whole_on_opening() -> None:
    store = MemoryStore()
    started = FailsOnDelivery.start({"rid": "r1"}, store=store)
    follow = ig.nb.Follow(started.execution_id, store, start=False)
    page = follow.to_html()
    assert ">error</th>" not in page  # nothing failed yet: the table is as it was
    FailsOnDelivery.deliver_event("ev_sent", correlation={"rid": "r1"}, payload={}, store=store)
    follow = ig.nb.Follow(started.execution_id, store, start=False)
    page = follow.to_html()
    assert ">error</th>" in page
    failed = [row for row in _rows(page, "seq") if row[1] == "node_failed"]
    assert len(failed) == 1 and failed[0][2] == "fail"
    summary, _, opened = failed[0][-1].partition("characters)")
    assert summary.startswith("RuntimeError: line 0: <b>boom</b> &amp; word") and "more " in summary
    assert opened.startswith("RuntimeError: line 0:") and "line 15: <b>boom</b>" in opened  # the whole message
    assert "node_failed fail: RuntimeError: line 0: <b>boom</b>" in follow.to_text()
    # beside the wide error column a time stays on one line (it broke at its space)
    assert len(re.findall(r'white-space:nowrap">\d{4}-\d{2}-\d{2} \d{2}:', page)) == 8


def _many_long_inputs(c):  # type: ignore[no-untyped-def]
    for i in range(12):
        c.input(f"input_with_a_rather_long_name_number_{i}", type=int)
    c.input("short", type=int)
    c.compute("total", depends_on=["short"], call=lambda short: short)
    c.output("total")


def test_playground_labels_keep_the_end_of_a_long_input_name() -> None:
    contract = ig.contract(_many_long_inputs, name="Many")(short=1, **{
        f"input_with_a_rather_long_name_number_{i}": i for i in range(12)})
    widget = ig.nb.InputPlayground(contract).widget
    controls = [c for c in widget.children if hasattr(c, "description") and c.description]
    labels = [c.description for c in controls]
    assert len(labels) == 13 and len(set(labels)) == 13, labels
    assert all(len(label) <= 30 for label in labels), labels
    assert labels[0].endswith("number_0") and labels[11].endswith("number_11") and "…" in labels[11]
    assert "short" in labels and [c.tooltip for c in controls][11] == "input_with_a_rather_long_name_number_11"
