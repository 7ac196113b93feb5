"""A frame too wide for the output area may wrap its times, durations and JSON, so the browser narrows it to fit.

Notebook 03's ``ig.nb.store_frame(store, now=now)`` (10 columns: an Approval waiting, a pricing pending) was a
table 1,223 px wide in a ~970 px output area, scrolled sideways: every time (``2026-12-05 13:21:37.542``), the
age (``334 days 04:21:37.557``) and the one-item ``waiting_on`` (``[{"event": "manager_approved", "node":
"manager"}]``) stayed on one line. A table whose cells, each on one line (JSON one item a line), are wider than
``FIT_WIDTH`` now lets a time wrap between its date and its clock and a duration before its clock, and, still too
wide so, JSON after a comma or a key's colon; the browser wraps only what it must (881 px at the least, 970 px in a
970 px area). A table that fits is written byte for byte as before (the stored notebooks compare it)."""

from __future__ import annotations

import datetime as dt
import shutil
from html.parser import HTMLParser
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.diagnostics.geometry import FIT_WIDTH, glyph_width
from igniter_nb.notebook.frame_html import frame_html
from igniter_nb.stores import MemoryStore

NOW = dt.datetime(2026, 12, 5, 13, 21, 37, 542000, tzinfo=dt.UTC)


class Quote(ig.Executor):
    def call(self, order_total: Any) -> Any:
        return self.defer(token=f"quote-{order_total}", payload={"order_total": order_total})


class FitsPricing(ig.Contract):
    def define(c: Any) -> None:
        c.input("order_total", type="numeric")
        c.compute("quote_total", depends_on=["order_total"], call=Quote)

        @c.compute
        def gross_total(quote_total: Any) -> Any:
            return round(quote_total * 1.2, 2)

        c.output("gross_total")


class FitsApproval(ig.Contract):
    def define(c: Any) -> None:
        c.correlate_by("order_id")
        c.input("order_id", type=str)
        c.input("amount", type="numeric")
        c.await_event("manager", event="manager_approved", timeout=24 * 3600)

        @c.compute
        def decision(amount: Any, manager: Any) -> Any:
            return "approved" if manager.get("ok") else "rejected"

        c.output("decision")


def _store() -> MemoryStore:
    """Notebook 03's store: an approval waiting since 2026-01-05, a pricing pending on its quote."""
    store = MemoryStore()
    FitsApproval.start({"order_id": "A-7", "amount": 900}, store=store, now=dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC))
    FitsPricing(order_total=100, store=store, execution_id="order-1001").resolve_all()
    return store


class _Runs(HTMLParser):
    """Per table column, the widest run of text the browser cannot break (a ``nowrap`` cell or span, else a word):
    the column's least width. Headers and index cells never wrap."""

    def __init__(self) -> None:
        super().__init__()
        self.columns: dict[int, float] = {}
        self.col = -1
        self.stack: list[bool] = []  # nowrap, per open element
        self.run = ""
        self.in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        style = dict(attrs).get("style") or ""
        if tag == "tr":
            self.col = -1
        if tag in ("td", "th"):
            self.col += 1
            self.in_cell = True
            self.stack = []
        self.stack.append("white-space:nowrap" in style or tag == "th" or (bool(self.stack) and self.stack[-1]
                                                                          and "white-space:normal" not in style))

    def handle_endtag(self, tag: str) -> None:
        self._close_run()
        if self.stack:
            self.stack.pop()
        if tag in ("td", "th"):
            self.in_cell = False

    def handle_data(self, data: str) -> None:
        if not self.in_cell:
            return
        if self.stack and self.stack[-1]:
            self.run += data
            return
        for k, word in enumerate(data.split(" ")):
            if k:
                self._close_run()
            self.run += word

    def _close_run(self) -> None:
        if self.run and self.col >= 0:
            width = glyph_width(self.run, 12) + 12  # the cell's padding
            self.columns[self.col] = max(self.columns.get(self.col, 0.0), width)
        self.run = ""


def least_width(html: str) -> float:
    table = html.split("<tbody>")[0] + html.split("<tbody>")[1].split("</tbody>")[0]
    runs = _Runs()
    runs.feed(table)
    return sum(runs.columns.values())


def test_notebook_03s_store_frame_can_be_narrowed_to_the_output_area() -> None:
    html = frame_html(ig.nb.store_frame(_store(), now=NOW))
    assert least_width(html) <= FIT_WIDTH - 40, least_width(html)  # (was 1,222: every time and JSON on one line)
    # the parts it may wrap between, each kept whole
    assert 'white-space:normal">2026-01-05 09:00:00.000</td>' in html  # (as the notebooks' sanitizer reads it)
    assert 'white-space:normal">334 days 04:21:37.542</td>' in html
    assert ('<span style="white-space:nowrap">[{&quot;event&quot;:</span> '
            '<span style="white-space:nowrap">&quot;manager_approved&quot;,</span>') in html


def test_a_frame_that_fits_is_written_as_before() -> None:
    frame = ig.nb.store_frame(_store(), now=NOW)[["graph", "status", "version", "waiting_on", "corr_order_id"]]
    html = frame_html(frame)
    assert "white-space:normal\"><span" not in html and "white-space:normal;" not in html.split("waiting_on")[0]
    # the one-item waiting_on stays one unbroken line, as stored in the notebooks
    assert ('<span style="white-space:nowrap">[{&quot;event&quot;: &quot;manager_approved&quot;, &quot;node&quot;: '
            '&quot;manager&quot;}]</span>') in html
    tokens = frame_html(ig.nb.tokens_frame(_store())[["graph", "node", "kind", "event", "token", "payload", "deadline"]])
    assert "2026-01-06 09:00:00</td>" in tokens  # a deadline on one line


def test_the_data_is_untouched() -> None:
    frame = ig.nb.store_frame(_store(), now=NOW)
    assert frame["waiting_on"].tolist()[0] == '[{"event": "manager_approved", "node": "manager"}]'
    assert str(frame["age"].iloc[0]) == "334 days 04:21:37.542000"


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_in_a_browser_the_store_frame_fits_970_px() -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    html = frame_html(ig.nb.store_frame(_store(), now=NOW))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"], timeout=30_000)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 600})
            page.set_content(f'<div id="area" style="width:940px">{html}</div>', timeout=30_000)
            wide = page.evaluate("() => document.querySelector('#area table').scrollWidth")
            scrolls = page.evaluate("() => { const d = document.querySelector('.igniter-frame');"
                                    " return d.scrollWidth > d.clientWidth; }")
        finally:
            browser.close()
    assert wide <= 940 and not scrolls, wide
