"""Numbers past what a database column holds, given to any store, answer the same on every kind:
``correlations(limit=10**30)`` is a StoreArgumentError naming the limit (it raised ``ValueError`` on memory,
``OverflowError`` on SQLite and parquet); ``history_page(after_version=10**30)`` is past the end, ``[]`` (an
``OverflowError`` on SQLite, PostgreSQL's ``integer out of range`` past 2**31 - 1)."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from igniter_nb.errors import SnapshotNotFoundError, StoreArgumentError

BIG = 2**63  # one past the largest 64-bit integer (SQLite INTEGER, PostgreSQL BIGINT, sys.maxsize)
VERSION = 2**31 - 1  # the largest version PostgreSQL's INTEGER column holds


@pytest.mark.parametrize("value", [BIG, 10**30])
def test_a_limit_past_64_bits_is_refused_and_a_version_past_them_is_past_the_end(store: Any, value: int) -> None:
    store.save({"execution_id": "e-1", "states": {}}, graph="G", status="waiting", correlation={"k": "v"})
    with pytest.raises(StoreArgumentError, match=r"limit must be at most 9223372036854775807"):
        store.correlations("G", limit=value)
    assert store.history_page("e-1", after_version=value, limit=5) == []
    with pytest.raises(SnapshotNotFoundError):
        store.history_page("nope", after_version=value, limit=5)
    assert store.fetch("e-1") == {"execution_id": "e-1", "states": {}}


def test_the_largest_64_bit_limit_and_version_still_work(store: Any) -> None:
    store.save({"execution_id": "e-1", "states": {}}, graph="G", status="waiting", correlation={"k": "v"})
    assert store.correlations("G", limit=sys.maxsize) == [("e-1", {"k": "v"})]
    assert store.history_page("e-1", after_version=VERSION, limit=5) == []
    assert store.history_page("e-1", after_version=VERSION + 1, limit=5) == []
