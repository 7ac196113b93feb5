"""``Report.to_markdown()`` (a notebook's ``text/markdown``) with text that Markdown front ends read as more than
text: dollars (``$5 … $6``, ``$$x$$``) and ``\\(x\\)`` that Jupyter and docs sites typeset as formulas, ``_x_``
as emphasis, ``~~x~~`` as strikethrough. Rendered by markdown-it with its math and strikethrough rules (as
JupyterLab's Markdown with MathJax reads it), the report shows them as typed."""

from __future__ import annotations

from html.parser import HTMLParser

import markdown_it
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.texmath import texmath_plugin

import igniter_nb as ig
from igniter_nb.diagnostics.report_values import markdown_text

TYPED = "price $5 and $6, $$x^2$$, \\(y\\) \\[z\\], '_em_' and ~~gone~~"


class Reading(ig.Contract):
    def define(c):
        c.input("note")

        @c.compute
        def echo(note):
            return note

        @c.compute
        def boom(note):
            raise ValueError(note)

        c.output("echo")
        c.output("boom")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def _rendered(md: str) -> _Page:
    renderer = (markdown_it.MarkdownIt("commonmark", {"html": True}).enable("strikethrough")
                .use(dollarmath_plugin).use(texmath_plugin, delimiters="brackets"))
    page = _Page()
    page.feed(renderer.render(md))
    return page


def test_dollars_underscores_and_tildes_in_values_and_errors_are_shown_as_typed():
    """The report's Markdown typeset ``$5 and $`` as a formula (the dollars gone), ``'_em_'`` in italics and
    ``~~gone~~`` struck through, in both the outputs line and the error list."""
    contract = Reading(note=TYPED)
    contract.resolve_all()
    page = _rendered(contract.diagnostics.to_markdown())
    assert {tag for tag, _ in page.tags} <= {"h1", "h2", "ul", "li", "code", "p"}, page.tags
    shown = "".join(page.text)
    assert f"echo={TYPED!r}" in shown, shown  # the output value, as repr shows it
    assert f"boom: ValueError: {TYPED}" in shown, shown  # the error list


def test_ordinary_text_is_written_as_before():
    """Regression guard: stored notebook outputs hold reports of ordinary names and values (underscores inside
    words, brackets); their Markdown must not change."""
    assert markdown_text("gross_total=150.0, items=[1, 2], invoice='150.00 EUR'") == (
        "gross_total=150.0, items=[1, 2], invoice='150.00 EUR'")


def test_a_graph_name_with_markup_stays_text_in_the_heading():
    """The heading wrote the graph name as it is: a contract made with ``type()`` or ``ig.compile(name=)`` takes any
    name, and ``<img src=x onerror=...>`` in it became an element of the rendered Markdown."""
    name = "<img src=x onerror=alert(1)> $x$ _y_"

    def define(c):
        c.input("x")
        c.output("x")

    contract = type(name, (ig.Contract,), {"define": staticmethod(define)})(x=1)
    contract.resolve_all()
    page = _rendered(contract.diagnostics.to_markdown())
    assert {tag for tag, _ in page.tags} <= {"h1", "h2", "ul", "li", "code", "p"}, page.tags
    assert f"Diagnostics {name}" in "".join(page.text)
