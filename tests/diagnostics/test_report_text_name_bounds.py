"""``Report.to_text`` (and ``to_markdown``) cut a huge node name as the notebook headings cut a title, and list what
an execution waits on as the report lists its errors (``LISTED_ITEMS``, then how many more): a 1 MB node name made
a 1 MB line, and 3,000 awaits one line naming them all."""

from __future__ import annotations

import igniter_nb as ig

HUGE = "n" * 1_000_000
CUT = f"{'n' * 199} … (999,801 more characters)"


def _failing(c):
    c.input(HUGE, default=1)

    def boom(**kw):
        raise ValueError("no")

    c.compute("f" * 1_000_000, depends_on=[HUGE], call=boom)
    c.output("f" * 1_000_000)
    c.output(HUGE)


def _many_awaits(c):
    c.correlate_by("k")
    c.input("k", type=str)
    for i in range(300):
        c.await_event(f"w{i}", event=f"e{i}")
        c.output(f"w{i}")


def test_a_report_cuts_a_megabyte_node_name():
    contract = ig.contract(_failing, name="HugeNames")()
    report = contract.diagnostics
    text = report.to_text()
    assert max(len(line) for line in text.splitlines()) < 10_000
    assert CUT in text
    assert max(len(line) for line in report.to_markdown().splitlines()) < 10_000


def test_a_report_lists_a_bounded_number_of_awaits():
    contract = ig.contract(_many_awaits, name="ManyAwaits")(k="a")
    text = contract.diagnostics.to_text()
    waiting = [line for line in text.splitlines() if line.startswith("Waiting On: ")]
    assert waiting and waiting[0].endswith(", … 280 more") and len(waiting[0]) < 1_000
