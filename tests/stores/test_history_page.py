"""``history_page``: a page of one execution's versions, oldest first, after a version; every store (memory, file,
SQL, Redis, parquet) decodes only the versions of the page (the server's paged history route and
``ig.nb.SnapshotStepper`` read through it)."""

from __future__ import annotations

from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.errors import StoreArgumentError
from igniter_nb.stores import paging


def _versions(store: Any, count: int, eid: str = "e-1") -> None:
    version = 0
    for i in range(count):
        version = store.save({"execution_id": eid, "step": i, "pad": "x" * (600 if i % 3 == 0 else 10)},
                             expected_version=version, graph="G", correlation={"k": eid}, status="running")


def test_a_page_holds_the_versions_after_the_cursor_oldest_first(store: Any) -> None:
    _versions(store, 12)
    page = paging.history_page(store, "e-1", after_version=4, limit=5)
    assert [r.version for r in page] == [5, 6, 7, 8, 9]
    assert [r.snapshot["step"] for r in page] == [4, 5, 6, 7, 8]
    assert page[0].snapshot["pad"] == "x" * 10 and page[2].snapshot["pad"] == "x" * 600  # a packed part read back
    whole = store.history_records("e-1")
    assert [(r.version, r.snapshot, r.status) for r in paging.history_page(store, "e-1", limit=100)] == [
        (r.version, r.snapshot, r.status) for r in whole]
    assert [r.version for r in paging.history_page(store, "e-1", after_version=10, limit=5)] == [11, 12]
    assert paging.history_page(store, "e-1", after_version=12, limit=5) == []
    assert paging.history_page(store, "e-1", after_version=500, limit=5) == []


def test_an_unknown_execution_or_a_bad_argument_is_refused(store: Any) -> None:
    _versions(store, 2)
    with pytest.raises(ig.SnapshotNotFoundError):
        paging.history_page(store, "nope", limit=5)
    for bad in ({"after_version": -1, "limit": 5}, {"after_version": "3", "limit": 5}, {"limit": 0},
                {"limit": True}, {"limit": paging.MAX_LIMIT + 2}):
        with pytest.raises(StoreArgumentError):
            paging.history_page(store, "e-1", **bad)


def test_every_store_decodes_only_the_page(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _versions(store, 40)
    decoded: list[int] = []
    name = type(store).__name__
    if name == "MemoryStore":
        from igniter_nb.stores import memory

        real = memory._Version.to_record
        monkeypatch.setattr(memory._Version, "to_record", lambda self, *a, **k: decoded.append(1) or real(self, *a, **k))
    elif name in ("SQLStore", "RedisStore"):
        attr = "_record" if name == "SQLStore" else "_whole"
        real_read = getattr(store, attr)
        monkeypatch.setattr(store, attr, lambda *a, **k: decoded.append(1) or real_read(*a, **k))
    else:  # the file stores: one version file read (and decoded) per version of the page
        attr = "_read_envelope" if name == "FileStore" else "_read_file"
        real_file = getattr(store, attr)
        monkeypatch.setattr(store, attr, lambda *a, **k: decoded.append(1) or real_file(*a, **k))
    assert [r.version for r in paging.history_page(store, "e-1", after_version=30, limit=4)] == [31, 32, 33, 34]
    assert len(decoded) == 4, name
    decoded.clear()
    assert [r.version for r in store.history_page("e-1", after_version=38, limit=5)] == [39, 40]
    assert len(decoded) == 2, name
