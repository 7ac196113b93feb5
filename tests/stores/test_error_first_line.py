"""One first-line cutter for every "…: <cause>" message (``igniter_nb/_error_text.py``). Four copies of "strip,
take ``splitlines()[0]``" differed: ``unusable_url`` left ``ValueError: `` with nothing after it for a message
that says nothing, ``cannot_open`` said the type twice (``OperationalError: OperationalError``), none cut a very
long line — and a password past the cut would be half shown (it is now hidden before the cut)."""

from __future__ import annotations

import pytest

from igniter_nb._error_text import MAX_LINE, described, first_line
from igniter_nb.errors import StoreError
from igniter_nb.server.serve import _cause_text
from igniter_nb.stores.sql_compression import driver_message
from igniter_nb.stores.sql_errors import cannot_open
from igniter_nb.stores.url import unusable_url

LONG = "x" * (MAX_LINE + 100)

TABLE = [
    # message                                     first_line                     described (ValueError)
    ("", "", "ValueError"),
    ("   ", "", "ValueError"),
    ("\n\n \t\n", "", "ValueError"),
    ("boom", "boom", "ValueError: boom"),
    ("  boom  ", "boom", "ValueError: boom"),
    ("boom\nDETAIL: more\nHINT: try", "boom", "ValueError: boom"),
    ("\n\n   \n  boom  \nnext", "boom", "ValueError: boom"),
    ("\r\nboom\r\nnext", "boom", "ValueError: boom"),
    ("a\u2028b", "a", "ValueError: a"),  # every line break str.splitlines knows
    (LONG, "x" * (MAX_LINE - 1) + "…", "ValueError: " + "x" * (MAX_LINE - 1) + "…"),
    ("x" * MAX_LINE, "x" * MAX_LINE, "ValueError: " + "x" * MAX_LINE),  # exactly the limit: whole
]


@pytest.mark.parametrize(("message", "line", "said"), TABLE)
def test_the_first_line_of_a_message(message: str, line: str, said: str) -> None:
    assert first_line(message) == line
    assert described(ValueError(message)) == said
    assert described(ValueError("ignored"), message) == said  # the words of another (a wrapped driver error)


class OperationalError(Exception):
    """(A driver's error class: a real exception, named as SQLAlchemy's is.)"""

    def __init__(self, message: str, orig: BaseException | None = None) -> None:
        super().__init__(message)
        self.orig = orig


@pytest.mark.parametrize(("message", "line", "said"), TABLE)
def test_every_user_of_it_quotes_the_same_line(message: str, line: str, said: str) -> None:
    url = "postgresql://u:pw@h/db"
    said_as = said.replace("ValueError", "OperationalError")
    assert unusable_url(url, ValueError(message)).message == f"store URL '{url.replace('pw', '***')}' cannot be used: " \
                                                             f"{said}"
    assert driver_message(OperationalError("outer", ValueError(message))) == (line or "OperationalError")
    assert cannot_open("S", OperationalError("outer", ValueError(message))).message == \
        f"'S': could not open the store's tables: {said_as}"
    assert _cause_text(ValueError(message), "S", url) == said
    assert _cause_text(StoreError(f"'S': {message}"), "S", url) == (line or "StoreError")  # (the store's name: once)
    cause = StoreError("S: wrapped")
    cause.__cause__ = OperationalError("outer", ValueError(message))
    assert _cause_text(cause, "S", url) == said


def test_a_password_past_the_cut_is_hidden_not_half_shown() -> None:
    password = "s3cr3t-" + "p" * 40
    url = f"postgresql://u:{password}@h/db"
    message = "y" * (MAX_LINE - 10) + f" could not connect to {url}"
    for text in (unusable_url(url, ValueError(message)).message, _cause_text(ValueError(message), "S", url)):
        assert "s3cr" not in text and "ppp" not in text
        assert text.endswith("…")


class Unsayable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text")


def test_an_error_whose_text_cannot_be_made_is_named_by_its_type() -> None:
    """(``str(exc)`` raising inside the error report replaced the error being reported.)"""
    url = "postgresql://u:pw@h/db"
    assert first_line(Unsayable()) == "" and described(Unsayable()) == "Unsayable"
    assert unusable_url(url, Unsayable()).message.endswith("cannot be used: Unsayable")
    assert _cause_text(Unsayable(), "S", url) == "Unsayable"
    assert driver_message(OperationalError("outer", Unsayable())) == "OperationalError"
