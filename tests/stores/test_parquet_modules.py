"""``stores/parquet.py`` in four files — the store; one version's file (``parquet_files.py``: columns, the atomic
write, the read); the sidecar index (``parquet_index.py``: tables, queries); ``export_parquet``
(``parquet_export.py``) — with every name still importable from ``igniter_nb.stores.parquet``, and a version file
read back as it was written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from igniter_nb.errors import StoreError
from igniter_nb.stores.base import StoredExecution

MOVED_TO_INDEX = {"_FIND_LATEST": "FIND_LATEST", "_ACTIVE_CORRELATIONS": "ACTIVE_CORRELATIONS",
                  "_ALL_CORRELATIONS": "ALL_CORRELATIONS", "_INDEX_SCHEMA": "INDEX_SCHEMA", "_filters": "filters",
                  "_key_text": "key_text", "_metadata": "metadata", "_sidecar_errors": "sidecar_errors"}


def test_every_name_stays_importable_from_the_parquet_module() -> None:
    from igniter_nb.stores import parquet, parquet_files, parquet_index
    from igniter_nb.stores.parquet import COLUMNS, ParquetStore, export_parquet

    assert ParquetStore.__module__ == "igniter_nb.stores.parquet" and callable(export_parquet)
    assert COLUMNS is parquet_files.COLUMNS == ("execution_id", "version", "saved_at", "graph", "status",
                                                "correlation", "snapshot")
    for old, new in MOVED_TO_INDEX.items():
        assert getattr(parquet, old) is getattr(parquet_index, new), old


def test_a_version_file_is_read_back_as_written(tmp_path: Path) -> None:
    from igniter_nb.stores.parquet_files import read_version, schema, write_version

    saved_at = dt.datetime(2026, 12, 4, 3, 0, 0, 123456, tzinfo=dt.UTC)
    record = StoredExecution("e-1", {}, 3, "G", None, "waiting", saved_at)
    path = tmp_path / "e-1" / "v000000003.parquet"
    write_version(path, schema(), record, '{"k":1}', '{"a":[1,2.5,"é"]}', fsync=True)
    assert read_version(path, schema(), "here") == StoredExecution("e-1", {"a": [1, 2.5, "é"]}, 3, "G", {"k": 1},
                                                                   "waiting", saved_at)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # the temporary file was renamed

    torn = tmp_path / "e-1" / "v000000004.parquet"  # a snapshot edited by hand: the error names where it was read
    write_version(torn, schema(), record, None, '{"a": [1,', fsync=False)
    with pytest.raises(StoreError, match=r"ParquetStore\('x'\), file .*v000000004.parquet: stored data is not valid"):
        read_version(torn, schema(), f"ParquetStore('x'), file {torn}")
