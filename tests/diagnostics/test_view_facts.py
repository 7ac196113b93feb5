"""``diagnostics/view_facts``: the error line a picture shows is the shared first line (``_error_text.first_line``:
cut at 500 characters), and an error whose text cannot be read still draws, with a placeholder saying so."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from diagnostics_contracts import PriceContract

from igniter_nb._error_text import MAX_LINE
from igniter_nb.diagnostics.view import graph_view
from igniter_nb.diagnostics.view_facts import facts_of


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text for you")


class MessageRaises(Exception):
    @property
    def message(self) -> str:
        raise KeyError("message")


@dataclass
class State:
    status: str
    error: Any = None


def test_a_long_error_line_is_cut_as_every_quoted_cause_is() -> None:
    long = "x" * 10_000
    for facts in (facts_of(State("failed", ValueError(long))),
                  facts_of({"status": "failed", "error_type": "ValueError", "error": long})):
        assert facts.error is not None and len(facts.error) == MAX_LINE and facts.error.endswith("…")
    assert facts_of(State("failed", ValueError("\n\n  second  \nthird"))).error == "second"


def test_no_text_is_still_none() -> None:
    for empty in ("", "  \n\t", None):
        assert facts_of({"status": "failed", "error_type": "ValueError", "error": empty}).error is None
    assert facts_of(State("failed", ValueError())).error is None
    assert facts_of(State("succeeded")).error is None


def test_an_error_whose_text_cannot_be_read_gets_a_placeholder() -> None:
    for error in (Unprintable(), MessageRaises()):
        facts = facts_of(State("failed", error))
        assert facts.error_type == type(error).__name__
        assert facts.error == f"<{type(error).__name__}: its message cannot be read>"
    mapped = facts_of({"status": "failed", "error_type": "Unprintable", "error": Unprintable()})
    assert mapped.error == "<Unprintable: its message cannot be read>"


def test_the_picture_draws_a_node_whose_error_cannot_be_read() -> None:
    view = graph_view(PriceContract.compiled_graph(),
                      states={"gross_total": {"status": "failed", "error_type": "Unprintable", "error": Unprintable()},
                              "vat_rate": {"status": "failed", "error_type": "ValueError", "error": "<b>" * 5000}})
    labels = {n.name: n.label for n in view.nodes}
    assert "<Unprintable: its message cannot be read>" in labels["gross_total"]
    assert any(line.startswith("<b><b>") and line.endswith("…") for line in labels["vat_rate"])


def test_explanations_and_state_views_show_an_unreadable_error_instead_of_raising() -> None:
    """The runtime wraps a node's exception in a ResolutionError whose text is always readable; a state built
    otherwise (an extension's, a test's) may hold any exception: explain and the states view show a placeholder."""
    from igniter_nb._error_text import shown_text
    from igniter_nb.diagnostics.explain import _state_fields
    from igniter_nb.runtime.states import NodeState
    from igniter_nb.runtime.status import Status

    state = NodeState("gross_total", Status.FAILED, error=Unprintable())
    assert _state_fields(state)["error"] == "<Unprintable: its message cannot be read>"
    assert shown_text(ValueError("line 1\nline 2")) == "line 1\nline 2"  # shown whole, not cut to a line
    assert shown_text(Unprintable()) == "<Unprintable: its message cannot be read>"
