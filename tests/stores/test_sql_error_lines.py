"""``SQLStore``'s save errors quote the driver's message as one line, passwords hidden. ``save_failed`` quoted the
whole message, every line, uncut (a PostgreSQL error's ``DETAIL:``/``HINT:`` lines, a driver's long text, a URL
with its password); the whole stays reachable as ``__cause__``. The driver errors are real exceptions shaped as
SQLAlchemy's (``orig``: the DBAPI error), as in tests/stores/test_error_first_line.py; the store a real one."""

from __future__ import annotations

from pathlib import Path

import pytest

from igniter_nb._error_text import MAX_LINE
from igniter_nb.stores.sql import SQLStore
from igniter_nb.stores.sql_errors import cannot_open, gave_up, save_failed


class OperationalError(Exception):
    """(A SQLAlchemy-shaped error: its own text, and the DBAPI error in ``orig``.)"""

    def __init__(self, message: str, orig: BaseException) -> None:
        super().__init__(message)
        self.orig = orig


PG = "postgresql://app:s3cr3t-pw@127.0.0.1:1/db"
SAID = ("could not write: see postgresql://ops:0ther-pw@10.0.0.2/db and the store postgresql://app:s3cr3t-pw@"
        "127.0.0.1:1/db (pw s3cr3t-pw)\nDETAIL: Key (id)=(x) line two\nHINT: line three")


@pytest.fixture
def pg_store() -> SQLStore:
    """A real store object (its engine connects only when used: nothing listens on port 1)."""
    return SQLStore(PG)


def test_save_failed_is_one_line_with_every_password_hidden(pg_store: SQLStore) -> None:
    driver = ValueError(SAID)
    err = save_failed(pg_store, "e1", OperationalError("[SQL: ...]\n[parameters: ...]", driver))
    assert err.message == (f"{pg_store!r}: could not save execution 'e1': OperationalError: could not write: see "
                           "postgresql://ops:***@10.0.0.2/db and the store postgresql://app:***@127.0.0.1:1/db (pw ***); "
                           "nothing of this save was written")
    assert "\n" not in str(err) and "s3cr3t" not in str(err) and "0ther" not in str(err)


def test_save_failed_cuts_a_very_long_line(pg_store: SQLStore) -> None:
    err = save_failed(pg_store, "e1", OperationalError("outer", ValueError("y" * 100_000 + "\nnext")))
    assert err.message.endswith(f": OperationalError: {'y' * (MAX_LINE - 1)}…; nothing of this save was written")


def test_gave_up_and_cannot_open_hide_the_password_too(pg_store: SQLStore) -> None:
    driver = OperationalError("outer", ValueError(SAID))
    for err in (gave_up(pg_store, "e1", 5, driver), cannot_open(pg_store, driver)):
        assert "\n" not in err.message and "s3cr3t" not in err.message and "0ther" not in err.message, err.message
        assert "postgresql://app:***@127.0.0.1:1/db" in err.message


def test_a_real_failed_save_keeps_the_driver_error_as_its_cause(tmp_path: Path) -> None:
    """A real SQLite save that cannot be written (a read-only database): the message is one line, the driver's
    error is the cause, and nothing was written."""
    import sqlite3

    import igniter_nb as ig
    from igniter_nb.errors import StoreError

    path = tmp_path / "ro.db"
    store = SQLStore(f"sqlite:///{path}")

    @ig.contract
    def Plus(c):
        c.input("x", type="integer")
        c.compute("y", call=lambda x: x + 1)
        c.output("y")

    first = Plus(x=1)
    assert first.result.y == 2
    store.save(first.snapshot(), graph="Plus")
    store.close()
    readonly = SQLStore(f"sqlite:///file:{path}?mode=ro&uri=true")
    second = Plus(x=2)
    assert second.result.y == 3
    try:
        with pytest.raises(StoreError) as caught:
            readonly.save(second.snapshot(), graph="Plus")
    finally:
        readonly.close()
    err = caught.value
    assert "could not save execution" in err.message and "\n" not in err.message, err.message
    assert err.message.endswith("; nothing of this save was written")
    assert isinstance(err.__cause__, Exception) and isinstance(getattr(err.__cause__, "orig", None), sqlite3.Error)
    assert len(SQLStore(f"sqlite:///{path}").list()) == 1
