"""Hostile-user trial: a workflow whose correlation value is a megabyte (a whole document used as the key). The
EventSimulator, its dry run and its receipt named the correlation whole in every heading and line, so each output
was a megabyte of text and HTML; a value is cut at ``h.MAX_CELL`` characters, saying how much more there is."""

from __future__ import annotations

import datetime as dt
from typing import Any

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.notebook.test_hostile_values import assert_inert

NOW = dt.datetime(2026, 1, 2, 9, 0, tzinfo=dt.UTC)
HUGE = "<b>C</b>" * 125_000  # a megabyte, with markup
OUTPUT_LIMIT = 100_000


class Keyed(ig.Contract):
    def define(c):
        c.correlate_by("order_id")
        c.input("order_id", type=str)
        c.await_event("approval", event="approved")
        c.await_event("second", event="second")
        c.output("approval")
        c.output("second")


def _assert_small(name: str, bundle: dict[str, Any]) -> None:
    for mime, part in bundle.items():
        if isinstance(part, str):
            assert len(part) < OUTPUT_LIMIT, (name, mime, len(part))
    assert "more characters" in bundle["text/plain"], name
    assert_inert(bundle["text/html"])


def test_a_megabyte_correlation_value_is_cut_in_the_simulator_and_its_reports() -> None:
    store = MemoryStore()
    correlation = {"order_id": HUGE}
    Keyed.start(correlation, store=store, now=NOW)
    sim = ig.nb.EventSimulator(Keyed, store, now=NOW)
    sim.select(correlation=correlation, event="approved", payload={"ok": True})
    _assert_small("simulator", sim._repr_mimebundle_())
    _assert_small("dry run", sim.dry_run()._repr_mimebundle_())
    sim.deliver()
    _assert_small("receipt", sim.last_delivery._repr_mimebundle_())
    sim.select(correlation={"order_id": HUGE + "x"}, event="approved", payload={})
    _assert_small("dry run of an unknown workflow", sim.dry_run()._repr_mimebundle_())
