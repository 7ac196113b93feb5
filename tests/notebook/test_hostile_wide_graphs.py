"""Hostile-user trial: a contract of 3,000 outputs. The result's, the plan's and the diagnostics' HTML tables listed
every row (1.2 MB, 2 MB and 600 KB of output); like the audit, the collection and the store they list the first
``TABLE_LIMIT`` (200) and say how many more there are."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

import igniter_nb as ig
from igniter_nb.notebook.reprs import TABLE_LIMIT

OUTPUTS = 3_000


def _define(c):
    c.input("x")
    for i in range(OUTPUTS):
        c.compute(f"n{i}", depends_on=["x"], call=lambda x: x)
        c.output(f"n{i}")


Wide = type("Wide", (ig.Contract,), {"define": staticmethod(_define)})


class _Rows(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.per_table: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.per_table.append(0)
        elif tag == "tr":
            self.per_table[-1] += 1


def test_the_tables_of_a_contract_of_thousands_of_outputs_list_the_first_200() -> None:
    contract = Wide(x=1)
    contract.resolve_all()
    for name, bundle in [("result", contract.result._repr_mimebundle_()),
                         ("plan", contract.plan()._repr_mimebundle_()),
                         ("diagnostics", contract.diagnostics._repr_mimebundle_())]:
        parser = _Rows()
        parser.feed(bundle["text/html"])
        assert max(parser.per_table) == TABLE_LIMIT + 1, (name, parser.per_table)  # (and the head row)
        assert re.search(r"… 28\d\d more rows", bundle["text/html"]), name
    text = contract.result._repr_mimebundle_()["text/plain"]
    assert len(text.splitlines()) == TABLE_LIMIT + 2 and text.endswith(f"… {OUTPUTS - TABLE_LIMIT} more outputs")


def test_a_megabyte_graph_name_is_refused_and_a_long_one_stays_text_in_the_headings() -> None:
    """``ig.compile`` and a class made with ``type()`` took a name of any length, and each HTML heading repeated it
    whole, a megabyte per output. Such a name is now refused when compiled (no store keeps it:
    ``tests/compiler/test_graph_name_rule.py``); a long one of markup is shown whole
    and as text in each heading."""
    def define(c):
        c.input("x")
        c.compute("y", depends_on=["x"], call=lambda x: x)
        c.output("y")

    with pytest.raises(ig.ValidationError, match="1,000,000 characters long"):
        type("<b>G</b>" * 125_000, (ig.Contract,), {"define": staticmethod(define)})
    name = "<b>G</b>" * 18  # (144 characters: a heading adds " result", "Plan " … to it)
    contract = type(name, (ig.Contract,), {"define": staticmethod(define)})(x=1)
    contract.resolve_all()
    for label, bundle in [("result", contract.result._repr_mimebundle_()),
                          ("plan", contract.plan()._repr_mimebundle_()),
                          ("diagnostics", contract.diagnostics._repr_mimebundle_()),
                          ("audit", contract.audit._repr_mimebundle_())]:
        page = bundle["text/html"]
        assert len(page) < 100_000, (label, len(page))
        assert "&lt;b&gt;G&lt;/b&gt;" * 18 in page and "<b>G" not in page, label


class _Item(ig.Contract):
    def define(c):
        c.input("id")
        c.output("id")


class _Items(ig.Contract):
    def define(c):
        c.input("items")
        c.collection("each", source="items", each=_Item, key="id", mode="collect")
        c.output("each")


def test_a_megabyte_collection_key_is_cut_in_the_collection_text() -> None:
    """The collection's text wrote each key's ``repr`` whole: a megabyte key made a megabyte line."""
    contract = _Items(items=[{"id": "K" * 1_000_000}, {"id": "k2"}])
    contract.resolve_all()
    bundle = contract.result.each._repr_mimebundle_()
    assert all(len(part) < 100_000 for part in bundle.values() if isinstance(part, str))
    assert "more characters" in bundle["text/plain"] and "'k2' [succeeded]" in bundle["text/plain"]
