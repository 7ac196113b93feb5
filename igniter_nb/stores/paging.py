"""Paged listing of a store's executions: the order, the cursor, and the fallback for stores without an index.

``store.list_page(graph=None, status=None, *, limit, after=None) -> (records, next_cursor)`` answers the latest
records **most recently saved first**, ordered by ``(updated_at, execution_id)`` descending — ``list()``'s order
reversed. ``after`` is the ``next_cursor`` of the previous page (None: the first page); ``next_cursor`` is None on
the last page. The cursor is the *key* of the last record of the page, not a position, so a page never repeats
or skips a record because others were saved or deleted meanwhile: a page holds the records whose key is below the
cursor. An execution saved while a client pages gets a newer key: it moves before the cursor (a client that
started earlier does not see it again, and does not see it at all if it had not reached it yet — start over, or
follow the store's change feed, to see every change). ``store.count(graph=None, status=None)`` is the number of
records ``list()`` would answer.

Every store of this package reads only about ``limit`` records per page (see each store's ``list_page``) and decodes
exactly the page's snapshots: the one record past the page that says whether another follows is never decoded.
:func:`list_page` and :func:`count` call a store's own method when it has one and fall back to ``list()`` for a
store that does not (a third-party store written against the protocol before paging existed).
"""

from __future__ import annotations

import base64
import binascii
import builtins
import datetime as dt
import heapq
from collections.abc import Iterable, Sequence
from typing import Any

from igniter_nb.errors import StoreArgumentError

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_LIMIT = 100_000
"""The largest ``limit`` a page may ask for (the HTTP route allows 1000)."""

Key = tuple[dt.datetime, str]


def micros(when: dt.datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact: the stores keep microseconds)."""
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=value)


def encode_cursor(updated_at: dt.datetime, execution_id: str) -> str:
    """The opaque cursor after a record with this key: URL-safe text, no padding."""
    raw = f"{micros(updated_at)}:{execution_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: Any) -> Key:
    """The ``(updated_at, execution_id)`` key a cursor stands for; ``StoreArgumentError`` for anything that is not
    a cursor a store answered."""
    from igniter_nb.stores.base import check_execution_id

    if not isinstance(cursor, str) or not cursor or len(cursor) > 400:
        raise StoreArgumentError(f"cursor must be the next_cursor text of a previous page, got {cursor!r:.80}")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        stamp, _, execution_id = text.partition(":")
        if not stamp.isdigit() or len(stamp) > 17:
            raise ValueError(stamp)
        check_execution_id(execution_id)
        return from_micros(int(stamp)), execution_id
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise StoreArgumentError(f"invalid cursor {cursor[:80]!r}: pass the next_cursor of a previous page "
                                 "unchanged", cursor=cursor[:80]) from None


def check_page(graph: Any, status: Any, limit: Any, after: Any) -> Key | None:
    """Validate ``list_page`` arguments; returns the decoded cursor (None on the first page)."""
    from igniter_nb.stores.base import check_filters

    check_filters(graph, status)
    if type(limit) is not int or not 1 <= limit <= MAX_LIMIT:
        raise StoreArgumentError(f"limit must be an int from 1 to {MAX_LIMIT}, got {limit!r:.80}")
    return None if after is None else decode_cursor(after)


def key_of(record: Any) -> Key:
    return record.updated_at, record.execution_id


def page_of(records: Iterable[Any], limit: int, after: Key | None) -> tuple[builtins.list[Any], str | None]:
    """The page of ``records`` (any order) below ``after``, newest first, and the cursor after it.

    ``heapq.nlargest``: O(n log limit) comparisons for n records, no full sort."""
    below = records if after is None else (r for r in records if key_of(r) < after)
    chosen = heapq.nlargest(limit + 1, below, key=key_of)
    return finish(chosen, limit)


def finish(chosen: builtins.list[Any], limit: int) -> tuple[builtins.list[Any], str | None]:
    """``chosen``: up to ``limit + 1`` records newest first; the page and its next cursor."""
    if len(chosen) <= limit:
        return chosen, None
    page = chosen[:limit]
    return page, encode_cursor(*key_of(page[-1]))


def cut(records: builtins.list[Any], limit: int, more: bool) -> tuple[builtins.list[Any], str | None]:
    """The page ``records`` (at most ``limit``, newest first) and its next cursor: None unless ``more`` (the store
    found a record past the page, read without decoding its snapshot)."""
    return records, encode_cursor(*key_of(records[-1])) if more and records else None


def decode_page(chosen: Sequence[Any], limit: int,
                decode: Any) -> tuple[builtins.list[Any], str | None]:
    """``chosen``: up to ``limit + 1`` stored items newest first; the page of the first ``limit`` of them decoded
    by ``decode`` — the one past the page only says whether another page follows, it is never decoded."""
    return cut([decode(item) for item in chosen[:limit]], limit, len(chosen) > limit)


def list_page(store: Any, graph: str | None = None, status: str | None = None, *, limit: int,
              after: str | None = None) -> tuple[builtins.list[Any], str | None]:
    """``store.list_page(...)``, or the same page cut from ``store.list(...)`` for a store without it."""
    own = getattr(store, "list_page", None)
    if own is not None:
        return own(graph, status, limit=limit, after=after)  # type: ignore[no-any-return]
    return fallback_page(store, graph, status, limit=limit, after=after)


def fallback_page(store: Any, graph: str | None, status: str | None, *, limit: int,
                  after: str | None) -> tuple[builtins.list[Any], str | None]:
    """The page cut from ``store.list(graph, status)`` (which reads every record); internal records left out as the
    stores of this package do, should a third-party store's ``list`` answer them."""
    key = check_page(graph, status, limit, after)
    return page_of(_listed(store.list(graph, status), graph), limit, key)


