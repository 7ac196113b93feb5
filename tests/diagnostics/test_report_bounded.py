"""The report's text and Markdown are bounded: a long value or message is cut with a marker saying how much was
cut (the one cutter, ``diagnostics.cut.cut_text``), long lists of failures are counted; ``to_dict()`` keeps all."""

from __future__ import annotations

import igniter_nb as ig
from igniter_nb.diagnostics import report as report_module
from igniter_nb.diagnostics.cut import cut_text
from igniter_nb.notebook import html as h


class LoudItem(ig.Contract):
    def define(c):
        c.input("id")

        @c.compute
        def checked(id):
            raise ValueError(f"item {id}: " + "x" * 5_000)

        c.output("checked")


def test_ten_failed_items_with_5_kb_messages_make_a_small_report() -> None:
    @ig.contract
    def Loud(c):
        c.input("items", type=list)
        c.collection("checks", source="items", each=LoudItem, key="id")
        c.output("checks")

    report = Loud(items=[{"id": i} for i in range(10)]).diagnostics
    bundle = report._repr_mimebundle_()
    # it was 109 KB; the HTML table may also hold a cut value's first 10,000 characters, opened on a click
    # (notebook/html.py: a cut cell opens to its whole text, bounded per cell)
    assert sum(len(v) for v in bundle.values()) < 25_000
    text = report.to_text()
    assert "… (4,5" in text and "more characters)" in text  # the cut says how much
    assert report.to_dict()["collection_nodes"][0]["failed_items"][0]["message"].endswith("x" * 5_000)  # data whole


def test_a_million_item_output_makes_a_small_report() -> None:
    @ig.contract
    def Huge(c):
        c.input("n")
        c.compute("items", depends_on=["n"], call=lambda n: list(range(n)))
        c.output("items")

    report = Huge(n=1_000_000).diagnostics
    bundle = report._repr_mimebundle_()
    sizes = {kind: len(v) for kind, v in bundle.items()}
    assert sizes["text/plain"] < 5_000 and sizes["text/markdown"] < 5_000, sizes  # they were 7.9 MB each
    assert sizes["text/html"] < 15_000, sizes  # a cut cell opens to at most 10,000 characters (notebook/html.py)
    outputs = next(line for line in report.to_text().splitlines() if line.startswith("Outputs: "))
    assert outputs.startswith("Outputs: items=[0, 1, 2, ") and outputs.endswith(" more characters)")
    assert len(report["outputs"]["items"]) == 1_000_000


def test_many_failed_nodes_are_listed_then_counted() -> None:
    @ig.contract
    def Wide(c):
        c.input("x")
        for i in range(30):
            c.compute(f"bad{i:02d}", depends_on=["x"], call=lambda x: 1 / 0)
        c.compute("total", depends_on=[f"bad{i:02d}" for i in range(30)], call=lambda **kw: 0)
        c.output("total")

    report = Wide(x=1).diagnostics
    errors = next(line for line in report.to_text().splitlines() if line.startswith("Errors: "))
    assert errors.endswith(", … 11 more") and errors.count("=ResolutionError") == 20  # 30 nodes and total
    assert "- … 11 more errors" in report.to_markdown()
    assert len(report["errors"]) == 31


def test_short_text_is_unchanged_and_table_cells_keep_their_marker() -> None:
    assert cut_text("short", 10) == "short"
    assert cut_text("a, b, c, d, e", 8) == "a, b, c …"
    assert cut_text("a, b, c, d, e", 8, say_how_much=True) == "a, b, c … (6 more characters)"
    assert h.short("x" * 200) == "x" * 119 + " …"  # notebook table cells: as before
    assert report_module.TEXT_LIMIT == 500 and report_module.LISTED_ITEMS == 20
