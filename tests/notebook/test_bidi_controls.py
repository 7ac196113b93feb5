"""Hostile-user trial: Unicode bidirectional controls in user text cannot reorder what a picture or table shows.

A label, event, scope or graph name, value or error message holding U+202E RIGHT-TO-LEFT OVERRIDE drew the text
after it reversed: ``'invoice \\u202egnp.exe'`` read ``invoice exe.png`` in the picture, in Mermaid and in the HTML
tables (the "Trojan Source" trick). The embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069)
become spaces like other control characters; right-to-left text itself (Hebrew, Arabic) is drawn as before."""

from __future__ import annotations

import contextlib
import re

import pytest

import igniter_nb as ig
from igniter_nb.notebook import html as h
from igniter_nb.notebook.render import render_graph
from igniter_nb.notebook.reprs import report_mimebundle, timeline_mimebundle

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
SPOOF = "invoice \u202egnp.exe"


def spoofing_graph():
    def define(c):
        c.input("order_id")
        with c.scope("scope \u2067" + "שלום"):
            c.compute("shaped", depends_on=["order_id"], call=lambda order_id: order_id, label=SPOOF)
            c.await_event("approval", event="approved \u202dtxe")
        c.output("shaped")

    return ig.compile(define, name="graph \u202egnp")


@pytest.mark.parametrize("engine", ["python", "dot"])
def test_bidi_controls_never_reach_a_graph_picture(engine):
    svg = render_graph(spoofing_graph(), engine=engine, expand=True)
    assert not any(ch in svg for ch in BIDI)
    assert re.search(r"invoice(\s|&#160;)+gnp\.exe", svg)  # as typed, left to right (dot writes &#160;)
    assert "שלום" in svg  # right-to-left text itself stays


def test_bidi_controls_never_reach_mermaid():
    text = spoofing_graph().to_mermaid()
    assert not any(ch in text for ch in BIDI)


def test_bidi_controls_never_reach_an_html_table():
    class Spoof(ig.Contract):
        def define(c):
            c.input("x")

            @c.compute
            def boom(x):
                raise ValueError(SPOOF)

            c.output("boom")

    contract = Spoof(x=1)
    with contextlib.suppress(Exception):
        contract.resolve_all()
    for page in (report_mimebundle(contract.diagnostics)["text/html"],
                 timeline_mimebundle(contract.audit)["text/html"],
                 h.table([["a", SPOOF]], ["name", "value"], status_column=None),
                 h.heading(SPOOF)):
        assert not any(ch in page for ch in BIDI), page
        assert "gnp.exe" in page


def test_bidi_controls_never_reach_a_frames_html_table():
    """store_frame / tokens_frame / states_frame tables wrote cells with the standard library's escape, which
    keeps U+202E: a correlation value or a column name could reorder the rest of its cell."""
    import pandas as pd

    from igniter_nb.stores import MemoryStore

    store = MemoryStore()
    store.save({"execution_id": "e-1", "states": {"n": {"status": "pending", "waiting_for": ["a"]}}}, graph="G",
               correlation={"k": SPOOF}, status="waiting")
    frames = [ig.nb.store_frame(store), ig.nb.tokens_frame(store),
              ig.nb.store_frame(store).rename(columns={"graph": SPOOF}),
              ig.nb.store_frame(store).assign(graph=SPOOF), ig.nb.store_frame(store).set_index(pd.Index([SPOOF]))]
    for frame in frames:
        html = frame._repr_html_()
        assert not any(ch in html for ch in BIDI), html
        assert "gnp.exe" in html or len(frame) == 0
