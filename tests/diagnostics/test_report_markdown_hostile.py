"""``Report.to_markdown()`` (a notebook's ``text/markdown``, what ``nbconvert --to markdown`` and a docs site
render) with hostile text in error messages, output values and correlation values: rendered by a CommonMark
renderer that passes raw HTML through (markdown-it, as a docs site does), none of it becomes a tag, a link or
a code span; the text is shown as typed."""

from __future__ import annotations

from html.parser import HTMLParser

import markdown_it

import igniter_nb as ig

HOSTILE = "<img src=x onerror=alert(1)> [click](javascript:alert(2)) `code` &amp; \\*"


class Hostile(ig.Contract):
    def define(c):
        c.correlate_by("order_id")
        c.input("order_id", type=str)
        c.await_event("approval", event="approved")

        @c.compute
        def echo(order_id):
            return order_id

        @c.compute
        def boom(order_id):
            raise ValueError(order_id)

        c.output("echo")
        c.output("boom")
        c.output("approval")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def test_hostile_text_in_the_markdown_report_stays_text():
    contract = Hostile(order_id=HOSTILE)
    contract.resolve_all()
    md = contract.diagnostics.to_markdown()
    html = markdown_it.MarkdownIt("commonmark", {"html": True}).render(md)
    parser = _Tags()
    parser.feed(html)
    tags = {tag for tag, _ in parser.tags}
    assert tags <= {"h1", "h2", "ul", "li", "code", "p"}, parser.tags
    assert not any(k == "href" or k.startswith("on") for _, attrs in parser.tags for k, _ in attrs)
    shown = "".join(parser.text)
    assert HOSTILE in shown  # the error message, drawn as typed (html.parser decodes the entities)


def test_ordinary_markdown_report_is_unchanged():
    class Plain(ig.Contract):
        def define(c):
            c.input("x", type=int)
            c.compute("invoice", depends_on=["x"], call=lambda x: f"{x}.00 EUR")
            c.output("invoice")

    md = Plain(x=150).diagnostics.to_markdown()
    assert "- Outputs: invoice='150.00 EUR'" in md


def test_collection_keys_and_messages_stay_inside_their_markdown():
    from igniter_nb.diagnostics.report import markdown_code, markdown_text

    assert markdown_code("lines[a]") == "`lines[a]`"  # ordinary keys unchanged
    assert markdown_code("lines[a`b]") == "``lines[a`b]``"
    assert markdown_code("`x\n# heading") == "`` `x # heading ``"
    assert markdown_text("[1, 2] ok") == "[1, 2] ok"
    assert markdown_text("[x](javascript:alert(1))\n[y]: javascript:alert(2)") == \
        "[x]\\(javascript:alert(1)) [y]: javascript:alert(2)"
