"""Hostile-user trial: awaited events whose long names share a prefix stay distinguishable in a picture.

The await's ``awaits: <event>`` line and its instance line ``waiting for event <event>`` were cut at the end, so
60 awaits of ``event_eeee…_0`` … ``event_eeee…_59`` were 60 boxes reading the same event. Event names are now cut
in the middle like node names (``event_eeee…eeee_12``); the plan and diagnostics tables hold the whole name."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

import igniter_nb as ig
from igniter_nb.notebook.render import render_graph
from igniter_nb.stores import MemoryStore

PREFIX = "customer_onboarding_" + "e" * 130


class ManyAwaits(ig.Contract):
    def define(c):
        c.correlate_by("rid")
        c.input("rid")
        for i in range(3):
            c.await_event(f"wait_{i}", event=f"{PREFIX}_step_{i}")
        c.compute("done", depends_on=[f"wait_{i}" for i in range(3)], call=lambda **kw: 1)
        c.output("done")


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [" ".join("".join(el.itertext()).split()) for el in root.iter() if el.tag.endswith("}text")]


@pytest.mark.parametrize("engine", ["python", "dot"])
def test_long_event_names_keep_their_distinguishing_end(engine):
    workflow = ManyAwaits.start({"rid": "r1"}, store=MemoryStore())
    for svg, instance in ((render_graph(ManyAwaits.compiled_graph(), engine=engine), False),
                          (render_graph(ManyAwaits.compiled_graph(), states=workflow, engine=engine), True)):
        texts = _texts(svg)
        for i in range(3):
            assert any(t.startswith("awaits: customer_onboarding_") and t.endswith(f"_step_{i}") for t in texts), texts
        if instance:
            for i in range(3):
                assert any(re.fullmatch(rf"waiting for event customer_onboarding_e*…e*_step_{i}", t) for t in texts)
