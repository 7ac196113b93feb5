"""Hostile-user trial: values, correlation values and error messages holding math delimiters (``$5 and $6``,
``\\(x\\)``). JupyterLab, the classic notebook and ``nbconvert --to html`` typeset HTML outputs with MathJax, so
``price $5 and $6`` showed ``price`` and a formula ``5 and``: the dollars vanished. Every text of such an output
must sit inside an element MathJax skips (``tex2jax_ignore`` for MathJax 2, ``mathjax_ignore`` for 3)."""

from __future__ import annotations

import contextlib
import datetime as dt
from html.parser import HTMLParser
from typing import Any

import igniter_nb as ig
from igniter_nb.notebook import html as h
from igniter_nb.stores import MemoryStore

TYPED = "price $5 and $6 \\(x\\)"
NOW = dt.datetime(2026, 1, 2, 9, 0, tzinfo=dt.UTC)
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
IGNORED = {"tex2jax_ignore", "mathjax_ignore"}


class Priced(ig.Contract):
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


class Waiting(ig.Contract):
    def define(c):
        c.correlate_by("order_id")
        c.input("order_id", type=str)
        c.await_event("approval", event="approved")
        c.output("approval")


class _Typeset(HTMLParser):
    """The text MathJax would typeset: text with a ``$`` or ``\\(`` outside every element it is told to skip."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[bool] = []  # per open element: whether it (or one around it) is skipped
        self.typeset: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        classes = set((dict(attrs).get("class") or "").split())
        self.open.append(bool(self.open and self.open[-1]) or IGNORED <= classes)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if ("$" in data or "\\(" in data) and not (self.open and self.open[-1]):
            self.typeset.append(data)


def typeset(page: str) -> list[str]:
    parser = _Typeset()
    parser.feed(page)
    return parser.typeset


def _pages() -> dict[str, str]:
    store = MemoryStore()
    contract = Priced.start({"order_id": TYPED}, store=store, now=NOW)
    with contextlib.suppress(Exception):
        contract.resolve_all()
    execution_id = contract.execution.execution_id
    Waiting.start({"order_id": TYPED}, store=store, now=NOW)
    pages: dict[str, Any] = {
        "result": contract.result._repr_mimebundle_(),
        "diagnostics": contract.diagnostics._repr_mimebundle_(),
        "plan": contract.plan()._repr_mimebundle_(),
        "audit": contract.audit._repr_mimebundle_(),
        "store": store._repr_mimebundle_(),
        "stepper": ig.nb.SnapshotStepper(store, execution_id, graph=Priced)._repr_mimebundle_(),
        "simulator": ig.nb.EventSimulator(Waiting, store, now=NOW)._repr_mimebundle_(),
        "follow": ig.nb.Follow(execution_id, store, graph=Priced, start=False)._repr_mimebundle_(),
        "playground": ig.nb.InputPlayground(Priced(order_id=TYPED))._repr_mimebundle_(),
        "states frame": {"text/html": ig.nb.states_frame(contract)._repr_html_()},
        "store frame": {"text/html": ig.nb.store_frame(store)._repr_html_()},
    }
    return {name: bundle["text/html"] for name, bundle in pages.items()}


def test_math_delimiters_in_values_are_never_typeset():
    for name, page in _pages().items():
        assert TYPED.split()[1] in page, f"{name}: the value is not in the output"
        assert typeset(page) == [], f"{name}: MathJax would typeset {typeset(page)[:3]}"


def test_an_output_without_math_delimiters_is_written_as_before():
    """Regression guard: stored notebook outputs of ordinary values must not change."""
    page = "<table><tr><td>price 5 EUR</td></tr></table>"
    assert h.no_math(page) == page
    assert h.sendable({"text/html": page}) == {"text/html": page}
