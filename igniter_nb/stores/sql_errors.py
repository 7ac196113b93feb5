"""The errors ``SQLStore`` raises when the database does not do what it asked, each naming the store (its URL
without the password) and keeping the driver's exception as its ``__cause__``: a save that failed, a save that
gave up on a write lock, tables that could not be opened (a file that is not a database, a server that does not
answer). ``is_transient`` tells the failures a save tries again."""

from __future__ import annotations

from typing import Any

from igniter_nb._error_text import described, text_of
from igniter_nb.errors import StoreError
from igniter_nb.settings import redacted_line
from igniter_nb.stores.sql_compression import driver_message


def is_transient(exc: BaseException) -> bool:
    """Whether another attempt may succeed: a lock held by another connection, a deadlock, a serialization failure."""
    text = str(exc).lower()
    return "database is locked" in text or "deadlock detected" in text or "could not serialize" in text


def _url(store: Any) -> str | None:
    """The store's URL with its password (to find that password in a driver's message), or None."""
    try:
        return str(store.engine.url.render_as_string(hide_password=False))
    except Exception:  # not an SQLStore (a test's stand-in), or no engine: only URLs in the text are hidden
        return None


def _driver_said(store: Any, exc: BaseException) -> str:
    """``Type: first line`` of what the driver said (a SQLAlchemy error's ``orig``), passwords hidden."""
    return described(exc, redacted_line(text_of(getattr(exc, "orig", None) or exc), _url(store)))


def save_failed(store: Any, execution_id: str, exc: BaseException) -> StoreError:
    """One line (a PostgreSQL error's ``DETAIL:``/``HINT:`` lines and a driver's long text stay in ``__cause__``,
    which the caller sets to ``exc``)."""
    return StoreError(f"{store!r}: could not save execution {execution_id!r}: {_driver_said(store, exc)}; nothing "
                      "of this save was written", execution_id=execution_id)


def connection_lost(store: Any, execution_id: str, exc: BaseException) -> StoreError:
    """The connection was lost while the save was sent or answered: the server may have committed it before
    (PostgreSQL ends a session after its commit, while it waits to report it), so nothing is said to be unwritten."""
    return StoreError(f"{store!r}: could not save execution {execution_id!r}: the connection to the database was lost "
                      f"({_driver_said(store, exc)}); the save may have been written before: read the execution again, "
                      "or retry a delivery with the same idempotency key (one already applied is answered unchanged)",
                      execution_id=execution_id)


def gave_up(store: Any, execution_id: str, attempts: int, last: BaseException | None) -> StoreError:
    why = redacted_line(driver_message(last), _url(store)) if last is not None else "too many conflicting writers"
    return StoreError(f"{store!r}: could not save execution {execution_id!r} in {attempts} attempts: {why} (another "
                      "connection keeps the write lock, or too many writers conflict); nothing of this save was "
                      "written", execution_id=execution_id)


def cannot_open(store: Any, exc: BaseException) -> StoreError:
    """Not a database, a server that cannot be reached, a file that cannot be opened: say which store."""
    return StoreError(f"{store!r}: could not open the store's tables: {_driver_said(store, exc)}")


__all__ = ["cannot_open", "connection_lost", "gave_up", "is_transient", "save_failed"]
