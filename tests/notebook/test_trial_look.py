"""What a notebook user saw in a real JupyterLab (trial-look): each case here was seen in a screenshot first.

* a frame's JSON cell whose first item is long (a failed execution's 5,000-character ``error``) was shown whole:
  one row of the audit frame grew to thousands of pixels, while every other JSON cell stops at ``JSON_LIMIT``;
"""

from __future__ import annotations

import html
import re

import igniter_nb as ig
from igniter_nb.notebook.frame_html import JSON_LIMIT

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
