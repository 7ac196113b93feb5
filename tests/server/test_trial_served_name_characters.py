"""Served contract names holding characters no caller can see or type: ``create_app`` refused C0 control characters
and DEL, but took a C1 one (U+0080-U+009F: ``"price\\x85"``, a NEL pasted from a terminal) and the invisible ones
(a zero-width space, a bidi override, a byte order mark) — a URL naming the contract as it prints reached nothing.
Each is now a ``ValueError`` naming the name escaped, the character and its index (the set of
``workflow/lookalikes.py``: every control character, every format character, the fillers and variation selectors
that draw nothing). Two names that print alike still get the lookalike message, which names both."""

from __future__ import annotations

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from tests.server.server_contracts import Lead, Price


@pytest.mark.parametrize(("name", "said"), [
    ("price\x85", "the control character \\x85 (C1) at index 5"),
    ("\x80price", "the control character \\x80 (C1) at index 0"),
    ("pri\x9fce", "the control character \\x9f (C1) at index 3"),
    ("pri\x1bce", "the control character \\x1b (ESC) at index 3"),
    ("price\x7f", "the control character \\x7f (DEL) at index 5"),
    ("price\u200b", "the invisible character U+200B (ZERO WIDTH SPACE) at index 5"),
    ("\u202eprice", "the invisible character U+202E (RIGHT-TO-LEFT OVERRIDE) at index 0"),
    ("pri\ufeffce", "the invisible character U+FEFF (ZERO WIDTH NO-BREAK SPACE) at index 3"),
    ("le\u00adad", "the invisible character U+00AD (SOFT HYPHEN) at index 2"),
])
def test_a_name_with_a_control_or_invisible_character_is_refused_naming_it_and_where(name: str, said: str) -> None:
    with pytest.raises(ValueError) as caught:
        ig.server.create_app({name: Price}, store=MemoryStore())
    assert str(caught.value) == (f"served contract name {name!r} holds {said}: a caller could not send it as it "
                                 "prints, in a URL path; serve the contract under a name without it")


def test_a_slash_is_refused_naming_its_index() -> None:
    with pytest.raises(ValueError, match=r"served contract name 'a/b' holds '/' at index 1: it could not be used as "
                                         r"one URL path segment"):
        ig.server.create_app({"a/b": Price}, store=MemoryStore())


def test_a_lookalike_pair_is_still_named_as_such() -> None:
    with pytest.raises(ValueError, match="served contract names 'price list' and 'price\\\\u200b list' print alike"):
        ig.server.create_app({"price list": Price, "price\u200b list": Lead}, store=MemoryStore())


@pytest.mark.parametrize("name", ["café", "price list", "<lead>", "价格", "\u00a0price"])
def test_visible_unicode_names_are_served(name: str) -> None:
    app = ig.server.create_app({name: Price}, store=MemoryStore())
    assert app is not None
