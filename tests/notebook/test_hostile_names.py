"""Issue 11 point 9: user-provided strings never become markup. Scope names, labels, event names, graph names,
values and error messages shaped like HTML, DOT HTML-like labels, quotes, backslashes, CDATA ends, newlines,
unicode and very long text reach every picture as text: the SVG of both engines, the DOT source and Mermaid."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

import igniter_nb as ig
from igniter_nb.diagnostics.dot import graph_to_dot
from igniter_nb.model.graph_names import graph_name_problem
from igniter_nb.notebook.render import dot_available, render_graph

JS_TABLE = '<<TABLE HREF="javascript:alert(1)"><TR><TD>x</TD></TR></TABLE>>'
HOSTILE = [
    "<b>bold</b>",
    JS_TABLE,
    '"quoted" \\" end\\',
    "back\\slash\\N\\G\\l",
    "]]><script>alert(1)</script>",
    "line1\nline2\r\n\tline3",
    "ключ — 名前 — émoji 🚀",
    "x" * 600,
    "<a xlink:href='javascript:alert(2)'>link</a>",
]
ENGINES = ["python", "dot"]


def hostile_graph(text: str):
    def define(c):
        c.correlate_by("order_id")
        c.input("order_id", type=str)
        c.input("note", type=str, default=text)
        with c.scope(text):
            c.compute("shaped", depends_on=["order_id"], call=lambda order_id: order_id, label=text)
            c.await_event("approval", event=text)

        @c.compute
        def boom(shaped, approval):
            raise ValueError(text)

        c.remote("score", contract=text, node="http://scoring.local:8080", inputs={"order_id": "order_id"})
        c.output("boom")
        c.output("score")

    # (a name no store keeps — a newline, 600 characters — is refused when compiled: the other strings still carry it)
    return ig.compile(define, name=text if graph_name_problem(text) is None else "Hostile")


def assert_inert(svg: str) -> ET.Element:
    """Well-formed XML with no script, no link, no event handler and no javascript: anywhere."""
    root = ET.fromstring(svg)
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1].lower()
        assert tag not in ("script", "foreignobject", "iframe", "image", "use"), tag
        if tag == "a":
            assert not any(k.endswith("href") for k in el.attrib), el.attrib
        for key, value in el.attrib.items():
            name = key.rsplit("}", 1)[-1].lower()
            assert not name.startswith("on"), key
            assert name not in ("href", "src", "action", "formaction", "style") or (
                name == "style" and el is root), (key, value)
    return root


def _texts(root: ET.Element) -> str:
    return " ".join("".join(el.itertext()) for el in root.iter() if el.tag.endswith("}text"))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_strings_stay_text_in_graph_pictures(engine, text):
    assert engine == "python" or dot_available()
    graph = hostile_graph(text)
    root = assert_inert(render_graph(graph, engine=engine, expand=True))
    shown = _texts(root)
    first = " ".join(text.split())[:20]
    assert first in " ".join(shown.split()), "the hostile text is shown as text"


@pytest.mark.parametrize("engine", ENGINES)
def test_hostile_values_and_errors_stay_text_in_instance_pictures(engine):
    text = JS_TABLE + "\nsecond line"

    class Hostile(ig.Contract):
        def define(c):
            c.correlate_by("order_id")
            c.input("order_id", type=str)

            @c.compute
            def boom(order_id):
                raise ValueError(order_id)

            c.output("boom")

    contract = Hostile(order_id=text)
    contract.resolve_all()
    svg = render_graph(contract, engine=engine)
    root = assert_inert(svg)
    shown = " ".join(_texts(root).split())
    assert "second line" not in shown  # only the first line of the error message
    assert "ValueError: <<TABLE" in shown  # the error, escaped, on the failed node
    assert "order_id='<<TABLE" in shown  # the correlation value in the title


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_dot_source_quotes_every_user_string(text):
    source = graph_to_dot(hostile_graph(text), expand=True).source
    assert 'HREF="javascript' not in source  # never a live attribute of an HTML-like label
    outside_tooltips = re.sub(r'tooltip="(?:[^"\\]|\\.)*"', "", source)  # tooltips are quoted DOT strings
    assert "<b>" not in outside_tooltips and "<script>" not in outside_tooltips
    assert "<a " not in outside_tooltips
    statement = re.compile(r'\s*(digraph \w+ \{|subgraph cluster_\d+ \{|\}|(graph|node|edge) \[.*\]|'
                           r'\w+ -> \w+( \[.*\])?|\w+ \[.*\]|color=.*style="rounded,dashed")')
    for line in source.splitlines():  # no raw newline inside a statement: every line is a whole statement
        assert statement.fullmatch(line), line


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_mermaid_labels_hold_no_markup(text):
    mermaid = hostile_graph(text).to_mermaid()
    body = "\n".join(mermaid.splitlines()[1:])
    assert "<" not in body.replace("-->", "").replace("<br>", "") and "`" not in body  # <br>: our line breaks only
    for line in mermaid.splitlines():
        if '["' in line:
            assert line.endswith('"]') and line.count('"') == 2, line


XML_INVALID = ["nul\x00byte", "bell\x07 vtab\x0b formfeed\x0c", "non\ufffecharacters\uffff", "lone\ud800high",
               "lone\udcfflow"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("text", XML_INVALID, ids=range(len(XML_INVALID)))
def test_characters_xml_cannot_hold_still_draw_a_picture(engine, text):
    # A control character, a non-character or a lone surrogate (json.loads("\"\\ud800\"") gives one) cannot be
    # written as XML 1.0 or UTF-8: the picture is still drawn, as valid UTF-8 XML, with the rest of the text.
    assert engine == "python" or dot_available()
    svg = render_graph(hostile_graph(text), engine=engine, expand=True)
    root = assert_inert(svg.encode("utf-8").decode("utf-8"))
    assert text[:3] in _texts(root)


@pytest.mark.parametrize("text", XML_INVALID, ids=range(len(XML_INVALID)))
def test_characters_utf8_cannot_hold_leave_mermaid_writable(text):
    mermaid = hostile_graph(text).to_mermaid()
    mermaid.encode("utf-8")
    assert text[:3] in mermaid


def test_mermaid_entity_shaped_text_stays_text():
    # Mermaid reads `#name;` and `#123;` in a label as an entity: text shaped like one is written with its `#`
    # escaped, so "#quot;" is shown as typed and never becomes a quote, a tag or another entity.
    mermaid = hostile_graph("#lt;b#gt;x#quot;#9829;").to_mermaid()
    assert "#35;lt;b#35;gt;x#35;quot;#35;9829;" in mermaid
    assert "#lt;b" not in mermaid
