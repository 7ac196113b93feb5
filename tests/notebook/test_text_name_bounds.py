"""The notebook's plain text of a result and of a contract instance cuts a huge node name as the HTML headings cut
a title (``_shown_text.shown_name``): a node name is an identifier of any length, and a 1 MB name made a 1 MB line
of ``text/plain``. Names of ordinary length read exactly as before (the stored notebook outputs compare them)."""

from __future__ import annotations

import igniter_nb as ig
from igniter_nb.notebook.reprs import contract_text, result_mimebundle

HUGE = "n" * 1_000_000
CUT = f"{'n' * 199} … (999,801 more characters)"


def _huge_names(c):
    c.input(HUGE, default=1)
    c.await_event("w" * 1_000_000, event="e" * 1_000_000)
    c.compute("double", depends_on=[HUGE], call=lambda **kw: 2 * kw[HUGE])
    c.output("double")
    c.output(HUGE)


def test_a_result_text_cuts_a_megabyte_output_name():
    contract = ig.contract(_huge_names, name="HugeNames")()
    text = result_mimebundle(contract.result)["text/plain"]
    assert max(len(line) for line in text.splitlines()) < 3_000
    assert f"  {CUT} [succeeded] = 1" in text.splitlines()


def test_a_contract_text_cuts_a_megabyte_node_and_event_name():
    contract = ig.contract(_huge_names, name="HugeNames")()
    text = contract_text(contract)
    assert len(text) < 10_000
    assert CUT in text


def test_ordinary_names_read_as_before():
    def define(c):
        c.input("a", default=1)
        c.compute("b", depends_on=["a"], call=lambda a: a + 1)
        c.output("b")

    contract = ig.contract(define, name="Small")()
    assert result_mimebundle(contract.result)["text/plain"] == "Result Small succeeded\n  b [succeeded] = 2"
