"""Hostile-user trial of ``IgniterFrame``'s notebook HTML on frames a user builds or reshapes (an ``IgniterFrame``
keeps its class through every pandas operation): object values whose ``repr`` raises, nest past the recursion
limit or contain themselves; an id of megabytes; two thousand columns; markup in column names and the index."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pandas as pd

import igniter_nb as ig
from tests.notebook.test_hostile_values import SCRIPT, NotTextRepr, RaisingRepr, _deep, _itself, assert_inert

OUTPUT_LIMIT = 100_000


class _Titles(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.titles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.titles.extend(value or "" for name, value in attrs if name == "title")


def test_object_values_that_cannot_be_shown_plainly_still_give_the_table() -> None:
    """A value whose repr raised made the frame's HTML fall back to pandas' own table, whose repr raised too:
    the notebook showed nothing."""
    values: list[Any] = [RaisingRepr(), NotTextRepr(), _deep(10_000), _itself()]
    frame = ig.nb.IgniterFrame({"value": values, "note": values, "execution_id": values})
    page = frame._repr_html_()
    assert page is not None and page.count("<tr>") == 5
    assert "RaisingRepr (repr failed)" in page
    assert_inert(page)
    assert page == frame._repr_html_()


def test_markup_in_column_names_index_and_cells_stays_text() -> None:
    """Regression guard: a frame pivoted on user data has user text as column names and index."""
    frame = ig.nb.IgniterFrame({SCRIPT: [SCRIPT], "execution_id": [f'"{SCRIPT}'], "status": [SCRIPT],
                                "payload": [SCRIPT], "source_location": [f"a/{SCRIPT}/b.py:1"]},
                               index=pd.Index([SCRIPT], name=SCRIPT))
    page = frame._repr_html_()
    assert page is not None
    assert_inert(page)
    assert page.count("&lt;script&gt;") >= 4


def test_a_huge_id_is_cut_in_its_cell_and_its_tooltip() -> None:
    """The tooltip of a shortened id held the whole id: three 2 MB ids made a 6 MB output."""
    frame = ig.nb.IgniterFrame({"execution_id": ["e" * 2_000_000] * 3, "source_location": ["/x/" * 500_000] * 3})
    page = frame._repr_html_()
    assert page is not None and len(page) < OUTPUT_LIMIT
    parser = _Titles()
    parser.feed(page)
    assert parser.titles and all("more characters" in title for title in parser.titles)


def test_a_wide_frame_shows_its_first_and_last_columns() -> None:
    """Two thousand columns gave a 600 KB table; pandas shows the first and last columns and ``…`` between."""
    frame = ig.nb.IgniterFrame({f"c{i}": [i] for i in range(2_000)})
    with pd.option_context("display.max_columns", 20):
        page = frame._repr_html_()
    assert page is not None and len(page) < OUTPUT_LIMIT
    assert ">c0<" in page and ">c1999<" in page and ">c1000<" not in page
    assert "1 row × 2000 columns" in page and "1980 columns in the middle not shown" in page
