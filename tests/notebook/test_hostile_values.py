"""Hostile-user trial of the notebook output of values: a node value whose ``repr`` raises (with markup in its
message) or returns something that is not text, one nested 10,000 levels deep, one that contains itself, a
10 MB string and a 200,000-element list. A repr must never raise (IPython then shows nothing at all), never put
live markup in the page, and never put megabytes in the output."""

from __future__ import annotations

import contextlib
from html.parser import HTMLParser
from typing import Any

import pytest

import igniter_nb as ig

SCRIPT = "<script>alert(1)</script><img src=x onerror=alert(2)>"


class RaisingRepr:
    def __repr__(self) -> str:
        raise RuntimeError(SCRIPT)

    __str__ = __repr__


class NotTextRepr:
    def __repr__(self) -> Any:
        return 42


def _deep(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels):
        value = [value]
    return value


def _itself() -> list[Any]:
    value: list[Any] = []
    value.append(value)
    return value


HOSTILE: dict[str, Any] = {
    "repr raises": RaisingRepr,
    "repr not text": NotTextRepr,
    "10,000 levels deep": lambda: _deep(10_000),
    "contains itself": _itself,
}
BIG: dict[str, Any] = {
    "10 MB string": lambda: "A" * 10_000_000,
    "200,000 items": lambda: list(range(200_000)),
}
OUTPUT_LIMIT = 200_000
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"  # characters of one output part: far less than the values above


class Holder(ig.Contract):
    def define(c):
        c.input("x")
        c.input("n", type=int, default=1)

        @c.compute
        def echo(x, n):
            return x

        c.output("echo")


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def assert_inert(page: str) -> None:
    """No element or attribute a value could have brought (the graph picture is an inline SVG of shapes and text):
    no script, image, frame or object; no event handler
    or ``javascript:`` URL."""
    parser = _Elements()
    parser.feed(page)
    for tag, attrs in parser.found:
        assert tag not in ("script", "img", "iframe", "object", "embed", "foreignobject", "image", "use"), (tag, attrs)
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert "javascript:" not in (value or ""), (tag, name, value)


def _holding(value: Any) -> Holder:
    contract = Holder(x=value)
    with contextlib.suppress(Exception):
        contract.resolve_all()
    return contract


def _bundles(contract: Holder) -> dict[str, dict[str, Any]]:
    playground = ig.nb.InputPlayground(contract)._repr_mimebundle_()
    playground.pop(WIDGET_MIME, None)  # (a new widget model id each time)
    return {"result": contract.result._repr_mimebundle_(),
            "playground": playground,
            "states frame": {"text/html": ig.nb.states_frame(contract)._repr_html_()}}


@pytest.mark.parametrize("make", HOSTILE.values(), ids=list(HOSTILE))
def test_a_value_that_cannot_be_shown_plainly_still_gives_the_whole_output(make: Any) -> None:
    """A node value whose repr raised (or was not text, or nested past the recursion limit) made the result's
    repr, the InputPlayground's repr and ``states_frame`` raise: the notebook showed nothing, not even the
    other outputs."""
    contract = _holding(make())
    bundles = _bundles(contract)
    for name, bundle in bundles.items():
        page = bundle["text/html"]
        assert "echo" in page, name
        assert_inert(page)
    assert "echo" in bundles["result"]["text/plain"]
    assert bundles == _bundles(contract)  # deterministic: nbval compares stored outputs


def test_a_value_whose_repr_raises_is_named_as_such() -> None:
    page = _holding(RaisingRepr()).result._repr_mimebundle_()["text/html"]
    assert "RaisingRepr (repr failed)" in page


@pytest.mark.parametrize("make", BIG.values(), ids=list(BIG))
def test_a_huge_value_is_cut_with_a_visible_marker(make: Any) -> None:
    """Regression guard (a real risk: a result cell holding a whole dataset): every part of the output stays
    small and says how much it leaves out."""
    bundles = _bundles(_holding(make()))
    for name, bundle in bundles.items():
        for mime, part in bundle.items():
            if isinstance(part, str):
                assert len(part) < OUTPUT_LIMIT, (name, mime, len(part))
    assert "more characters" in bundles["result"]["text/html"]


@pytest.mark.parametrize("make", HOSTILE.values(), ids=list(HOSTILE))
def test_the_playground_widget_is_built_for_an_input_json_cannot_hold(make: Any) -> None:
    """The JSON text box of such an input raised while the widget was built: ``playground.widget`` raised, and its
    output lost the widget (only the static view was left)."""
    playground = ig.nb.InputPlayground(_holding(make()))
    assert playground.widget is not None
    assert WIDGET_MIME in playground._repr_mimebundle_()
