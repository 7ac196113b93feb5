"""scripts/griffe_docstrings.py: the site's Markdown form of our reStructuredText-flavoured docstrings."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from griffe_docstrings import to_markdown


def test_doctest_lines_become_a_fenced_block_after_a_blank_line() -> None:
    text = "A contract.\n>>> Price(total=100).result.gross\n120.0\n\nAfter."
    assert to_markdown(text) == "A contract.\n\n```pycon\n>>> Price(total=100).result.gross\n120.0\n```\n\nAfter."


def test_literal_block_after_double_colon_is_fenced_and_keeps_its_indentation() -> None:
    text = "Layout under ``root``::\n\n    executions/<id>/   one folder\n      current.json\n\nEvery file is fsynced."
    assert to_markdown(text) == (
        "Layout under ``root``:\n\n```\nexecutions/<id>/   one folder\n  current.json\n```\n\nEvery file is fsynced."
    )


def test_roles_become_code_and_guide_pages_become_links() -> None:
    text = "Raises :class:`~igniter_nb.errors.SnapshotEncodingError`. See ``docs/snapshots.md`` or docs/stores.md."
    assert to_markdown(text) == (
        "Raises `SnapshotEncodingError`. See [snapshots](../snapshots.md) or [stores](../stores.md)."
    )


def test_text_without_rest_markup_is_unchanged() -> None:
    text = "Plain words, ``code``, a list:\n\n- one\n- two"
    assert to_markdown(text) == text
