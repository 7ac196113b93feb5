"""docs/server.md shows what the server really answers: its examples are re-run against the real app."""

from __future__ import annotations

from tests.server.docs_examples import EXAMPLES, documented, normalise, render


def test_docs_server_examples_are_what_the_app_answers() -> None:
    shown = documented()
    assert set(shown) == {name for name, *_ in EXAMPLES}
    fresh = render()
    stale = [name for name in fresh if normalise(fresh[name]) != normalise(shown[name])]
    assert stale == [], (f"docs/server.md examples differ from the app's answers: {stale}; "
                         "run `PYTHONPATH=. python tests/server/docs_examples.py` and check the diff")