def count(store: Any, graph: str | None = None, status: str | None = None) -> int:
    """``store.count(...)``, or the records of ``store.list(...)`` counted (internal ones left out) for a store
    without it."""
    own = getattr(store, "count", None)
    if own is not None:
        return int(own(graph, status))
    return len(_listed(store.list(graph, status), graph))


def _listed(records: Iterable[Any], graph: str | None) -> builtins.list[Any]:
    from igniter_nb.stores.rules import listed

    return [r for r in records if listed(getattr(r, "graph", None), graph)]


def check_history_page(after_version: Any, limit: Any) -> None:
    """Validate ``history_page`` arguments (``StoreArgumentError`` naming the bad one)."""
    if type(after_version) is not int or after_version < 0:
        raise StoreArgumentError(f"after_version must be an int >= 0, got {after_version!r:.80}")
    if type(limit) is not int or not 1 <= limit <= MAX_LIMIT + 1:  # (+1: a page of MAX_LIMIT and its look-ahead)
        raise StoreArgumentError(f"limit must be an int from 1 to {MAX_LIMIT + 1}, got {limit!r:.80}")


def history_page(store: Any, execution_id: str, *, after_version: int = 0, limit: int) -> builtins.list[Any]:
    """Versions of one execution after ``after_version``, oldest first, at most ``limit`` of them (an empty list
    past the last one; ``SnapshotNotFoundError`` for an execution with no version at all).

    ``store.history_page(...)`` when the store has it (memory, SQL and Redis decode only the versions of the page),
    else the page cut from ``store.history_records(...)``, which reads and decodes every version."""
    check_history_page(after_version, limit)
    own = getattr(store, "history_page", None)
    if own is not None:
        return own(execution_id, after_version=after_version, limit=limit)  # type: ignore[no-any-return]
    return [r for r in store.history_records(execution_id) if r.version > after_version][:limit]


__all__ = ["MAX_LIMIT", "check_history_page", "check_page", "count", "cut", "decode_cursor", "decode_page",
           "encode_cursor",
           "fallback_page", "history_page", "list_page", "page_of"]
