"""A ``FileStore`` correlation index or ``latest/`` entry damaged on disk (emptied, truncated, not an object, not
UTF-8): every lookup is a ``StoreError`` naming the file, as a damaged ``current.json`` is — it was a bare
``JSONDecodeError`` or ``AttributeError`` from the lookups and from a save with that correlation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from igniter_nb.errors import StoreError
from igniter_nb.stores.file import FileStore

# What reads each folder: index/ the active owner (a save of an active execution asks it), latest/ every execution
# of a correlation (a save records itself there).
CALLS: dict[str, list[Callable[[FileStore], Any]]] = {
    "index": [lambda store: store.find_by_correlation("G", {"k": 1}),
              lambda store: store.save({"execution_id": "b"}, graph="G", correlation={"k": 1}, status="waiting")],
    "latest": [lambda store: store.find_latest_by_correlation("G", {"k": 1}),
               lambda store: store.save({"execution_id": "b"}, graph="G", correlation={"k": 1}, status="succeeded")],
}


@pytest.mark.parametrize("content", [b"", b'{"execution_id": "a", "gra', b"[]", b"null", b"\xff\xfe"])
@pytest.mark.parametrize("folder", ["index", "latest"])
def test_a_damaged_index_file_is_a_store_error_naming_it(tmp_path: Path, folder: str, content: bytes) -> None:
    store = FileStore(tmp_path, fsync=False)
    store.save({"execution_id": "a"}, graph="G", correlation={"k": 1}, status="waiting")
    (damaged,) = (tmp_path / folder).glob("*.json")
    damaged.write_bytes(content)
    for call in CALLS[folder]:
        with pytest.raises(StoreError, match="corrupt store file") as info:
            call(store)
        assert str(damaged) in str(info.value), str(info.value)
    assert not store.exists("b")
