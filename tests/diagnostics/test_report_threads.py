"""A report built while a threads run's workers record nodes describes one moment. Its sections iterated the live
states: a sibling finishing meanwhile raised "dictionary changed size during iteration", which ``_guarded``
swallowed, so that section quietly showed its default (no collection nodes, no errors, ...).

Deterministic: node ``r`` builds the report of its own contract; while the report reads node ``h``'s value (a
collection-like object whose ``summary`` is the hook), the hook lets sibling ``s`` finish and waits until ``t``,
computed from ``s``, runs, so the states grew in the middle of the report. Every wait is bounded."""

from __future__ import annotations

import threading
from typing import Any

import igniter_nb as ig
from igniter_nb.diagnostics.report import Report

WAIT = 5.0


def test_a_report_built_by_a_node_while_siblings_finish_keeps_every_section() -> None:
    reading, recorded = threading.Event(), threading.Event()
    held: dict[str, Any] = {}

    class Hooked:
        """Looks like a collection result to the report; reading its summary on the reporting thread, once, lets
        the sibling finish and waits until a node computed from it runs."""

        failed_items: dict[str, Any] = {}

        @property
        def summary(self) -> dict[str, Any]:
            if threading.get_ident() == held.get("reporter") and not reading.is_set():
                held["before"] = len(held["contract"].execution.states)
                reading.set()
                recorded.wait(WAIT)
                held["after"] = len(held["contract"].execution.states)
            return {"mode": "collect", "total": 0, "succeeded": 0, "failed": 0, "pending": 0, "status": "succeeded"}

    def report(h: Any) -> str:
        held["reporter"] = threading.get_ident()
        held["report"] = Report(held["contract"])
        return "reported"

    def sibling(x: int) -> int:
        reading.wait(WAIT)
        return x + 1

    def after(s: int) -> int:
        recorded.set()  # (s is recorded: t reads its value)
        return s + 1

    @ig.contract
    def Reporting(c):
        c.input("x", type="integer")
        c.compute("h", call=lambda x: Hooked())
        c.compute("r", call=report)
        c.compute("s", call=sibling)
        c.compute("t", call=after)
        c.output("r")
        c.output("t")

    contract = Reporting(x=1, runner="threads", max_workers=4)
    held["contract"] = contract
    assert str(contract.status) == "succeeded"
    assert reading.is_set() and recorded.is_set()
    assert held["after"] > held["before"]  # the states grew while the report read them
    data = held["report"].to_dict()
    assert [c["node"] for c in data["collection_nodes"]] == ["h"]  # was [] (the section's default)
    assert data["nodes"]["total"] == held["before"]  # every section: the nodes as the report started
    assert data["nodes"]["succeeded"] == held["before"]
    assert data["status"] == "succeeded"


def test_a_stored_event_log_that_cannot_be_read_still_makes_a_report() -> None:
    """(Reading the log is where a restored execution decodes it: copying it for the report must not raise.)"""
    from igniter_nb.runtime.restore import restore_contract

    @ig.contract
    def Plus(c):
        c.input("x", type="integer")
        c.compute("y", call=lambda x: x + 1)
        c.output("y")

    contract = Plus(x=1)
    assert contract.result.y == 2
    snapshot = contract.snapshot()
    snapshot["events"][1] = {"seq": "not a number"}
    report = restore_contract(Plus, snapshot).diagnostics
    assert report["status"] == "succeeded"
    assert report["events"] == {"total": 0, "latest_type": None, "latest_at": None, "by_type": {}}
    assert report["nodes"]["total"] == 2 and report["outputs"] == {"y": 2}
