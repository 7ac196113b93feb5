"""The errors ``SQLStore`` raises when the database does not do what it asked, each naming the store (its URL
without the password) and keeping the driver's exception as its ``__cause__``: a save that failed, a save that
gave up on a write lock, tables that could not be opened (a file that is not a database, a server that does not
answer). ``is_transient`` tells the failures a save tries again."""

from __future__ import annotations

from typing import Any

from igniter_nb._error_text import described
from igniter_nb.errors import StoreError
from igniter_nb.stores.sql_compression import driver_message


def is_transient(exc: BaseException) -> bool:
    """Whether another attempt may succeed: a lock held by another connection, a deadlock, a serialization failure."""
    text = str(exc).lower()
    return "database is locked" in text or "deadlock detected" in text or "could not serialize" in text


def save_failed(store: Any, execution_id: str, exc: BaseException) -> StoreError:
    return StoreError(f"{store!r}: could not save execution {execution_id!r}: {getattr(exc, 'orig', exc)}; nothing "
                      "of this save was written", execution_id=execution_id)


def gave_up(store: Any, execution_id: str, attempts: int, last: BaseException | None) -> StoreError:
    why = driver_message(last) if last is not None else "too many conflicting writers"
    return StoreError(f"{store!r}: could not save execution {execution_id!r} in {attempts} attempts: {why} (another "
                      "connection keeps the write lock, or too many writers conflict); nothing of this save was "
                      "written", execution_id=execution_id)


def cannot_open(store: Any, exc: BaseException) -> StoreError:
    """Not a database, a server that cannot be reached, a file that cannot be opened: say which store."""
    return StoreError(f"{store!r}: could not open the store's tables: "
                      f"{described(exc, getattr(exc, 'orig', None) or exc)}")


__all__ = ["cannot_open", "gave_up", "is_transient", "save_failed"]
